"""``export`` keeps ``false`` where Go's JSON keeps it: fields without ``omitempty``
(a Kustomization's ``spec.prune``) and pointer booleans (a Secret's ``immutable``); every
``omitempty`` boolean (``suspend``, ``wait``, ``force``, ``optional``) is dropped when false."""

from __future__ import annotations

import pytest

from tagpilot.api.export import export_objects
from tagpilot.api.loader import load_text

KUSTOMIZATION = """\
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: apps, namespace: flux-system}
spec:
  interval: 10m
  path: ./apps
  prune: %(prune)s
  wait: false
  force: false
  suspend: false
  sourceRef: {kind: GitRepository, name: flux-system}
  postBuild:
    substituteFrom: [{kind: ConfigMap, name: vars, optional: false}]
"""
SECRET = """\
apiVersion: v1
kind: Secret
metadata: {name: token, namespace: flux-system}
immutable: false
stringData: {token: x}
"""


def _exported(text: str) -> str:
    (loaded,) = load_text(text).objects
    assert loaded.obj is not None
    return export_objects([loaded.obj])


@pytest.mark.parametrize(
    ("text", "present", "absent"),
    [
        pytest.param(
            KUSTOMIZATION % {"prune": "false"},
            ["  prune: false\n"],
            ["wait:", "force:", "suspend:", "optional:"],
            id="kustomization-prune-false-survives-and-omitempty-flags-go",
        ),
        pytest.param(
            KUSTOMIZATION % {"prune": "true"},
            ["  prune: true\n"],
            ["wait:", "force:"],
            id="kustomization-prune-true",
        ),
        pytest.param(SECRET, ["immutable: false\n"], [], id="secret-immutable-false-survives"),
    ],
)
def test_export_keeps_false_exactly_where_go_does(
    text: str, present: list[str], absent: list[str]
) -> None:
    exported = _exported(text)
    for line in present:
        assert line in exported, exported
    for field in absent:
        assert field not in exported, exported
