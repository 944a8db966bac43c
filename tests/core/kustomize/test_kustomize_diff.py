"""The verdicts and output of ``diff kustomization``, on objects written here (no cluster)."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from tagpilot.core.kustomize.diff import (
    CHANGED_AFTER,
    CHANGED_BEFORE,
    MASK,
    DiffAction,
    ObjectDiff,
    compare,
    has_changes,
    mask_secret_pair,
    render,
    stripped,
    summary,
)

REF = "ConfigMap/apps/settings"
SERVER_OWNED = {
    "uid": "0d7c",
    "resourceVersion": "41",
    "generation": 3,
    "creationTimestamp": "2026-01-01T00:00:00Z",
    "managedFields": [{"manager": "kustomize-controller"}],
}


def _config_map(value: str, **metadata: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "settings", "namespace": "apps", **metadata},
        "data": {"value": value},
    }


def _secret(**values: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "db", "namespace": "apps"},
        "data": {k: base64.b64encode(v.encode()).decode() for k, v in values.items()},
    }


@pytest.mark.parametrize(
    ("live", "merged", "expected"),
    [
        pytest.param(None, _config_map("1"), DiffAction.CREATED, id="no live copy: created"),
        pytest.param(_config_map("1"), _config_map("1"), DiffAction.UNCHANGED, id="equal"),
        pytest.param(
            {**_config_map("1", **SERVER_OWNED), "status": {"phase": "x"}},
            _config_map("1", **{**SERVER_OWNED, "resourceVersion": "42", "generation": 4}),
            DiffAction.UNCHANGED,
            id="server-owned fields and status differ only: unchanged",
        ),
        pytest.param(_config_map("1"), _config_map("2"), DiffAction.DRIFTED, id="data: drifted"),
        pytest.param(
            _config_map("1"),
            _config_map("1", labels={"team": "web"}),
            DiffAction.DRIFTED,
            id="a new label: drifted",
        ),
    ],
)
def test_an_object_is_judged_by_what_the_next_apply_would_change(
    live: dict[str, Any] | None, merged: dict[str, Any], expected: DiffAction
) -> None:
    assert compare(REF, live, merged).action is expected


def test_a_drifted_object_shows_a_unified_diff_of_live_and_merged_without_server_fields() -> None:
    found = compare(REF, _config_map("1", **SERVER_OWNED), _config_map("2", **SERVER_OWNED))
    assert found.diff.splitlines()[:2] == [f"--- {REF} (live)", f"+++ {REF} (merged)"]
    assert '-  value: "1"' in found.diff.splitlines()
    assert '+  value: "2"' in found.diff.splitlines()
    assert "resourceVersion" not in found.diff and "managedFields" not in found.diff


def test_stripping_keeps_everything_the_user_owns() -> None:
    obj = {**_config_map("1", labels={"a": "b"}, **SERVER_OWNED), "status": {}}
    assert stripped(obj) == _config_map("1", labels={"a": "b"})


@pytest.mark.parametrize(
    ("live", "merged", "live_masks", "merged_masks"),
    [
        pytest.param(
            {"password": "hunter2"}, {"password": "hunter2"}, {"password": MASK},
            {"password": MASK}, id="equal value: *** on both sides",
        ),
        pytest.param(
            {"password": "hunter2"}, {"password": "swordfish"}, {"password": CHANGED_BEFORE},
            {"password": CHANGED_AFTER}, id="changed value: before and after",
        ),
        pytest.param(
            {"old": "x"}, {"new": "y"}, {"old": MASK}, {"new": MASK},
            id="a key removed and one added: *** on its side",
        ),
    ],
)  # fmt: skip
def test_secret_values_are_masked_but_a_change_shows(
    live: dict[str, str],
    merged: dict[str, str],
    live_masks: dict[str, str],
    merged_masks: dict[str, str],
) -> None:
    left, right = mask_secret_pair(_secret(**live), _secret(**merged))
    assert (left["data"], right["data"]) == (live_masks, merged_masks)


def test_a_drifted_secret_diff_holds_no_value_encoded_or_not() -> None:
    live, merged = _secret(password="hunter2"), _secret(password="swordfish")
    applied = '{"data":{"password":"aHVudGVyMg=="}}'
    live["metadata"]["annotations"] = {"kubectl.kubernetes.io/last-applied-configuration": applied}
    merged["metadata"]["annotations"] = {"kubectl.kubernetes.io/last-applied-configuration": "{}"}
    found = compare("Secret/apps/db", live, merged)
    assert found.action is DiffAction.DRIFTED
    for value in ("hunter2", "swordfish", "aHVudGVyMg==", base64.b64encode(b"swordfish").decode()):
        assert value not in found.diff
    assert CHANGED_BEFORE in found.diff and CHANGED_AFTER in found.diff


def test_other_kinds_are_not_masked() -> None:
    assert mask_secret_pair(_config_map("1"), _config_map("2")) == (
        _config_map("1"),
        _config_map("2"),
    )


DIFFS = [
    ObjectDiff("Namespace/apps", DiffAction.UNCHANGED),
    ObjectDiff("ConfigMap/apps/new", DiffAction.CREATED),
    ObjectDiff("Deployment/apps/web", DiffAction.DRIFTED, "--- a\n+++ b\n"),
    ObjectDiff("Service/apps/web", DiffAction.SKIPPED),
    ObjectDiff("ConfigMap/apps/old", DiffAction.DELETED),
]


def test_the_output_has_flux_lines_for_changes_and_the_diff_after_a_drifted_object() -> None:
    assert render(DIFFS) == (
        "► ConfigMap/apps/new created\n"
        "► Deployment/apps/web drifted\n--- a\n+++ b\n"
        "► ConfigMap/apps/old deleted\n"
    )


@pytest.mark.parametrize(
    ("diffs", "line", "changed"),
    [
        pytest.param(DIFFS, "1 created, 1 drifted, 1 deleted, 1 unchanged, 1 skipped", True,
                     id="every action counted"),
        pytest.param(DIFFS[:1], "0 created, 0 drifted, 0 deleted, 1 unchanged", False,
                     id="nothing to do"),
        pytest.param([], "0 created, 0 drifted, 0 deleted, 0 unchanged", False, id="empty build"),
    ],
)  # fmt: skip
def test_the_summary_counts_each_action_and_changes_decide_the_exit_code(
    diffs: list[ObjectDiff], line: str, changed: bool
) -> None:
    assert summary(diffs) == line
    assert has_changes(diffs) is changed
    assert (render(diffs) == "") is not changed
