"""Which objects a Kustomization's health check waits for: Flux's rule as a table."""

from __future__ import annotations

from typing import Any

import pytest

from tagpilot.api.kustomization import Kustomization
from tagpilot.core.kustomize.changeset import Action, ChangeSet, ChangeSetEntry
from tagpilot.core.kustomize.health import health_targets
from tagpilot.core.kustomize.inventory import ObjMetadata


def _ks(**spec: Any) -> Kustomization:
    return Kustomization.model_validate(
        {
            "metadata": {"name": "apps", "namespace": "flux-system"},
            "spec": {
                "interval": "5m",
                "prune": True,
                "sourceRef": {"kind": "GitRepository", "name": "repo"},
                **spec,
            },
        }
    )


CHANGES = ChangeSet(
    (
        ChangeSetEntry(ObjMetadata("apps", "web", "apps", "Deployment"), "v1", Action.CREATED),
        ChangeSetEntry(ObjMetadata("apps", "cfg", "", "ConfigMap"), "v1", Action.UNCHANGED),
        ChangeSetEntry(ObjMetadata("apps", "ignored", "", "ConfigMap"), "v1", Action.SKIPPED),
        ChangeSetEntry(ObjMetadata("apps", "old", "", "Secret"), "v1", Action.DELETED),
        ChangeSetEntry(
            ObjMetadata("flux-system", "apps", "kustomize.toolkit.fluxcd.io", "Kustomization"),
            "v1",
            Action.CONFIGURED,
        ),
    )
)
CHECKS = [
    {"kind": "Deployment", "name": "db", "namespace": "data"},
    {"apiVersion": "v1", "kind": "Namespace", "name": "data"},
    {"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization", "name": "apps",
     "namespace": "flux-system"},
]  # fmt: skip


def _refs(targets: list[dict[str, Any]] | None) -> list[str] | None:
    if targets is None:
        return None
    found = []
    for target in targets:
        metadata = target["metadata"]
        where = f"{metadata.get('namespace', '')}/{metadata['name']}"
        found.append(f"{target['apiVersion']} {target['kind']}/{where}")
    return found


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        pytest.param({}, None, id="neither-wait-nor-health-checks-checks-nothing"),
        pytest.param(
            {"wait": True},
            ["apps/v1 Deployment/apps/web", "v1 ConfigMap/apps/cfg"],
            id="wait-checks-the-change-set-but-skipped-pruned-and-itself",
        ),
        pytest.param(
            {"wait": True, "healthChecks": CHECKS},
            ["apps/v1 Deployment/apps/web", "v1 ConfigMap/apps/cfg"],
            id="wait-wins-over-health-checks",
        ),
        pytest.param(
            {"healthChecks": CHECKS},
            ["apps/v1 Deployment/data/db", "v1 Namespace//data"],
            id="health-checks-default-to-apps-v1-and-never-name-the-kustomization-itself",
        ),
    ],
)
def test_health_targets_follow_flux(spec: dict[str, Any], expected: list[str] | None) -> None:
    assert _refs(health_targets(_ks(**spec), CHANGES)) == expected
