"""The SQLite state store: round trips, replacement and merge semantics, the event ring,
schema checks, and where the state directory lives and how git is kept out of it."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tagpilot.adapters.state_dir import StateInUseError, StateLock, default_state_path
from tagpilot.adapters.store import EVENT_RING_SIZE, SCHEMA_VERSION, SqliteStore
from tagpilot.core.errors import InvalidInputError
from tagpilot.ports import AutomationRun, ObjectKey, RecordedEvent, StoredTags

T0 = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
REPO = ObjectKey("ImageRepository", "flux-system", "blaster-dev-repo")


def test_status_round_trips_and_is_replaced_not_merged(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "state.db")
    store.put_status(REPO, {"canonicalImageName": "x", "observedGeneration": 1})
    store.put_status(REPO, {"observedGeneration": 2})
    assert store.get_status(REPO) == {"observedGeneration": 2}
    assert store.get_status(ObjectKey("ImagePolicy", "flux-system", "p")) is None


def test_a_tag_set_replaces_the_previous_one(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "state.db")
    store.put_tags(StoredTags("r.example/app", ("b", "a"), "sha256:1", T0))
    store.put_tags(StoredTags("r.example/app", ("c",), "sha256:2", T0))
    assert store.get_tags("r.example/app") == StoredTags("r.example/app", ("c",), "sha256:2", T0)
    assert store.get_tags("r.example/other") is None


def test_a_rescan_finding_the_same_tags_moves_only_the_scan_time(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "state.db")
    later = T0.replace(hour=13)
    store.put_tags(StoredTags("r.example/app", ("b", "a"), "sha256:1", T0))
    store.put_tags(StoredTags("r.example/app", ("b", "a"), "sha256:1", later))
    assert store.get_tags("r.example/app") == StoredTags(
        "r.example/app", ("b", "a"), "sha256:1", later
    )
    store.put_tags(StoredTags("r.example/app", ("c",), "sha256:2", later))
    assert store.get_tags("r.example/app") == StoredTags("r.example/app", ("c",), "sha256:2", later)


def test_the_scan_time_reads_without_the_tags(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "state.db")
    assert store.get_scan_time("r.example/app") is None
    store.put_tags(StoredTags("r.example/app", ("b", "a"), "sha256:1", T0))
    assert store.get_scan_time("r.example/app") == T0


def test_state_survives_reopening_the_file(tmp_path: Path) -> None:
    SqliteStore(tmp_path / "state.db").put_status(REPO, {"a": 1})
    assert SqliteStore(tmp_path / "state.db").get_status(REPO) == {"a": 1}


def test_events_keep_only_the_newest_per_object(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "state.db")
    for i in range(EVENT_RING_SIZE + 5):
        store.add_event(RecordedEvent(REPO, "Normal", "Succeeded", f"scan {i}", T0))
    events = store.events(REPO, limit=1000)
    assert len(events) == EVENT_RING_SIZE
    assert events[0].message == f"scan {EVENT_RING_SIZE + 4}"


def test_a_file_from_a_newer_tagpilot_is_refused_clearly(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    SqliteStore(path).close()
    db = sqlite3.connect(path)
    db.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION + 1,))
    db.commit()
    db.close()
    with pytest.raises(InvalidInputError, match="newer than this tagpilot understands"):
        SqliteStore(path)


def test_a_file_that_is_not_a_database_is_refused_clearly(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(InvalidInputError, match="cannot open state file"):
        SqliteStore(path)


def test_a_killed_writer_leaves_a_store_that_opens(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    writer = (
        "import sys, os\n"
        "from tagpilot.adapters.store import SqliteStore\n"
        "from tagpilot.ports import ObjectKey\n"
        "s = SqliteStore(sys.argv[1])\n"
        "for i in range(100000):\n"
        "    s.put_status(ObjectKey('K', 'ns', f'n{i % 50}'), {'i': i, 'pad': 'x' * 500})\n"
        "    if i == 300: print('ready', flush=True)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", writer, str(path)], stdout=subprocess.PIPE)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == b"ready"
    proc.kill()
    proc.wait()
    proc.stdout.close()
    store = SqliteStore(path)
    statuses = [store.get_status(ObjectKey("K", "ns", f"n{i}")) for i in range(50)]
    assert all(s is not None and s["i"] >= 250 for s in statuses)


def test_generations_start_at_one_and_grow_only_when_the_spec_changes(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "state.db")
    assert store.observe_generation(REPO, "a") == 1
    assert store.observe_generation(REPO, "a") == 1
    assert store.observe_generation(REPO, "b") == 2
    assert SqliteStore(tmp_path / "state.db").observe_generation(REPO, "b") == 2


def test_a_version_1_file_is_migrated_in_place(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    SqliteStore(path).put_status(REPO, {"a": 1})
    db = sqlite3.connect(path)
    db.execute("DROP TABLE generations")
    db.execute("DROP TABLE runs")
    db.execute("UPDATE schema_version SET version = 1")
    db.commit()
    db.close()
    store = SqliteStore(path)
    assert store.schema_version() == SCHEMA_VERSION
    assert store.get_status(REPO) == {"a": 1}
    assert store.observe_generation(REPO, "x") == 1


def test_statuses_can_be_listed_by_kind(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "state.db")
    policy = ObjectKey("ImagePolicy", "flux-system", "p")
    store.put_status(policy, {"b": 2})
    store.put_status(REPO, {"a": 1})
    assert store.list_statuses("ImagePolicy") == [(policy, {"b": 2})]
    assert [key for key, _ in store.list_statuses()] == [policy, REPO]


def test_automation_runs_are_kept_newest_first(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "state.db")
    change = {"file": "deploy.yaml", "old": "app:1", "new": "app:2", "setter": "ns:p"}
    for index in range(3):
        store.add_run(
            AutomationRun(
                "flux-system", "auto", T0, f"main@sha1:{index}", f"c{index}", "main", (change,)
            )
        )
    runs = store.runs("flux-system", "auto")
    assert [run.commit for run in runs] == ["c2", "c1", "c0"]
    assert runs[0].changes == (change,)
    assert store.runs("flux-system", "other") == []


# -- where state lives, and that git never sees it ------------------------------------


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        pytest.param(
            {"XDG_STATE_HOME": "/x/state", "HOME": "/home/u"},
            "/x/state/tagpilot/state.db",
            id="xdg-state-home",
        ),
        pytest.param({"HOME": "/home/u"}, "/home/u/.local/state/tagpilot/state.db", id="home"),
        pytest.param(
            {"XDG_STATE_HOME": "relative/dir", "HOME": "/home/u"},
            "/home/u/.local/state/tagpilot/state.db",
            id="relative-xdg-is-ignored",
        ),
        pytest.param(
            {"XDG_STATE_HOME": "", "HOME": "/home/u"},
            "/home/u/.local/state/tagpilot/state.db",
            id="empty-xdg-is-ignored",
        ),
    ],
)
def test_the_default_state_file_is_in_the_users_state_directory(
    environ: dict[str, str], expected: str
) -> None:
    assert default_state_path(environ) == Path(expected)


def _git(*args: str, cwd: Path) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    return done.stdout


def test_a_state_directory_inside_a_checkout_is_never_staged(tmp_path: Path) -> None:
    """``git add .`` in the user's checkout stages neither the state file nor the mirrors."""
    _git("init", "-q", cwd=tmp_path)
    (tmp_path / "app.yaml").write_text("kind: Deployment\n")
    store = SqliteStore(tmp_path / ".tagpilot/state.db")
    store.put_status(REPO, {"a": 1})
    (tmp_path / ".tagpilot/git/mirror.git").mkdir(parents=True)
    (tmp_path / ".tagpilot/git/mirror.git/HEAD").write_text("ref: refs/heads/main\n")
    _git("add", ".", cwd=tmp_path)
    assert _git("diff", "--cached", "--name-only", cwd=tmp_path).split() == ["app.yaml"]
    store.close()


