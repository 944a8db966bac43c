"""The runbook's world for cluster tests: an SSH git server, the deploy-token registry with
the first dev tags, and the runbook's objects applied to the cluster.

Fixtures ``sshd`` (per module) and ``registry`` (per test) are imported by the test modules
that use them; :func:`apply_runbook` puts the Secrets and objects of the seeds' runbook in
the cluster, migrated to image API v1 as current CRDs serve it.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from servers.git import SshServer, run_sshd
from servers.ocipush import seed
from servers.registry import RunningRegistry, run_registry, write_htpasswd

from .controller_support import apply
from .controlplane import ControlPlane

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
from e2e_support import FIRST_TAGS, TOKEN, USER, write_cluster

__all__ = ["apply_runbook", "registry", "sshd"]


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshServer]:
    """An sshd serving bare repositories over SSH."""
    with run_sshd(tmp_path_factory.mktemp("sshd")) as server:
        yield server


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[RunningRegistry]:
    """The registry behind the deploy-token login, with the runbook's first dev tags."""
    htpasswd = write_htpasswd(tmp_path / "htpasswd", {USER: TOKEN})
    with run_registry(tmp_path / "registry", htpasswd=htpasswd) as running:
        seed(running.url, "games/blaster", FIRST_TAGS, user=USER, password=TOKEN)
        yield running


def runbook_objects(tmp: Path) -> list[str]:
    """The runbook's image objects and GitRepository, migrated to image API v1 (current CRDs
    serve v1 only; ``flux migrate`` changes the apiVersion and nothing else)."""
    return [
        manifest.read_text().replace(
            "image.toolkit.fluxcd.io/v1beta2", "image.toolkit.fluxcd.io/v1"
        )
        for manifest in sorted((tmp / "clusters/my-cluster/blaster/dev").glob("*.yaml"))
    ]


def apply_runbook(
    plane: ControlPlane, registry: RunningRegistry, sshd: SshServer, tmp: Path, bare: Path
) -> Path:
    """The runbook's Secrets and objects in the cluster, for the app repository ``bare``;
    returns the cluster directory written on the way."""
    identity = {"identity": sshd.client_key.decode(), "known_hosts": sshd.known_hosts.decode()}
    cluster = write_cluster(tmp, registry, sshd.url(bare), identity)
    for secret in sorted((cluster / "flux-system/secrets").glob("*.yaml")):
        apply(plane, secret.read_text())
    for text in runbook_objects(tmp):
        apply(plane, text)
    return cluster
