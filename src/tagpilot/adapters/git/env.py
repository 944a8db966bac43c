"""The isolated environment every git command of one operation runs in.

Called by :mod:`.flow` (and the benchmark) once per operation.  Nothing from the user's or
the machine's git configuration leaks in (temporary ``HOME``, no system or global config,
no inherited ``GIT_*`` variables, no prompts), and secrets never reach argv or URLs: keys and
HTTP passwords go to 0600 files in a private 0700 directory that is removed afterwards (see
:mod:`.credentials` for how HTTP credentials stay with their origin), settings go through
``GIT_CONFIG_COUNT``/``KEY``/``VALUE`` environment configuration, which outranks any
repository's own config.  Hooks and fsmonitor never run, whoever put them in the mirror.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit

from tagpilot.adapters.git.credentials import (
    credential_config,
    credential_secrets,
    guarded_origin,
)
from tagpilot.adapters.git.model import GitAuth, GitAuthError

__all__ = [
    "GitEnvironment",
    "config_env",
    "is_ssh_url",
    "isolated_env",
    "unlocked_ssh_key",
    "write_private",
]

# Inherited CA variables beat ``http.sslCAInfo`` in git/curl, so they go when a CA is given.
_CA_VARIABLES = ("GIT_SSL_CAINFO", "SSL_CERT_FILE", "SSL_CERT_DIR", "CURL_CA_BUNDLE")
_DROPPED_PREFIXES = ("GIT_", "SSH_", "GNUPG", "GPG_")
_PRIVATE_PREFIX = "tagpilot-git-"
_SSH_MUX = "ssh-mux"
_SSH_MUX_IDLE_SECONDS = 10
_SSH_MUX_MAX_PATH = 80
# Program hooks: a hook or fsmonitor placed in the state directory must never run.
_NEUTRALISED = (("core.hooksPath", os.devnull), ("core.fsmonitor", "false"))


@dataclass(frozen=True)
class GitEnvironment:
    """The environment variables for git, the private directory and the secrets to redact.

    ``guarded_origin`` is the origin HTTP credentials belong to ("" when none are sent): a
    remote that redirects elsewhere is refused (see :class:`.runner.GitRunner`).
    """

    env: Mapping[str, str] = field(repr=False)
    private_dir: Path
    secrets: tuple[str, ...] = field(default=(), repr=False)
    guarded_origin: str = ""

    def with_config(self, pairs: Sequence[tuple[str, str]]) -> GitEnvironment:
        """A copy with more ``git -c`` style settings, passed through the environment."""
        existing = int(self.env.get("GIT_CONFIG_COUNT", "0"))
        env = dict(self.env)
        env.update(config_env(pairs, start=existing))
        return replace(self, env=env)

    def with_env(self, extra: Mapping[str, str]) -> GitEnvironment:
        """A copy with extra environment variables."""
        return replace(self, env={**self.env, **extra})


def config_env(pairs: Sequence[tuple[str, str]], *, start: int = 0) -> dict[str, str]:
    """``GIT_CONFIG_COUNT``/``KEY_n``/``VALUE_n`` variables for ``pairs`` after ``start`` ones."""
    env = {"GIT_CONFIG_COUNT": str(start + len(pairs))}
    for index, (key, value) in enumerate(pairs, start=start):
        env[f"GIT_CONFIG_KEY_{index}"] = key
        env[f"GIT_CONFIG_VALUE_{index}"] = value
    return env


def is_ssh_url(url: str) -> bool:
    """True for ``ssh://`` URLs and scp-like ``user@host:path`` remotes."""
    if "://" in url:
        return url.startswith(("ssh://", "git+ssh://", "ssh+git://"))
    head = url.split("/", 1)[0]
    return ":" in head


def write_private(directory: Path, name: str, data: bytes) -> Path:
    """Write ``data`` to a new 0600 file in ``directory`` and return its path."""
    path = directory / name
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    return path


def unlocked_ssh_key(
    pem: bytes, passphrase: bytes | None, *, directory: Path, name: str, what: str
) -> Path:
    """Write the private key without its passphrase to a 0600 file ``directory/name``.

    OpenSSH would prompt for the passphrase at every use; decrypting once with
    ``ssh-keygen -p`` (passphrase through ``SSH_ASKPASS``, never argv) avoids the prompt.
    """
    path = write_private(directory, name, pem if pem.endswith(b"\n") else pem + b"\n")
    if passphrase:
        _remove_passphrase(path, passphrase, what=what)
    return path


def _remove_passphrase(path: Path, passphrase: bytes, *, what: str) -> None:
    secret = write_private(path.parent, f"{path.name}.pass", passphrase)
    askpass = write_private(path.parent, f"{path.name}.askpass", _askpass_script(secret))
    askpass.chmod(0o700)
    env = {"PATH": os.environ.get("PATH", os.defpath), "SSH_ASKPASS": str(askpass),
           "SSH_ASKPASS_REQUIRE": "force", "HOME": str(path.parent)}  # fmt: skip
    try:
        done = subprocess.run(
            ["ssh-keygen", "-q", "-p", "-N", "", "-f", str(path)],
            env=env, stdin=subprocess.DEVNULL, capture_output=True, timeout=30,
            start_new_session=True, check=False,
        )  # fmt: skip
    finally:
        secret.unlink()
        askpass.unlink()
    if done.returncode != 0:
        raise GitAuthError(
            f"cannot decrypt the {what} with the given passphrase: the key or its "
            "passphrase in the Secret is wrong"
        )


def _askpass_script(secret: Path) -> bytes:
    return f"#!/bin/sh\nexec cat {shlex.quote(str(secret))}\n".encode()


