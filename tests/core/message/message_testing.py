"""Helpers shared by the commit message template tests (imported by conftest and tests)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from tagpilot.core.changes import Change, ChangeRecord, ChangeSet, ObjectIdentity

__all__ = ["AUTOMATION", "DEPLOYMENT", "KUSTOMIZATION", "Render", "changes_from_json"]

AUTOMATION = ("flux-system", "podinfo-auto")
DEPLOYMENT = ObjectIdentity("apps/v1", "Deployment", "podinfo", "default")
KUSTOMIZATION = ObjectIdentity("kustomize.config.k8s.io/v1beta1", "Kustomization", "", "")

Render = Callable[..., str]


def changes_from_json(path: Path) -> ChangeSet:
    """Build a change set from a golden case's ``changes.json`` rows."""
    rows = json.loads(path.read_text())
    return ChangeSet.of(
        ChangeRecord(
            row["file"],
            ObjectIdentity(row["apiVersion"], row["kind"], row["name"], row["namespace"]),
            Change(row["old"], row["new"], row["setter"]),
        )
        for row in rows
    )
