"""The merge patch from one status to the next: what the API server must be sent."""

from __future__ import annotations

from typing import Any

import pytest

from tagpilot.core.mergepatch import merge_patch, union


def apply(document: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """RFC 7386 applied, the way the API server applies a merge patch (the oracle)."""
    result = dict(document)
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = apply(result[key], value)
        else:
            result[key] = value
    return result


CASES = [
    pytest.param({}, {}, {}, id="nothing-to-nothing-is-empty"),
    pytest.param({"a": 1}, {"a": 1}, {}, id="an-unchanged-document-needs-no-request"),
    pytest.param({"a": 1}, {"a": 2}, {"a": 2}, id="a-changed-scalar-is-sent"),
    pytest.param({"a": 1, "b": 2}, {"a": 1}, {"b": None}, id="a-dropped-field-is-sent-as-null"),
    pytest.param(
        {"scan": {"tagCount": 3, "latestTags": ["a"]}},
        {"scan": {"tagCount": 4, "latestTags": ["a"]}},
        {"scan": {"tagCount": 4}},
        id="nested-mappings-are-compared-key-by-key",
    ),
    pytest.param(
        {"scan": {"tagCount": 3, "revision": "x"}},
        {"scan": {"tagCount": 3}},
        {"scan": {"revision": None}},
        id="a-nested-dropped-field-is-null",
    ),
    pytest.param(
        {"conditions": [{"type": "Ready"}, {"type": "Stalled"}]},
        {"conditions": [{"type": "Ready"}]},
        {"conditions": [{"type": "Ready"}]},
        id="lists-are-replaced-whole",
    ),
    pytest.param({"a": 1}, {"a": {"b": 1}}, {"a": {"b": 1}}, id="a-scalar-becoming-a-mapping"),
    pytest.param(
        {}, {"a": {"b": None, "c": 1}}, {"a": {"c": 1}}, id="nulls-inside-new-values-are-left-out"
    ),
]


@pytest.mark.parametrize(("old", "new", "expected"), CASES)
def test_the_patch_is_the_smallest_that_turns_old_into_new(
    old: dict[str, Any], new: dict[str, Any], expected: dict[str, Any]
) -> None:
    patch = merge_patch(old, new)
    assert patch == expected
    wanted = {k: v for k, v in new.items() if v is not None}
    if "a" in wanted and isinstance(wanted["a"], dict):
        wanted["a"] = {k: v for k, v in wanted["a"].items() if v is not None}
    assert apply(old, patch) == wanted


def test_a_patch_against_the_union_also_removes_what_the_lagging_view_missed() -> None:
    live = {"latestRef": {"tag": "1.0"}}
    written_since = {"latestRef": {"tag": "1.1"}, "observedPreviousRef": {"tag": "1.0"}}
    new = {"latestRef": {"tag": "1.2"}}
    patch = merge_patch(union(live, written_since), new)
    assert patch == {"latestRef": {"tag": "1.2"}, "observedPreviousRef": None}
    assert apply(written_since, patch) == new
