"""The SQLite state store: objects, statuses, tag sets, events and automation runs in one file.

Each reconciled object is kept as it was last reconciled (apiVersion, kind, metadata, spec;
never a Secret's data), so ``get -o yaml`` reading the file shows the spec without manifests.

WAL mode and one transaction per write keep the file consistent if the process is killed
at any instant.  Where the file lives by default, the directory's
``.gitignore`` and the daemon's lock are :mod:`tagpilot.adapters.state_dir`'s.
A ``schema_version`` table and the ordered ``_MIGRATIONS`` list upgrade
older files in place; a file written by a newer tagpilot is refused with a clear error.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from tagpilot.adapters.state_dir import ignore_state_directory
from tagpilot.core.errors import InvalidInputError, RetryableError
from tagpilot.ports import AutomationRun, ObjectKey, RecordedEvent, StoredTags

__all__ = ["EVENT_RING_SIZE", "SCHEMA_VERSION", "SqliteStore", "merge_status"]

EVENT_RING_SIZE = 200

_MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE status (
        kind TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL,
        body TEXT NOT NULL, PRIMARY KEY (kind, namespace, name));
    CREATE TABLE tags (
        canonical_name TEXT PRIMARY KEY, tags TEXT NOT NULL,
        revision TEXT NOT NULL, scan_time TEXT NOT NULL);
    CREATE TABLE events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        kind TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL,
        type TEXT NOT NULL, reason TEXT NOT NULL, message TEXT NOT NULL, time TEXT NOT NULL);
    CREATE INDEX events_by_object ON events (kind, namespace, name, id);
    """,
    """
    CREATE TABLE generations (
        kind TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL,
        spec_hash TEXT NOT NULL, generation INTEGER NOT NULL,
        PRIMARY KEY (kind, namespace, name));
    """,
    """
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        namespace TEXT NOT NULL, name TEXT NOT NULL, time TEXT NOT NULL,
        revision TEXT NOT NULL, commit_sha TEXT, branch TEXT, changes TEXT NOT NULL);
    CREATE INDEX runs_by_automation ON runs (namespace, name, id);
    """,
    """
    CREATE TABLE IF NOT EXISTS objects (
        kind TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL,
        body TEXT NOT NULL, PRIMARY KEY (kind, namespace, name));
    """,
)
SCHEMA_VERSION = len(_MIGRATIONS)
_OBJECTS_SINCE = 4
"""The schema version that added the ``objects`` table (older files have none to read)."""
_SECRET_KIND = "Secret"


