"""Fixtures for the commit message template tests: a small change set and a render helper."""

from __future__ import annotations

from collections.abc import Mapping

import pytest
from message_testing import AUTOMATION, DEPLOYMENT, KUSTOMIZATION, Render

from tagpilot.core.changes import Change, ChangeRecord, ChangeSet
from tagpilot.core.message import RenderLimits, render_commit_message


@pytest.fixture
def change_set() -> ChangeSet:
    """Two files: a Deployment with an image change, a Kustomization with a tag change."""
    return ChangeSet.of(
        [
            ChangeRecord(
                "deploy.yaml", DEPLOYMENT, Change("podinfo:5.0.0", "podinfo:5.0.3", "ns:podinfo")
            ),
            ChangeRecord("kustomization.yaml", KUSTOMIZATION, Change("5.0.0", "5.0.3", "ns:p:tag")),
        ]
    )


@pytest.fixture
def render(change_set: ChangeSet) -> Render:
    """Render a template against ``change_set`` with values ``{"env": "prod"}`` by default."""

    def run(
        template: str,
        values: Mapping[str, str] | None = None,
        limits: RenderLimits | None = None,
    ) -> str:
        return render_commit_message(
            template,
            automation=AUTOMATION,
            changes=change_set,
            values={"env": "prod"} if values is None else values,
            limits=limits or RenderLimits(),
        )

    return run
