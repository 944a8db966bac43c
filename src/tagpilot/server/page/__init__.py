"""The read-only status page: overview, policy verdicts, automation history, timeline.

:mod:`~tagpilot.server.page.gather` reads the engine and store, the pure view model in
:mod:`tagpilot.core.statusview` shapes the data, :mod:`~tagpilot.server.page.html` and
:mod:`~tagpilot.server.page.svg` render it, :mod:`~tagpilot.server.page.routes` serves it.
"""
