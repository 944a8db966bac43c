"""HTTP surface of the daemon: health, metrics, webhooks and the JSON API.

``tagpilot run`` builds the app with :func:`tagpilot.server.app.build_app` and serves it
with :func:`tagpilot.server.serve.serve`; the submodules are imported directly.
"""

__all__: list[str] = []
