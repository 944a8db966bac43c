"""``dependsOn[].readyExpr``: CEL over ``self`` (the waiting Kustomization) and ``dep``."""

from __future__ import annotations

from typing import Any

import pytest

from tagpilot.api.kustomization import DependencyReference
from tagpilot.core.kustomize.cel_health import InvalidCELExpressionError
from tagpilot.core.kustomize.ready_expr import ReadyExpressions

ME = {
    "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
    "kind": "Kustomization",
    "metadata": {"name": "apps", "namespace": "flux-system", "generation": 4,
                 "annotations": {"app/revision": "v2"}},
    "spec": {"sourceRef": {"kind": "GitRepository", "name": "repo"}},
}  # fmt: skip


def _dep(ready: str = "True", generation: int = 7, observed: int = 7, **status: Any) -> Any:
    return {
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": {"name": "infra", "namespace": "flux-system", "generation": generation,
                     "annotations": {"app/revision": "v2"}},
        "status": {"observedGeneration": observed,
                   "conditions": [{"type": "Ready", "status": ready}], **status},
    }  # fmt: skip


SYNCED = "dep.metadata.generation == dep.status.observedGeneration"
READY = "dep.status.conditions.exists(c, c.type == 'Ready' && c.status == 'True')"
SAME = "dep.metadata.annotations['app/revision'] == self.metadata.annotations['app/revision']"


@pytest.mark.parametrize(
    ("expression", "dep", "ready", "why"),
    [
        pytest.param(SYNCED, _dep(ready="False"), True, "",
                     id="observed-generation-only-ignores-ready-false"),
        pytest.param(SYNCED, _dep(generation=8), False, "is not true",
                     id="generation-not-observed-yet"),
        pytest.param(READY, _dep(), True, "", id="ready-condition-true"),
        pytest.param(READY, _dep(ready="Unknown"), False, "is not true",
                     id="ready-condition-unknown"),
        pytest.param(SAME, _dep(), True, "", id="compares-self-with-dep"),
        pytest.param("dep.status.lastAppliedRevision == 'main@sha1:1'", _dep(), False,
                     "could not be evaluated", id="a-missing-field-is-not-ready"),
        pytest.param("dep.status.lastAppliedRevision", _dep(lastAppliedRevision="x"), False,
                     "is not true", id="a-non-boolean-is-not-ready"),
    ],
)  # fmt: skip
def test_a_dependency_is_ready_when_its_expression_is_true(
    expression: str, dep: Any, ready: bool, why: str
) -> None:
    exprs = ReadyExpressions([DependencyReference(name="infra", readyExpr=expression)])
    verdict = exprs.judge(0, ME, dep)
    assert verdict.ready is ready
    assert why in verdict.why


def test_only_dependencies_with_an_expression_are_judged_by_one() -> None:
    exprs = ReadyExpressions(
        [DependencyReference(name="a"), DependencyReference(name="b", readyExpr=SYNCED)]
    )
    assert (exprs.has(0), exprs.has(1)) == (False, True)


def test_an_expression_that_does_not_compile_stalls_naming_its_place() -> None:
    with pytest.raises(InvalidCELExpressionError, match=r"spec\.dependsOn\[1\]\.readyExpr"):
        ReadyExpressions(
            [DependencyReference(name="a"), DependencyReference(name="b", readyExpr="dep.(")]
        )