class SqliteStore:
    """A ``StateStore`` in one SQLite file (``:memory:`` for throwaway use)."""

    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        self.write_failure: str | None = None
        """Why the last write failed; None once a write succeeds again (for ``/readyz``)."""
        self._status_writes: dict[str, int] = {}
        if self.path != ":memory:":
            file = Path(self.path)
            file.parent.mkdir(parents=True, exist_ok=True)
            ignore_state_directory(file.parent, file.name)
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA busy_timeout=5000")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise InvalidInputError(
                f"cannot open state file {self.path}: {exc} (move it aside to start afresh)"
            ) from exc

    def close(self) -> None:
        """Close the database connection."""
        self._db.close()

    def schema_version(self) -> int:
        """The schema version of the open file."""
        row = self._db.execute("SELECT version FROM schema_version").fetchone()
        return int(row[0])

    @classmethod
    def open_read_only(cls, path: Path) -> SqliteStore | None:
        """``path`` for reading only: never created, migrated or written; None when missing."""
        if not path.exists():
            return None
        store = cls.__new__(cls)
        store.path = str(path)
        try:
            uri = f"{path.resolve().as_uri()}?mode=ro"
            store._db = sqlite3.connect(uri, uri=True, check_same_thread=False)
            version = store.schema_version()
        except sqlite3.DatabaseError as error:
            raise InvalidInputError(f"cannot read state file {path}: {error}") from error
        if version > SCHEMA_VERSION:
            store.close()
            raise InvalidInputError(
                f"state file {path} has schema version {version}, newer than this tagpilot "
                f"understands ({SCHEMA_VERSION}); upgrade tagpilot"
            )
        return store

    def _migrate(self) -> None:
        self._db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        row = self._db.execute("SELECT version FROM schema_version").fetchone()
        current = int(row[0]) if row else 0
        if current > SCHEMA_VERSION:
            raise InvalidInputError(
                f"state file {self.path} has schema version {current}, newer than this "
                f"tagpilot understands ({SCHEMA_VERSION}); upgrade tagpilot"
            )
        for version in range(current, SCHEMA_VERSION):
            self._apply_migration(version + 1, _MIGRATIONS[version], first=row is None)
            row = (version + 1,)

    def _apply_migration(self, version: int, script: str, *, first: bool) -> None:
        statements = [s for s in script.split(";") if s.strip()]
        with self._transaction():
            for statement in statements:
                self._db.execute(statement)
            if first and version == 1:
                self._db.execute("INSERT INTO schema_version (version) VALUES (1)")
            else:
                self._db.execute("UPDATE schema_version SET version = ?", (version,))

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db, self._record)

    def _record(self, failure: str | None) -> None:
        self.write_failure = failure

    def get_status(self, key: ObjectKey) -> dict[str, Any] | None:
        """The object's last written status, or None."""
        row = self._db.execute(
            "SELECT body FROM status WHERE kind=? AND namespace=? AND name=?",
            (key.kind, key.namespace, key.name),
        ).fetchone()
        return dict(json.loads(row[0])) if row else None

    def status_field(self, kind: str, namespace: str, field: str) -> dict[str, str]:
        """Object name -> JSON text of one top-level status field, for every object of
        ``kind`` in ``namespace`` whose status has it.

        One query where reading each status would be one query and one decode per object
        (an automation reads the latest image of thousands of policies on every run).
        """
        if not field.isidentifier():
            raise ValueError(f"not a status field name: {field!r}")
        path = f'$."{field}"'
        # json_extract gives objects and arrays as JSON text but strings bare: quote the
        # rest (``->`` would do it, but needs SQLite 3.38).
        rows = self._db.execute(
            "SELECT name, CASE WHEN json_type(body, :path) IN ('object', 'array') "
            "THEN json_extract(body, :path) ELSE json_quote(json_extract(body, :path)) END "
            "FROM status WHERE kind=:kind AND namespace=:namespace "
            "AND json_type(body, :path) IS NOT NULL",
            {"path": path, "kind": kind, "namespace": namespace},
        ).fetchall()
        return {str(name): str(text) for name, text in rows}

    def status_version(self, kind: str) -> tuple[int, int]:
        """A value that changes whenever a status of ``kind`` may have changed: this
        connection's writes of that kind, and SQLite's ``data_version``, which moves with
        every commit of another connection (another process on the same file)."""
        (others,) = self._db.execute("PRAGMA data_version").fetchone()
        return int(others), self._status_writes.get(kind, 0)

    def put_status(self, key: ObjectKey, status: Mapping[str, Any]) -> None:
        """Replace the object's status, except records newer than the ones given.

        Two processes on one file (a daemon and a one-shot run, or two one-shot runs) may
        write in the opposite order from the one they worked in; the read and the write
        share one transaction, so a newer push, automation run or scan always wins.
        """
        # Counted before the write: a failed one only makes readers read again.
        self._status_writes[key.kind] = self._status_writes.get(key.kind, 0) + 1
        with self._transaction():
            row = self._db.execute(
                "SELECT body FROM status WHERE kind=? AND namespace=? AND name=?", _key_tuple(key)
            ).fetchone()
            merged = merge_status(json.loads(row[0]) if row else None, status)
            body = json.dumps(merged, sort_keys=True)
            self._db.execute(
                "INSERT INTO status (kind, namespace, name, body) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (kind, namespace, name) DO UPDATE SET body=excluded.body",
                (key.kind, key.namespace, key.name, body),
            )

    def put_object(self, key: ObjectKey, document: Mapping[str, Any]) -> None:
        """Keep the object as last reconciled: apiVersion, kind, metadata and spec.

        A Secret is never kept: its data must not be copied into the state file.
        """
        if key.kind == _SECRET_KIND or document.get("kind") == _SECRET_KIND:
            return
        kept = {k: document[k] for k in ("apiVersion", "kind", "metadata", "spec") if k in document}
        with self._transaction():
            self._db.execute(
                "INSERT INTO objects (kind, namespace, name, body) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (kind, namespace, name) DO UPDATE SET body=excluded.body "
                "WHERE body != excluded.body",
                (*_key_tuple(key), json.dumps(kept, sort_keys=True)),
            )

    def list_objects(self, kind: str) -> dict[ObjectKey, dict[str, Any]]:
        """The kept objects of ``kind``, ``metadata.generation`` filled in from the generations.

        Empty for a file older than the ``objects`` table (opened read-only, never migrated).
        """
        if self.schema_version() < _OBJECTS_SINCE:
            return {}
        rows = self._db.execute(
            "SELECT o.namespace, o.name, o.body, g.generation FROM objects o"
            " LEFT JOIN generations g"
            " ON g.kind = o.kind AND g.namespace = o.namespace AND g.name = o.name"
            " WHERE o.kind=? ORDER BY o.namespace, o.name",
            (kind,),
        ).fetchall()
        found: dict[ObjectKey, dict[str, Any]] = {}
        for namespace, name, body, generation in rows:
            document = dict(json.loads(body))
            if generation is not None:
                document["metadata"] = {**document.get("metadata", {}), "generation": generation}
            found[ObjectKey(kind, namespace, name)] = document
        return found

    def observe_generation(self, key: ObjectKey, spec_hash: str) -> int:
        """The object's generation: 1 when first seen, +1 whenever its spec hash changes."""
        with self._transaction():
            row = self._db.execute(
                "SELECT spec_hash, generation FROM generations "
                "WHERE kind=? AND namespace=? AND name=?",
                _key_tuple(key),
            ).fetchone()
            if row is not None and row[0] == spec_hash:
                return int(row[1])
            generation = 1 if row is None else int(row[1]) + 1
            self._db.execute(
                "INSERT INTO generations (kind, namespace, name, spec_hash, generation) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (kind, namespace, name) DO UPDATE SET "
                "spec_hash=excluded.spec_hash, generation=excluded.generation",
                (*_key_tuple(key), spec_hash, generation),
            )
            return generation

    def add_run(self, run: AutomationRun) -> None:
        """Record one automation run that changed files; the oldest beyond the ring go."""
        with self._transaction():
            self._db.execute(
                "INSERT INTO runs (namespace, name, time, revision, commit_sha, branch, changes) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    run.namespace,
                    run.name,
                    run.time.isoformat(),
                    run.source_revision,
                    run.commit,
                    run.branch,
                    json.dumps(list(run.changes)),
                ),
            )
            self._db.execute(
                "DELETE FROM runs WHERE namespace=? AND name=? AND id NOT IN (SELECT id FROM "
                "runs WHERE namespace=? AND name=? ORDER BY id DESC LIMIT ?)",
                (run.namespace, run.name, run.namespace, run.name, EVENT_RING_SIZE),
            )

    def runs(self, namespace: str, name: str, limit: int = 20) -> list[AutomationRun]:
        """Newest-first runs of one automation."""
        rows = self._db.execute(
            "SELECT namespace, name, time, revision, commit_sha, branch, changes FROM runs "
            "WHERE namespace=? AND name=? ORDER BY id DESC LIMIT ?",
            (namespace, name, limit),
        ).fetchall()
        return [
            AutomationRun(
                r[0], r[1], datetime.fromisoformat(r[2]), r[3], r[4], r[5], tuple(json.loads(r[6]))
            )
            for r in rows
        ]

    def list_statuses(self, kind: str | None = None) -> list[tuple[ObjectKey, dict[str, Any]]]:
        """Every stored status (of one kind), sorted by key."""
        query, args = "SELECT kind, namespace, name, body FROM status", tuple[str, ...]()
        if kind is not None:
            query, args = query + " WHERE kind=?", (kind,)
        rows = self._db.execute(query + " ORDER BY kind, namespace, name", args).fetchall()
        return [(ObjectKey(r[0], r[1], r[2]), dict(json.loads(r[3]))) for r in rows]

    def get_tags(self, canonical_name: str) -> StoredTags | None:
        """The stored tag set of a repository, or None when never scanned."""
        row = self._db.execute(
            "SELECT tags, revision, scan_time FROM tags WHERE canonical_name=?",
            (canonical_name,),
        ).fetchone()
        if row is None:
            return None
        return StoredTags(
            canonical_name, tuple(json.loads(row[0])), row[1], datetime.fromisoformat(row[2])
        )

    def get_scan_time(self, canonical_name: str) -> datetime | None:
        """When the stored tag set of a repository was scanned (None when never)."""
        row = self._db.execute(
            "SELECT scan_time FROM tags WHERE canonical_name=?", (canonical_name,)
        ).fetchone()
        return None if row is None else datetime.fromisoformat(row[0])

    def put_tags(self, stored: StoredTags) -> None:
        """Replace the tag set of a repository (never appends).

        ``revision`` identifies the tags (a hash of them): a set stored under the same
        revision is the same set, and only its scan time is written.
        """
        with self._transaction():
            # Most rescans find the same tags: then only the scan time changes, and the
            # list (thousands of tags, in JSON) is neither encoded nor written again.
            unchanged = self._db.execute(
                "UPDATE tags SET scan_time=? WHERE canonical_name=? AND revision=?",
                (stored.scan_time.isoformat(), stored.canonical_name, stored.revision),
            )
            if unchanged.rowcount:
                return
            self._db.execute(
                "INSERT INTO tags (canonical_name, tags, revision, scan_time) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (canonical_name) DO UPDATE SET "
                "tags=excluded.tags, revision=excluded.revision, scan_time=excluded.scan_time",
                (
                    stored.canonical_name,
                    json.dumps(list(stored.tags)),
                    stored.revision,
                    stored.scan_time.isoformat(),
                ),
            )

    def add_event(self, event: RecordedEvent) -> None:
        """Record an event; the oldest events beyond ``EVENT_RING_SIZE`` per object go."""
        key = event.key
        with self._transaction():
            self._db.execute(
                "INSERT INTO events (kind, namespace, name, type, reason, message, time) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    key.kind,
                    key.namespace,
                    key.name,
                    event.type,
                    event.reason,
                    event.message,
                    event.time.isoformat(),
                ),
            )
            self._db.execute(
                "DELETE FROM events WHERE kind=? AND namespace=? AND name=? AND id NOT IN "
                "(SELECT id FROM events WHERE kind=? AND namespace=? AND name=? "
                "ORDER BY id DESC LIMIT ?)",
                (*_key_tuple(key), *_key_tuple(key), EVENT_RING_SIZE),
            )

    def events(self, key: ObjectKey | None = None, limit: int = 100) -> Sequence[RecordedEvent]:
        """Newest-first events, of one object or of all."""
        query = "SELECT kind, namespace, name, type, reason, message, time FROM events"
        args: tuple[object, ...] = ()
        if key is not None:
            query += " WHERE kind=? AND namespace=? AND name=?"
            args = _key_tuple(key)
        rows = self._db.execute(query + " ORDER BY id DESC LIMIT ?", (*args, limit)).fetchall()
        return [
            RecordedEvent(
                ObjectKey(r[0], r[1], r[2]), r[3], r[4], r[5], datetime.fromisoformat(r[6])
            )
            for r in rows
        ]


