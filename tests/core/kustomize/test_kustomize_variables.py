"""``postBuild.substituteFrom`` precedence and the ``optional`` rule, as Flux has them."""

from __future__ import annotations

import pytest

from tagpilot.api.kustomization import SubstituteReference
from tagpilot.core.kustomize.variables import MissingVariablesError, collect_variables

FOUND = {
    ("ConfigMap", "defaults"): {"env": "dev", "region": "eu", "replicas": "1"},
    ("Secret", "creds"): {"env": "staging", "token": "t0k"},
    ("ConfigMap", "overrides"): {"region": "us"},
    ("ConfigMap", "gone"): None,
}


def _refs(*entries: str) -> list[SubstituteReference]:
    """``Kind/name`` or ``Kind/name?`` (optional)."""
    refs = []
    for entry in entries:
        kind, name = entry.rstrip("?").split("/")
        optional = entry.endswith("?")
        refs.append(
            SubstituteReference.model_validate({"kind": kind, "name": name, "optional": optional})
        )
    return refs


@pytest.mark.parametrize(
    ("entries", "inline", "expected"),
    [
        pytest.param(
            ["ConfigMap/defaults"], None, {"env": "dev", "region": "eu", "replicas": "1"},
            id="a-configmaps-data-are-variables",
        ),
        pytest.param(
            ["ConfigMap/defaults", "Secret/creds", "ConfigMap/overrides"], None,
            {"env": "staging", "region": "us", "replicas": "1", "token": "t0k"},
            id="entries-apply-in-order-and-a-later-one-wins",
        ),
        pytest.param(
            ["ConfigMap/overrides", "ConfigMap/defaults"], None,
            {"env": "dev", "region": "eu", "replicas": "1"},
            id="order-not-kind-decides",
        ),
        pytest.param(
            ["ConfigMap/defaults", "Secret/creds"], {"env": "prod"},
            {"env": "prod", "region": "eu", "replicas": "1", "token": "t0k"},
            id="inline-substitute-wins-over-all",
        ),
        pytest.param(
            ["ConfigMap/gone?", "ConfigMap/overrides"], None, {"region": "us"},
            id="a-missing-optional-entry-is-left-out",
        ),
        pytest.param(
            ["ConfigMap/never-read?"], {"a": "b"}, {"a": "b"},
            id="an-optional-entry-not-read-at-all-is-left-out",
        ),
    ],
)  # fmt: skip
def test_variables_follow_flux_precedence(
    entries: list[str], inline: dict[str, str] | None, expected: dict[str, str]
) -> None:
    assert collect_variables(_refs(*entries), FOUND, inline, namespace="apps") == expected


def test_a_missing_entry_that_is_not_optional_is_a_retried_build_failure() -> None:
    with pytest.raises(MissingVariablesError) as caught:
        collect_variables(
            _refs("ConfigMap/defaults", "ConfigMap/gone"), FOUND, None, namespace="apps"
        )
    assert caught.value.reason == "BuildFailed"
    assert "ConfigMap 'apps/gone' not found" in caught.value.message
    assert "dev" not in caught.value.message, "values never appear in the error"
