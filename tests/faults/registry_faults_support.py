"""Helpers of the registry fault tests: a registry that can be killed and restarted in place.

:class:`RegistryProcess` runs Debian's ``docker-registry`` (anonymous, plain HTTP) on a fixed
loopback port with storage that outlives the process, so a test can kill it mid-listing and
start it again where clients expect it.  :func:`add_tags_in_storage` writes tags straight into
the registry's storage layout, which is how 100,000 tags are made in seconds rather than by
100,000 manifest pushes.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from servers.registry import REGISTRY_BINARY, free_port

__all__ = ["RegistryProcess", "add_tags_in_storage", "run_registry_process"]

_CONFIG = "version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: /unused\nhttp:\n  addr: :0\n"
_START_SECONDS = 15.0


class RegistryProcess:
    """A ``docker-registry`` on a fixed port; :meth:`kill` and :meth:`start` keep its data."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.host = f"127.0.0.1:{self.port}"
        self.data = directory / "data"
        self._process: subprocess.Popen[bytes] | None = None
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "config.yml").write_text(_CONFIG)

    @property
    def running(self) -> bool:
        """Whether the process is alive."""
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Start the registry and wait until it accepts connections."""
        log = (self.directory / "registry.log").open("ab")
        with log:
            self._process = subprocess.Popen(
                [REGISTRY_BINARY, "serve", str(self.directory / "config.yml")],
                env=self._environment(),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self._wait_ready()

    def kill(self) -> None:
        """SIGKILL the registry (no graceful shutdown) and reap it."""
        if self._process is not None and self.running:
            self._process.send_signal(signal.SIGKILL)
        self._reap()

    def stop(self) -> None:
        """Terminate the registry gracefully and reap it."""
        if self._process is not None and self.running:
            self._process.terminate()
        self._reap()

    def _reap(self) -> None:
        if self._process is not None:
            self._process.wait(10)
            self._process = None

    def _environment(self) -> dict[str, str]:
        return dict(
            os.environ,
            REGISTRY_HTTP_ADDR=self.host,
            REGISTRY_HTTP_SECRET="tagpilot-test-not-secret",
            REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY=str(self.data),
            REGISTRY_LOG_LEVEL="error",
            REGISTRY_LOG_ACCESSLOG_DISABLED="true",
        )

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + _START_SECONDS
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                if not self.running or time.monotonic() > deadline:
                    log = (self.directory / "registry.log").read_text()
                    raise RuntimeError(f"registry did not start:\n{log}") from None
                time.sleep(0.02)


@contextmanager
def run_registry_process(directory: Path) -> Iterator[RegistryProcess]:
    """A started :class:`RegistryProcess` under ``directory``, stopped on exit."""
    registry = RegistryProcess(directory)
    registry.start()
    try:
        yield registry
    finally:
        registry.stop()


def add_tags_in_storage(
    registry: RegistryProcess, repo: str, like: str, tags: Iterable[str]
) -> int:
    """Point every tag in ``tags`` at the manifest tag ``like`` has, by writing storage files.

    The registry lists a repository's tags from the directory names under
    ``_manifests/tags`` and resolves a tag through its ``current/link``; ``like`` must have
    been pushed already.  Returns how many tags were written.
    """
    root = registry.data / "docker/registry/v2/repositories" / repo / "_manifests/tags"
    link = (root / like / "current/link").read_bytes()
    count = 0
    for tag in tags:
        current = root / tag / "current"
        current.mkdir(parents=True)
        (current / "link").write_bytes(link)
        count += 1
    return count
