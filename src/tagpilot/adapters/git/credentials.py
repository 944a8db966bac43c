"""HTTP(S) credentials for git, held to the origin they were given for.

Called by :mod:`.env` while it builds an operation's environment, and by :mod:`.flow` to take
a password out of the URL.  A username and password (from the Secret, or from the URL's
userinfo) go to a 0600 file read by git's own ``credential-store`` helper: git asks it only
after a ``401`` and names the host it asks for, and the file holds one line for the exact
origin (scheme, host, port), so a redirect to another origin never receives them.  A bearer
token can only travel as an ``http.extraHeader``, which git attaches to every request after
a redirect too, so with a token redirects are not followed at all.  Secrets never reach
argv: the helper's command line names the file, not its content.
"""

from __future__ import annotations

import base64
import os
from dataclasses import replace
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from tagpilot.adapters.git.model import GitAuth

__all__ = [
    "credential_config",
    "credential_secrets",
    "guarded_origin",
    "origin",
    "url_without_credentials",
]

_DEFAULT_PORTS = {"http": 80, "https": 443}
_CREDENTIALS_FILE = "credentials"


def origin(url: str) -> str:
    """``scheme://host[:port]`` of an HTTP(S) URL, the default port left out ("" otherwise)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return ""
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        return ""
    host = parts.hostname
    netloc = f"[{host}]" if ":" in host else host
    if port and port != _DEFAULT_PORTS[parts.scheme]:
        netloc = f"{netloc}:{port}"
    return f"{parts.scheme}://{netloc}"


def guarded_origin(url: str, auth: GitAuth) -> str:
    """The origin credentials are held to, or "" when none travel over HTTP(S)."""
    has_credentials = bool(auth.bearer_token or (auth.username and auth.password))
    return origin(url) if has_credentials else ""


def url_without_credentials(url: str, auth: GitAuth) -> tuple[str, GitAuth]:
    """``url`` without userinfo, and ``auth`` with the URL's username and password added.

    Only HTTP(S) URLs carry credentials worth moving; the Secret's values win over the URL's.
    Without this, git would show the password in its argv and in the messages it prints.
    """
    parts = urlsplit(url)
    if parts.scheme not in _DEFAULT_PORTS or "@" not in parts.netloc:
        return url, auth
    userinfo, _, hostport = parts.netloc.rpartition("@")
    user, _, password = userinfo.partition(":")
    clean = urlunsplit(parts._replace(netloc=hostport))
    if auth.username or auth.password or auth.bearer_token:
        return clean, auth
    return clean, replace(auth, username=unquote(user) or None, password=unquote(password) or None)


def credential_config(private_dir: Path, auth: GitAuth, url: str) -> list[tuple[str, str]]:
    """git settings that hand ``auth``'s HTTP credentials to git for ``url``'s origin only."""
    pairs = [("credential.helper", ""), ("core.askPass", "")]
    where = origin(url)
    if not where:
        return pairs
    if auth.bearer_token:
        # git sends an extra header with every request, redirected ones included.
        return [
            *pairs,
            (f"http.{where}/.extraHeader", f"Authorization: Bearer {auth.bearer_token}"),
            ("http.followRedirects", "false"),
        ]
    if auth.username and auth.password:
        line = _store_line(where, auth.username, auth.password)
        store = private_dir / _CREDENTIALS_FILE
        _write_private_text(store, line)
        return [*pairs, ("credential.helper", f"store --file={store}")]
    return pairs


def credential_secrets(auth: GitAuth) -> list[str]:
    """Encodings of ``auth``'s password that git or its files could show."""
    if not (auth.username and auth.password):
        return []
    basic = base64.b64encode(f"{auth.username}:{auth.password}".encode()).decode()
    return [basic, quote(auth.password, safe="")]


def _store_line(where: str, username: str, password: str) -> str:
    scheme, _, hostport = where.partition("://")
    user, secret = quote(username, safe=""), quote(password, safe="")
    return f"{scheme}://{user}:{secret}@{hostport}\n"


def _write_private_text(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