def test_a_directory_with_other_files_is_not_told_to_ignore_them(tmp_path: Path) -> None:
    (tmp_path / "app.yaml").write_text("kind: Deployment\n")
    SqliteStore(tmp_path / "state.db").close()
    assert not (tmp_path / ".gitignore").exists()


# -- two processes on one file --------------------------------------------------------

AUTOMATION = ObjectKey("ImageUpdateAutomation", "flux-system", "blaster")
NEWER = {
    "lastPushCommit": "bbbb",
    "lastPushTime": "2026-11-21T12:05:00Z",
    "lastAutomationRunTime": "2026-11-21T12:05:00Z",
    "observedGeneration": 1,
}
OLDER = {
    "lastPushCommit": "aaaa",
    "lastPushTime": "2026-11-21T12:00:00Z",
    "lastAutomationRunTime": "2026-11-21T12:00:00Z",
    "observedGeneration": 2,
}


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [
        pytest.param(OLDER, NEWER, NEWER, id="in-order-writes-replace"),
        pytest.param(
            NEWER, OLDER, {**NEWER, "observedGeneration": 2}, id="a-late-older-push-keeps-the-newer"
        ),
        pytest.param(
            NEWER,
            {"observedGeneration": 3},
            {**NEWER, "observedGeneration": 3},
            id="a-status-without-a-push-keeps-the-last-push",
        ),
        pytest.param(
            {"lastScanResult": {"scanTime": "2026-11-21T12:05:00Z", "tagCount": 5}},
            {"lastScanResult": {"scanTime": "2026-11-21T12:00:00Z", "tagCount": 4}},
            {"lastScanResult": {"scanTime": "2026-11-21T12:05:00Z", "tagCount": 5}},
            id="a-late-older-scan-keeps-the-newer",
        ),
    ],
)
def test_status_writes_from_two_processes_merge_and_never_go_back_in_time(
    tmp_path: Path, first: dict[str, object], second: dict[str, object], expected: object
) -> None:
    one, two = SqliteStore(tmp_path / "state.db"), SqliteStore(tmp_path / "state.db")
    one.put_status(AUTOMATION, first)
    two.put_status(AUTOMATION, second)
    assert one.get_status(AUTOMATION) == expected
    one.close()
    two.close()


def test_a_state_directory_has_one_lock_holder_named_in_the_refusal(tmp_path: Path) -> None:
    held = StateLock(tmp_path / "state")
    with pytest.raises(
        StateInUseError, match=rf"in use by another tagpilot run \(PID {os.getpid()}\)"
    ):
        StateLock(tmp_path / "state")
    held.release()
    StateLock(tmp_path / "state").release()
