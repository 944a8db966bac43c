"""One status field of every object of a kind in a namespace, in one read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tagpilot.adapters.store import SqliteStore
from tagpilot.ports import ObjectKey


def test_one_field_of_a_namespace_s_statuses_comes_back_as_json_text(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "state.db")
    latest = {"name": "registry.example.com/app", "tag": "1.2.3"}
    store.put_status(ObjectKey("ImagePolicy", "apps", "app"), {"latestRef": latest})
    store.put_status(ObjectKey("ImagePolicy", "apps", "pending"), {"conditions": []})
    store.put_status(ObjectKey("ImagePolicy", "other", "app"), {"latestRef": latest})
    store.put_status(ObjectKey("ImageRepository", "apps", "app"), {"latestRef": latest})
    store.put_status(ObjectKey("ImagePolicy", "apps", "odd"), {"latestRef": 'a "tag"'})
    store.put_status(ObjectKey("ImagePolicy", "apps", "none"), {"latestRef": None})

    found = store.status_field("ImagePolicy", "apps", "latestRef")

    decoded = {name: json.loads(text) for name, text in found.items()}
    assert decoded == {"app": latest, "odd": 'a "tag"', "none": None}


@pytest.mark.parametrize("field", ["latestRef.tag", "a'b", 'x"', ""])
def test_a_field_name_is_never_a_json_path(tmp_path: Path, field: str) -> None:
    store = SqliteStore(tmp_path / "state.db")
    with pytest.raises(ValueError, match="not a status field name"):
        store.status_field("ImagePolicy", "apps", field)


def test_the_status_version_of_a_kind_moves_with_every_write_that_may_change_it(
    tmp_path: Path,
) -> None:
    store, other_process = SqliteStore(tmp_path / "state.db"), SqliteStore(tmp_path / "state.db")
    policy = ObjectKey("ImagePolicy", "apps", "app")
    seen = [store.status_version("ImagePolicy")]

    store.put_status(ObjectKey("ImageRepository", "apps", "app"), {"conditions": []})
    unchanged_by_another_kind = store.status_version("ImagePolicy")
    store.put_status(policy, {"latestRef": {"name": "app", "tag": "1"}})
    seen.append(store.status_version("ImagePolicy"))
    other_process.put_status(policy, {"latestRef": {"name": "app", "tag": "2"}})
    seen.append(store.status_version("ImagePolicy"))

    assert unchanged_by_another_kind == seen[0]
    assert len(set(seen)) == 3
    assert json.loads(store.status_field("ImagePolicy", "apps", "latestRef")["app"])["tag"] == "2"
