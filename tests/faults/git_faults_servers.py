"""Fault-injection servers for the git fault tests: an sshd that can be stopped and restarted.

Used by ``test_git_faults.py``.  Unlike :func:`servers.git.run_sshd`, the server keeps its
port and host key across :meth:`RestartableSshd.stop` / :meth:`RestartableSshd.start`, so
the cluster's GitRepository URL and known_hosts stay valid while the server is down.
"""

from __future__ import annotations

import os
import pwd
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from servers.git import SshServer, free_port, host_key_line, make_ssh_key

__all__ = ["RestartableSshd", "restartable_sshd"]


class RestartableSshd:
    """``/usr/sbin/sshd`` on a fixed loopback port, restricted to ``git-shell``."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        host = make_ssh_key(directory, "host")
        client = make_ssh_key(directory, "client")
        (directory / "authorized_keys").write_text(
            'restrict,command="git-shell -c \\"$SSH_ORIGINAL_COMMAND\\"" '
            + client.with_suffix(".pub").read_text()
        )
        port, user = free_port(), pwd.getpwuid(os.getuid()).pw_name
        self.server = SshServer(
            port, user, client.read_bytes(), host_key_line(port, host.with_suffix(".pub"))
        )
        self.config = self._write_config()
        self.process: subprocess.Popen[bytes] | None = None

    def _write_config(self) -> Path:
        config = self.directory / "sshd_config"
        config.write_text(
            f"Port {self.server.port}\nListenAddress 127.0.0.1\n"
            f"HostKey {self.directory / 'host'}\nPidFile none\n"
            f"AuthorizedKeysFile {self.directory / 'authorized_keys'}\n"
            "StrictModes no\nPubkeyAuthentication yes\nPasswordAuthentication no\n"
            "KbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\n"
            f"AllowUsers {self.server.user}\nUsePAM no\nPrintMotd no\n"
        )
        return config

    def start(self) -> None:
        """Start sshd and wait until it accepts connections."""
        if os.getuid() == 0:
            Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
        log = (self.directory / "sshd.log").open("ab")
        with log:
            self.process = subprocess.Popen(
                ["/usr/sbin/sshd", "-D", "-e", "-f", str(self.config)],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        self._wait_accepting()

    def _wait_accepting(self) -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.server.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"sshd did not start: {(self.directory / 'sshd.log').read_text()}")

    def stop(self) -> None:
        """Stop sshd and every session it forked; the port refuses connections afterwards."""
        if self.process is None:
            return
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self.process = None


@contextmanager
def restartable_sshd(directory: Path) -> Iterator[RestartableSshd]:
    """A started :class:`RestartableSshd`, stopped on exit."""
    server = RestartableSshd(directory)
    server.start()
    try:
        yield server
    finally:
        server.stop()
