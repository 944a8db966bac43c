"""Running ``tagpilot controller`` as its own process against the test control plane.

:func:`start_controller` launches the real command line with a kubeconfig (an identity of
the control plane, or a ServiceAccount's token), a state directory and a free HTTP port, and
returns once ``/readyz`` answers (its watches have listed everything).  :func:`wait_for`
polls a condition the way a user re-runs ``kubectl get``.  :func:`install` applies what
``tagpilot install --export`` prints, CRDs included, with server-side apply.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from .controlplane import ControlPlane, Identity, _die_with_parent, _free_port
from .install_support import export

__all__ = [
    "RunningController",
    "apply",
    "install_crds",
    "kubectl_json",
    "start_controller",
    "wait_for",
]

T = TypeVar("T")
_READY_TIMEOUT = 60.0


@dataclass
class RunningController:
    """One controller process: its log, its HTTP address, and how to stop it."""

    process: subprocess.Popen[bytes]
    log: Path
    url: str

    def text(self) -> str:
        """Everything it logged so far."""
        return self.log.read_text(errors="replace")

    def lines(self) -> list[dict[str, Any]]:
        """Its JSON log lines."""
        found = []
        for line in self.text().splitlines():
            with contextlib.suppress(ValueError):
                found.append(json.loads(line))
        return found

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int:
        """Send ``sig`` and wait for the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


def _ready(url: str) -> bool:
    with contextlib.suppress(OSError), urllib.request.urlopen(url + "/readyz", timeout=2) as r:
        return bool(r.status == 200)
    return False


def start_controller(
    kubeconfig: Path,
    directory: Path,
    *,
    namespace: str,
    args: Sequence[str] = (),
    wait_ready: bool = True,
    all_namespaces: bool = False,
) -> RunningController:
    """Start ``tagpilot controller`` with ``namespace`` as its runtime namespace, watching
    only that namespace unless ``all_namespaces``."""
    directory.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    log = directory / "controller.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SOPS_", "KUBECONFIG"))}
    env["RUNTIME_NAMESPACE"] = namespace
    # kubectl and git come from the test environment; the venv's bin holds kubectl.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    argv = [
        sys.executable, "-m", "tagpilot", "controller", f"--kubeconfig={kubeconfig}",
        "--watch-all-namespaces" if all_namespaces else "--watch-own-namespace",
        f"--http-address=127.0.0.1:{port}",
        f"--state-dir={directory / 'state'}", *args,
    ]  # fmt: skip
    parent = os.getpid()
    with log.open("wb") as out:
        process = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=env,
            start_new_session=True,
            preexec_fn=lambda: _die_with_parent(parent),  # noqa: PLW1509 - one thread spawns
        )  # fmt: skip
    running = RunningController(process, log, f"http://127.0.0.1:{port}")
    if wait_ready:
        deadline = time.monotonic() + _READY_TIMEOUT
        while not _ready(running.url):
            if process.poll() is not None or time.monotonic() > deadline:
                running.stop(signal.SIGKILL)
                raise AssertionError(f"controller did not become ready:\n{running.text()[-3000:]}")
            time.sleep(0.1)
    return running


@contextlib.contextmanager
def controller(
    kubeconfig: Path,
    directory: Path,
    *,
    namespace: str,
    args: Sequence[str] = (),
    all_namespaces: bool = False,
) -> Iterator[RunningController]:
    """:func:`start_controller`, stopped (SIGTERM, then SIGKILL) when the block ends."""
    running = start_controller(
        kubeconfig, directory, namespace=namespace, args=args, all_namespaces=all_namespaces
    )
    try:
        yield running
    except BaseException:
        sys.stderr.write(f"controller log (last lines):\n{running.text()[-4000:]}\n")
        raise
    finally:
        running.stop()


def wait_for(
    what: str, probe: Callable[[], T | None], *, timeout: float = 60.0, every: float = 0.2
) -> T:
    """Poll ``probe`` until it returns something truthy; fail naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what} (last: {last!r})")


def kubectl_json(plane: ControlPlane, *args: str, identity: Identity | None = None) -> Any:
    """``kubectl get ... -o json`` parsed."""
    return json.loads(plane.kubectl("get", *args, "-o", "json", identity=identity).stdout)


def install_crds(plane: ControlPlane) -> None:
    """Apply tagpilot's CRDs (image kinds and GitRepository) and wait until they serve."""
    documents = export("--source-crds", "--controllers=image,source,kustomize").split("\n---\n")
    crds = [d for d in documents if "kind: CustomResourceDefinition" in d]
    apply_args = ["--server-side", "--field-manager=tagpilot-tests", "--force-conflicts"]
    plane.kubectl("apply", *apply_args, "-f", "-", stdin="\n---\n".join(crds))
    plane.kubectl("wait", "--for=condition=Established", "--timeout=60s", "crd", "--all")


def apply(plane: ControlPlane, text: str, *, namespace: str | None = None) -> None:
    """``kubectl apply -f -`` of ``text``."""
    extra = ["-n", namespace] if namespace else []
    plane.kubectl("apply", *extra, "-f", "-", stdin=text)
