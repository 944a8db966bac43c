"""Real git servers on loopback for tests and benchmarks: OpenSSH ``sshd`` and smart HTTP.

Context managers used by ``tests/adapters/git/conftest.py`` and ``bench/bench_git.py``:
:func:`run_sshd` starts ``/usr/sbin/sshd`` on a free port with its own host key and one
client key restricted to ``git-shell``; :func:`run_git_http` starts :mod:`servers.git_http`
(Basic auth, optional TLS).  Repositories are plain bare repos under a directory, made with
:func:`make_bare_repo`.
"""

from __future__ import annotations

import os
import pwd
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "GitHttpServer",
    "SshServer",
    "free_port",
    "git",
    "host_key_line",
    "make_bare_repo",
    "make_ssh_key",
    "run_git_http",
    "run_sshd",
]

_CLEAN_ENV_PREFIXES = ("GIT_", "SSH_")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_tcp(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early: {log.read_text(errors='replace')}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"server on port {port} did not start: {log.read_text(errors='replace')}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def git(*args: str, cwd: Path | None = None, env: Mapping[str, str] | None = None) -> str:
    """Run a plain git command for test setup (clean identity, no user config); stdout."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(_CLEAN_ENV_PREFIXES)}
    base.update(
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_AUTHOR_NAME="tester",
        GIT_AUTHOR_EMAIL="tester@example.com",
        GIT_COMMITTER_NAME="tester",
        GIT_COMMITTER_EMAIL="tester@example.com",
    )
    done = subprocess.run(
        ["git", *args],
        cwd=cwd,
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed: {done.stderr}")
    return done.stdout.strip()


def make_bare_repo(path: Path, files: Mapping[str, str], *, branch: str = "main") -> str:
    """A bare repo at ``path`` with one commit of ``files`` on ``branch``; returns its SHA."""
    git("init", "--quiet", "--bare", f"--initial-branch={branch}", str(path))
    git("config", "receive.advertisePushOptions", "true", cwd=path)
    work = path.with_name(path.name + ".seed")
    git("init", "--quiet", f"--initial-branch={branch}", str(work))
    for name, text in files.items():
        (work / name).parent.mkdir(parents=True, exist_ok=True)
        (work / name).write_text(text)
    git("add", "--all", cwd=work)
    git("commit", "--quiet", "-m", "initial", cwd=work)
    git("push", "--quiet", str(path), f"HEAD:refs/heads/{branch}", cwd=work)
    return git("rev-parse", "HEAD", cwd=work)


def make_ssh_key(directory: Path, name: str) -> Path:
    """A new unencrypted ed25519 key pair ``name`` / ``name.pub`` in ``directory``."""
    path = directory / name
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(path)], check=True
    )
    return path


def host_key_line(port: int, public_key: Path) -> bytes:
    """A known_hosts line for ``[127.0.0.1]:port`` with ``public_key``'s key."""
    kind, blob = public_key.read_text().split()[:2]
    return f"[127.0.0.1]:{port} {kind} {blob}\n".encode()


@dataclass(frozen=True)
class SshServer:
    """A running sshd: its port, the client key (PEM bytes) and a correct known_hosts."""

    port: int
    user: str
    client_key: bytes
    known_hosts: bytes

    def url(self, repo: Path) -> str:
        """The ``ssh://`` URL of the bare repo at absolute path ``repo``."""
        return f"ssh://{self.user}@127.0.0.1:{self.port}{repo}"


def _sshd_config(directory: Path, port: int, user: str) -> Path:
    config = directory / "sshd_config"
    config.write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {directory / 'host'}\n"
        f"PidFile {directory / 'sshd.pid'}\nAuthorizedKeysFile {directory / 'authorized_keys'}\n"
        "StrictModes no\nPubkeyAuthentication yes\nPasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\n"
        f"AllowUsers {user}\nUsePAM no\nPrintMotd no\nLogLevel VERBOSE\n"
    )
    return config


@contextmanager
def run_sshd(directory: Path) -> Iterator[SshServer]:
    """Run ``/usr/sbin/sshd`` in the foreground on a free port; stop it on exit."""
    directory.mkdir(parents=True, exist_ok=True)
    host = make_ssh_key(directory, "host")
    client = make_ssh_key(directory, "client")
    (directory / "authorized_keys").write_text(
        'restrict,command="git-shell -c \\"$SSH_ORIGINAL_COMMAND\\"" '
        + client.with_suffix(".pub").read_text()
    )
    port, user = free_port(), pwd.getpwuid(os.getuid()).pw_name
    if os.getuid() == 0:
        # sshd's privilege separation directory is compiled in; systemd normally makes it.
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    config = _sshd_config(directory, port, user)
    log = directory / "sshd.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            ["/usr/sbin/sshd", "-D", "-e", "-f", str(config)],
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        _wait_tcp(port, process, log)
        known = host_key_line(port, host.with_suffix(".pub"))
        yield SshServer(port, user, client.read_bytes(), known)
    finally:
        _stop(process)


@dataclass(frozen=True)
class GitHttpServer:
    """A running smart-HTTP server: base URL (``http(s)://127.0.0.1:port``) and its root."""

    base_url: str
    root: Path

    def url(self, repo: Path) -> str:
        """The URL of the bare repo ``repo`` (which must be directly under the root)."""
        return f"{self.base_url}/{repo.relative_to(self.root)}"


@contextmanager
def run_git_http(
    root: Path,
    *,
    credentials: str | None = None,
    tls: tuple[Path, Path] | None = None,
    client_ca: Path | None = None,
) -> Iterator[GitHttpServer]:
    """Serve the bare repos under ``root``; Basic auth with ``name:password``, TLS with
    ``(cert, key)``, client certificates from ``client_ca`` required when given."""
    port = free_port()
    args = [sys.executable, str(Path(__file__).with_name("git_http.py"))]
    args += ["--root", str(root), "--port", str(port)]
    if tls:
        args += ["--tls-cert", str(tls[0]), "--tls-key", str(tls[1])]
    if client_ca:
        args += ["--client-ca", str(client_ca)]
    env = {**os.environ, "GIT_HTTP_CREDENTIALS": credentials or ""}
    log = root.with_name(f"git-http-{port}.log")
    with log.open("wb") as out:
        process = subprocess.Popen(
            args, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    try:
        _wait_tcp(port, process, log)
        yield GitHttpServer(f"{'https' if tls else 'http'}://127.0.0.1:{port}", root)
    finally:
        _stop(process)


@contextmanager
def silent_git_remote() -> Iterator[str]:
    """The URL of an HTTP "git server" that accepts connections and never answers, for
    timeouts and cancellation; the connections are closed on exit."""
    server = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                accepted.append(server.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}/app.git"
    finally:
        server.close()
        for conn in accepted:
            conn.close()