_MONOTONIC: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("lastPushTime", ("lastPushTime", "lastPushCommit")),
    ("lastAutomationRunTime", ("lastAutomationRunTime",)),
    ("lastScanResult.scanTime", ("lastScanResult",)),
)
"""A time field and the fields recorded with it: a write never moves them back in time."""


def merge_status(stored: Mapping[str, Any] | None, new: Mapping[str, Any]) -> dict[str, Any]:
    """``new``, keeping each of ``stored``'s ``_MONOTONIC`` groups that is newer."""
    merged = dict(new)
    for clock, fields in _MONOTONIC:
        if stored is not None and _later(_time_at(stored, clock), _time_at(new, clock)):
            for name in fields:
                if name in stored:
                    merged[name] = stored[name]
    return merged


def _time_at(status: Mapping[str, Any], path: str) -> datetime | None:
    value: Any = status
    for part in path.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _later(stored: datetime | None, new: datetime | None) -> bool:
    """Whether the stored record is newer (a new status without the record keeps it)."""
    if stored is None or new is None:
        return stored is not None
    try:
        return stored > new
    except TypeError:  # one time without a zone: not comparable, the new write wins
        return False


def _key_tuple(key: ObjectKey) -> tuple[str, str, str]:
    return (key.kind, key.namespace, key.name)


class _Transaction:
    """``BEGIN IMMEDIATE`` … ``COMMIT``; rolls back on error and maps sqlite errors.

    ``record`` hears each outcome: None after a commit, the cause after a failure.
    """

    def __init__(self, db: sqlite3.Connection, record: Callable[[str | None], None]) -> None:
        self._db = db
        self._record = record

    def __enter__(self) -> None:
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as error:
            raise self._failed(error) from error

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        if exc is None:
            try:
                self._db.execute("COMMIT")
            except sqlite3.Error as error:  # a full disk fails here, not in the statements
                self._rollback()
                raise self._failed(error) from error
            self._record(None)
            return
        self._rollback()
        if isinstance(exc, sqlite3.Error):
            raise self._failed(exc) from exc

    def _failed(self, error: sqlite3.Error) -> RetryableError:
        failure = _unavailable(error)
        self._record(str(failure))
        return failure

    def _rollback(self) -> None:
        # After a failed COMMIT sqlite may already have rolled back; nothing more to undo.
        with contextlib.suppress(sqlite3.Error):
            self._db.execute("ROLLBACK")


def _unavailable(error: sqlite3.Error) -> RetryableError:
    return RetryableError(f"state store busy or unavailable: {error}")
