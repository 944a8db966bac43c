"""Fixtures for tests against a real Kubernetes control plane.

``control_plane`` (session): etcd and kube-apiserver built by ``python -m tests.kube.build``,
started once for the whole session. ``namespace``: a fresh namespace per test.
``make_identity``: a client certificate and kubeconfig for any user and groups, so RBAC is
exercised with a real identity, not assumed. Nothing is skipped: a missing binary is an error
that names the command that builds it.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import AsyncIterator, Callable, Iterator, Sequence

import pytest

from .build import BUILD_COMMAND, ControlPlaneBinaries, binaries
from .controlplane import ControlPlane, ControlPlaneError, Identity, run_control_plane

MakeIdentity = Callable[..., Identity]
"""``make_identity(user, groups=())``."""


@pytest.fixture(scope="session")
def kube_binaries() -> ControlPlaneBinaries:
    """The built binaries; an error naming the build command when they are missing."""
    built = binaries()
    if built.missing():
        names = ", ".join(path.name for path in built.missing())
        pytest.fail(f"{names} not built in {built.directory}: run {BUILD_COMMAND}", pytrace=False)
    return built


@pytest.fixture(scope="session")
def control_plane(
    kube_binaries: ControlPlaneBinaries, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ControlPlane]:
    """One etcd + kube-apiserver for the session, stopped by PID at its end."""
    directory = tmp_path_factory.mktemp("kube")
    try:
        with run_control_plane(kube_binaries, directory) as plane:
            yield plane
    except ControlPlaneError as exc:
        pytest.fail(str(exc), pytrace=False)


def _namespace_name(test_name: str) -> str:
    """A DNS-1123 label from the test's name, unique per call."""
    stem = re.sub(r"[^a-z0-9]+", "-", test_name.lower()).strip("-")[:50].strip("-")
    return f"{stem or 'test'}-{secrets.token_hex(3)}"


@pytest.fixture
def namespace(control_plane: ControlPlane, request: pytest.FixtureRequest) -> Iterator[str]:
    """A new namespace for this test; deleted afterwards (it stays Terminating: no controllers)."""
    name = _namespace_name(request.node.name)
    control_plane.kubectl("create", "namespace", name)
    yield name
    control_plane.kubectl("delete", "namespace", name, "--wait=false", check=False)


@pytest.fixture
def make_identity(control_plane: ControlPlane) -> MakeIdentity:
    """Make another identity: ``make_identity("tenant", groups=["team-a"])``."""

    def make(user: str, groups: Sequence[str] = ()) -> Identity:
        return control_plane.identity(user, groups)

    return make


# --- the kube client adapter (tests/kube/test_client.py, test_informer.py, test_lease.py) ---

from tagpilot.adapters.kube import KubeClient, load_kubeconfig  # noqa: E402


@pytest.fixture
async def kube(control_plane: ControlPlane) -> AsyncIterator[KubeClient]:
    """tagpilot's own client, as the control plane's admin."""
    async with KubeClient(load_kubeconfig(control_plane.admin.kubeconfig)) as client:
        yield client


# --- the runbook's servers (tests/kube/test_controller_blaster.py, test_deploy_loop.py) ---

from .blaster_support import registry, sshd  # noqa: E402, F401 - fixtures for the runbook tests
