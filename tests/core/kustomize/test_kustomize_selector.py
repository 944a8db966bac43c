"""Kubernetes selector strings, as Flux's targets take them (label and annotation selectors)."""

from __future__ import annotations

import pytest

from tagpilot.core.kustomize.selector import SelectorSyntaxError, matches, parse_selector

WEB = {"app": "web", "tier": "frontend", "replicas": "3"}


@pytest.mark.parametrize(
    ("selector", "selected"),
    [
        pytest.param("", True, id="empty-selects-all"),
        pytest.param("app=web", True, id="equals"),
        pytest.param("app==web", True, id="double-equals"),
        pytest.param("app=api", False, id="equals-other-value"),
        pytest.param("app!=api", True, id="not-equals"),
        pytest.param("owner!=team-a", True, id="not-equals-matches-a-missing-key"),
        pytest.param("app", True, id="exists"),
        pytest.param("!app", False, id="not-exists-on-a-present-key"),
        pytest.param("!legacy", True, id="not-exists"),
        pytest.param("tier in (frontend, backend)", True, id="in-set"),
        pytest.param("tier notin (frontend)", False, id="notin-set"),
        pytest.param("owner notin (a,b)", True, id="notin-matches-a-missing-key"),
        pytest.param("app=web,tier in (backend)", False, id="all-requirements-must-hold"),
        pytest.param("app=web, tier in (frontend,backend), !legacy", True, id="three-requirements"),
        pytest.param("replicas>2", True, id="greater-than"),
        pytest.param("replicas<2", False, id="less-than"),
        pytest.param("app>2", False, id="comparison-on-a-non-number-is-false"),
        pytest.param("example.com/part-of=web", False, id="prefixed-key-missing"),
    ],
)
def test_a_selector_selects_the_labels_kubernetes_would(selector: str, selected: bool) -> None:
    assert matches(parse_selector(selector), WEB) is selected


@pytest.mark.parametrize(
    ("selector", "complaint"),
    [
        pytest.param("app=web,", "empty requirement", id="trailing-comma"),
        pytest.param("app in ()", "invalid values", id="empty-set"),
        pytest.param("app in (a", "cannot parse", id="unclosed-set"),
        pytest.param("=web", "cannot parse", id="no-key"),
        pytest.param("app=we b", "cannot parse", id="space-in-a-value"),
    ],
)
def test_a_malformed_selector_is_refused_naming_the_part(selector: str, complaint: str) -> None:
    with pytest.raises(SelectorSyntaxError, match=complaint):
        parse_selector(selector)
