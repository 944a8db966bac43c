"""Start Debian's ``docker-registry`` (CNCF distribution 2.8) on loopback for tests and benches.

:func:`run_registry` is a context manager yielding a :class:`RunningRegistry`; options select
plain HTTP, htpasswd Basic auth, TLS, mTLS (client CAs) or token auth.  Configuration goes
through ``REGISTRY_*`` environment overrides on a minimal config file, storage lives in the
given directory (use ``/dev/shm`` for thousands of tags: :func:`fast_storage`).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "REGISTRY_BINARY",
    "RegistryTLS",
    "RunningRegistry",
    "TokenAuth",
    "fast_storage",
    "free_port",
    "run_registry",
    "write_htpasswd",
]

REGISTRY_BINARY = shutil.which("docker-registry") or "/usr/bin/docker-registry"
_CONFIG = "version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: /unused\nhttp:\n  addr: :0\n"


@dataclass(frozen=True)
class RegistryTLS:
    """Server certificate and key, and optionally the CA client certificates must chain to."""

    cert: Path
    key: Path
    client_ca: Path | None = None


@dataclass(frozen=True)
class TokenAuth:
    """Bearer token auth: the token service's realm and the certificate it signs with."""

    realm: str
    signing_cert: Path
    service: str = "tagpilot-test"
    issuer: str = "tagpilot-test-issuer"


@dataclass(frozen=True)
class RunningRegistry:
    """A registry process: its base URL (``http(s)://127.0.0.1:<port>``) and host:port."""

    url: str
    host: str
    log: Path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def write_htpasswd(path: Path, users: Mapping[str, str]) -> Path:
    """Write a bcrypt htpasswd file (cost 4, the cheapest the registry accepts)."""
    lines = []
    for name, password in users.items():
        result = subprocess.run(
            ["htpasswd", "-B", "-C", "4", "-n", "-b", name, password],
            check=True,
            capture_output=True,
            text=True,
        )
        lines.append(result.stdout.strip())
    path.write_text("\n".join(lines) + "\n")
    return path


@contextmanager
def fast_storage(prefix: str = "tagpilot-registry-") -> Iterator[Path]:
    """A scratch directory on tmpfs (``/dev/shm``) when available, removed afterwards."""
    parent = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
    directory = tempfile.mkdtemp(prefix=prefix, dir=parent)
    try:
        yield Path(directory)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def _environment(
    port: int, data: Path, htpasswd: Path | None, tls: RegistryTLS | None, token: TokenAuth | None
) -> dict[str, str]:
    env = dict(
        os.environ,
        REGISTRY_HTTP_ADDR=f"127.0.0.1:{port}",
        REGISTRY_HTTP_SECRET="tagpilot-test-not-secret",
        REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY=str(data),
        REGISTRY_STORAGE_DELETE_ENABLED="true",
        REGISTRY_LOG_LEVEL="error",
        REGISTRY_LOG_ACCESSLOG_DISABLED="true",
    )
    if htpasswd is not None:
        env.update(
            REGISTRY_AUTH="htpasswd",
            REGISTRY_AUTH_HTPASSWD_REALM="tagpilot-test",
            REGISTRY_AUTH_HTPASSWD_PATH=str(htpasswd),
        )
    if token is not None:
        env.update(
            REGISTRY_AUTH="token",
            REGISTRY_AUTH_TOKEN_REALM=token.realm,
            REGISTRY_AUTH_TOKEN_SERVICE=token.service,
            REGISTRY_AUTH_TOKEN_ISSUER=token.issuer,
            REGISTRY_AUTH_TOKEN_ROOTCERTBUNDLE=str(token.signing_cert),
        )
    if tls is not None:
        env.update(REGISTRY_HTTP_TLS_CERTIFICATE=str(tls.cert), REGISTRY_HTTP_TLS_KEY=str(tls.key))
    return env


def _config(directory: Path, tls: RegistryTLS | None) -> Path:
    text = _CONFIG
    if tls is not None and tls.client_ca is not None:
        # client CAs are a list, which the env override cannot express
        text += f"  tls:\n    clientcas:\n      - {tls.client_ca}\n"
    path = directory / "config.yml"
    path.write_text(text)
    return path


def _wait_ready(process: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + 15
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"registry did not start:\n{log.read_text()}") from None
            time.sleep(0.02)


@contextmanager
def run_registry(
    directory: Path,
    *,
    htpasswd: Path | None = None,
    tls: RegistryTLS | None = None,
    token: TokenAuth | None = None,
) -> Iterator[RunningRegistry]:
    """Run a registry with storage under ``directory``; stop it on exit."""
    directory.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = directory / "registry.log"
    env = _environment(port, directory / "data", htpasswd, tls, token)
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [REGISTRY_BINARY, "serve", str(_config(directory, tls))],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_ready(process, port, log)
            scheme = "https" if tls else "http"
            yield RunningRegistry(
                url=f"{scheme}://127.0.0.1:{port}", host=f"127.0.0.1:{port}", log=log
            )
        finally:
            process.terminate()
            process.wait(10)