@contextmanager
def isolated_env(url: str, auth: GitAuth) -> Iterator[GitEnvironment]:
    """Build the environment for operations on ``url``; remove its files on exit."""
    _remove_orphaned_private_dirs()
    private_dir = Path(tempfile.mkdtemp(prefix=f"{_PRIVATE_PREFIX}{os.getpid()}-"))
    try:
        home = private_dir / "home"
        home.mkdir(mode=0o700)
        env = _base_env(home, drop_ca=auth.ca_pem is not None)
        if is_ssh_url(url):
            env["GIT_SSH_COMMAND"] = _ssh_command(private_dir, auth, url)
        env.update(config_env([*_NEUTRALISED, *_http_config(private_dir, auth, url)]))
        yield GitEnvironment(
            env=env, private_dir=private_dir, secrets=_secret_strings(auth),
            guarded_origin=guarded_origin(url, auth),  # "" for an SSH URL
        )  # fmt: skip
    finally:
        if is_ssh_url(url):
            _close_ssh_master(private_dir)
        shutil.rmtree(private_dir, ignore_errors=True)


def _remove_orphaned_private_dirs() -> None:
    """Remove the private directories of runs whose process is gone.

    A process killed with SIGKILL cannot run its cleanup, and its directory may hold an
    unlocked SSH key; the owner's PID is part of the name, so only dead owners' go.
    """
    for path in Path(tempfile.gettempdir()).glob(f"{_PRIVATE_PREFIX}*-*"):
        owner = path.name.removeprefix(_PRIVATE_PREFIX).split("-", 1)[0]
        if owner.isdigit() and not _alive(int(owner)) and _ours(path):
            shutil.rmtree(path, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _ours(path: Path) -> bool:
    try:
        return path.lstat().st_uid == os.getuid() and path.is_dir() and not path.is_symlink()
    except OSError:
        return False


def _base_env(home: Path, *, drop_ca: bool) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_DROPPED_PREFIXES)}
    if not drop_ca and "GIT_SSL_CAINFO" in os.environ:
        env["GIT_SSL_CAINFO"] = os.environ["GIT_SSL_CAINFO"]
    for name in _CA_VARIABLES if drop_ca else ():
        env.pop(name, None)
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        LC_ALL="C",
        LANGUAGE="C",
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_TERMINAL_PROMPT="0",
        GIT_ASKPASS="",
        SSH_ASKPASS="",
    )
    return env


def _ssh_command(private_dir: Path, auth: GitAuth, url: str) -> str:
    if not auth.known_hosts or not auth.known_hosts.strip():
        raise GitAuthError(
            f"refusing to connect to {_redacted_url(url)}: the Secret has no known_hosts; "
            "add the server's host keys (keys are never trusted on first use)"
        )
    known_hosts = write_private(private_dir, "known_hosts", auth.known_hosts)
    args: list[str] = ["ssh", "-F", os.devnull]
    if auth.identity_pem:
        key = unlocked_ssh_key(
            auth.identity_pem, auth.identity_passphrase,
            directory=private_dir, name="identity", what="SSH identity",
        )  # fmt: skip
        args += ["-i", str(key)]
    args += [
        *("-o", "IdentitiesOnly=yes", "-o", f"UserKnownHostsFile={known_hosts}"),
        *("-o", f"GlobalKnownHostsFile={os.devnull}", "-o", "StrictHostKeyChecking=yes"),
        *("-o", "BatchMode=yes", "-o", "ConnectTimeout=30"),
    ]
    return shlex.join(args + _multiplexing(private_dir))


def _multiplexing(private_dir: Path) -> list[str]:
    """Options that share one SSH connection between the fetch and the push of a run.

    A handshake is most of a small run's time.  The master is closed when the run ends; the
    short idle timeout ends it anyway when a killed run cannot.  Unix socket paths are short
    (ssh adds a random suffix while creating one), so a long temp dir goes without.
    """
    socket = private_dir / _SSH_MUX
    if len(str(socket)) > _SSH_MUX_MAX_PATH:
        return []
    return [
        *("-o", "ControlMaster=auto", "-o", f"ControlPath={socket}"),
        *("-o", f"ControlPersist={_SSH_MUX_IDLE_SECONDS}"),
    ]


def _close_ssh_master(private_dir: Path) -> None:
    """Ask a shared SSH connection of this run, if one was opened, to exit."""
    socket = private_dir / _SSH_MUX
    if not socket.exists():
        return
    command = ["ssh", "-F", os.devnull, "-o", f"ControlPath={socket}", "-O", "exit", "mux"]
    subprocess.run(command, capture_output=True, timeout=10, check=False)


def _http_config(private_dir: Path, auth: GitAuth, url: str) -> list[tuple[str, str]]:
    pairs = credential_config(private_dir, auth, url)  # no credentials for an SSH URL
    if auth.ca_pem:
        pairs.append(("http.sslCAInfo", str(write_private(private_dir, "ca.crt", auth.ca_pem))))
    if auth.cert_pem and auth.key_pem:
        pairs.append(("http.sslCert", str(write_private(private_dir, "tls.crt", auth.cert_pem))))
        pairs.append(("http.sslKey", str(write_private(private_dir, "tls.key", auth.key_pem))))
    return pairs


def _secret_strings(auth: GitAuth) -> tuple[str, ...]:
    return (*auth.secrets(), *credential_secrets(auth))


def _redacted_url(url: str) -> str:
    if "://" not in url:
        return url
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return url.replace(f":{parts.password}@", ":***@", 1)
