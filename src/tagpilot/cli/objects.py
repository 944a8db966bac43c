"""Where the flux-style commands get objects, statuses and events from.

A running daemon (``tagpilot run``) answers on its JSON API at ``--server``
(:mod:`tagpilot.cli.daemon_client`); the state file (``--state``, opened read-only through
the store's own read API, so a ``get`` never creates or migrates it) together with the
manifests given with ``--manifests`` (the object list and spec fields such as ``suspend``)
is the other source.  Without manifests, the objects the state file knows are listed, with
the spec and metadata they were last reconciled with (none for a status written by an older
tagpilot).

Which one is read: an explicit ``--state`` with the default ``--server`` reads the state
file only (a daemon of another project on the default port must not answer for it);
otherwise the daemon while it answers, then the state file.  When a default decided, a note
on stderr says which source was read.
Used by :mod:`tagpilot.cli.get` and :mod:`tagpilot.cli.actions`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click
from click.core import ParameterSource

from tagpilot.adapters.manifests import load_paths
from tagpilot.adapters.state_dir import default_state_path
from tagpilot.adapters.store import SqliteStore
from tagpilot.api.descriptors import IMAGE_UPDATE
from tagpilot.api.export import export_document
from tagpilot.api.kinds import AnyObject
from tagpilot.api.server_defaults import with_server_defaults
from tagpilot.cli.daemon_client import (
    DEFAULT_SERVER,
    EVENT_LIMIT,
    DaemonClient,
    DaemonUnavailableError,
)
from tagpilot.cli.views import ObjectSource, ObjectView, view_of
from tagpilot.ports import AutomationRun, ObjectKey, RecordedEvent
from tagpilot.server.protocols import RUNS_SHOWN

__all__ = [
    "DEFAULT_NAMESPACE",
    "DEFAULT_SERVER",
    "DEFAULT_STATE",
    "NS_HELP",
    "AutoSource",
    "LocalSource",
    "ObjectSource",
    "ObjectView",
    "open_source",
    "source_from_flags",
]

DEFAULT_STATE = default_state_path  # called when a command runs: reads $XDG_STATE_HOME
DEFAULT_NAMESPACE = "flux-system"
NS_HELP = "Namespace of the objects."
_T = TypeVar("_T")


@contextmanager
def _read_only(path: Path) -> Iterator[SqliteStore | None]:
    """The state file opened for reading, or None when there is none yet."""
    store = SqliteStore.open_read_only(path)
    if store is None:
        yield None
        return
    with closing(store):
        yield store


def _manifest_view(
    obj: AnyObject, statuses: Mapping[ObjectKey, object], store: SqliteStore | None
) -> ObjectView:
    document = export_document(with_server_defaults(obj))
    spec = document.get("spec") or {}
    key = ObjectKey(obj.kind, obj.namespace, obj.name)
    return view_of(
        obj.kind,
        obj.namespace,
        obj.name,
        spec=spec,
        status=statuses.get(key),
        suspended=bool(spec.get("suspend")),
        runs=_runs(store, key),
        metadata=document.get("metadata"),
    )


def _stored_view(
    key: ObjectKey, status: object, kept: Mapping[str, Any] | None, store: SqliteStore
) -> ObjectView:
    """An object known only to the state file: its status, and the object last reconciled.

    Without a kept object (a status written by an older tagpilot) the spec is unknown: None.
    """
    spec = dict(kept.get("spec") or {}) if kept is not None else None
    return view_of(
        key.kind,
        key.namespace,
        key.name,
        spec=spec,
        status=status,
        suspended=bool(spec and spec.get("suspend")),
        runs=_runs(store, key),
        metadata=kept.get("metadata") if kept is not None else None,
    )


def _runs(store: SqliteStore | None, key: ObjectKey) -> list[AutomationRun]:
    if store is None or key.kind != IMAGE_UPDATE.kind:
        return []
    return store.runs(key.namespace, key.name, RUNS_SHOWN)


class LocalSource:
    """Objects from the manifests (without them: the stored statuses) and the state file."""

    def __init__(self, state: Path, manifests: Sequence[Path] = ()) -> None:
        self.state = state
        self.manifests = tuple(manifests)

    @property
    def label(self) -> str:
        """Where this source reads from."""
        return f"state file {self.state}"

    @functools.cached_property
    def _loaded(self) -> list[AnyObject]:
        """Every object in the manifests, read once however many kinds are asked for."""
        loaded = load_paths(self.manifests).objects if self.manifests else []
        return [item.obj for item in loaded if item.obj is not None]

    def manifest_objects(self, kind: str) -> list[AnyObject]:
        """The objects of ``kind`` in the manifests, in file order."""
        return [obj for obj in self._loaded if obj.kind == kind]

    def list_objects(self, kind: str, namespace: str | None) -> list[ObjectView]:
        """Objects of ``kind`` with their stored status, sorted by namespace and name."""
        with _read_only(self.state) as store:
            statuses = dict(store.list_statuses(kind)) if store is not None else {}
            if self.manifests:
                objects = self.manifest_objects(kind)
                views = [_manifest_view(obj, statuses, store) for obj in objects]
            elif store is not None:
                kept = store.list_objects(kind)
                keys = sorted({*statuses, *kept}, key=lambda k: (k.namespace, k.name))
                views = [_stored_view(k, statuses.get(k), kept.get(k), store) for k in keys]
            else:
                views = []
        chosen = [v for v in views if namespace is None or v.namespace == namespace]
        return sorted(chosen, key=lambda v: (v.namespace, v.name))

    def list_events(self, namespace: str | None, key: ObjectKey | None) -> list[RecordedEvent]:
        """Events from the state file, oldest first."""
        with _read_only(self.state) as store:
            found = list(store.events(key, EVENT_LIMIT)) if store is not None else []
        return [e for e in reversed(found) if namespace is None or e.key.namespace == namespace]


class AutoSource:
    """The daemon while it answers; the state file and manifests once it does not.

    ``daemon`` None: the state file only.  ``announce`` names the sources (``daemon``,
    ``local``) a default rather than the user chose: reading one of them says so, once, on
    stderr, so nobody mistakes another project's daemon or state for their own.
    """

    def __init__(
        self,
        daemon: DaemonClient | None,
        local: LocalSource,
        *,
        announce: frozenset[str] = frozenset(),
    ) -> None:
        self.daemon = daemon
        self.local = local
        self.announce = announce
        self.using_daemon = daemon is not None
        self._announced = False

    @property
    def label(self) -> str:
        """The source read last."""
        return self.daemon.label if self.using_daemon and self.daemon else self.local.label

    def _call(self, action: Callable[[ObjectSource], _T]) -> _T:
        if self.using_daemon and self.daemon is not None:
            try:
                return self._noted(action(self.daemon), "daemon", self.daemon.label)
            except DaemonUnavailableError:
                self.using_daemon = False
        note = self.local.label
        if self.daemon is not None:
            note = f"{note}: no tagpilot daemon answers at {self.daemon.url}"
        return self._noted(action(self.local), "local", note)

    def _noted(self, result: _T, which: str, label: str) -> _T:
        if which in self.announce and not self._announced:
            self._announced = True
            click.echo(f"objects from {label}", err=True)
        return result

    def list_objects(self, kind: str, namespace: str | None) -> list[ObjectView]:
        """Objects of ``kind`` from whichever source answers."""
        return self._call(lambda source: source.list_objects(kind, namespace))

    def list_events(self, namespace: str | None, key: ObjectKey | None) -> list[RecordedEvent]:
        """Events from whichever source answers."""
        return self._call(lambda source: source.list_events(namespace, key))


def open_source(
    server: str,
    state: Path,
    manifests: Sequence[Path],
    *,
    state_only: bool = False,
    announce: frozenset[str] = frozenset(),
) -> AutoSource:
    """The daemon at ``server`` (unless ``state_only``), else ``state`` and ``manifests``."""
    daemon = None if state_only else DaemonClient(server)
    return AutoSource(daemon, LocalSource(state, manifests), announce=announce)


def _given(name: str) -> bool:
    """Whether the user gave option ``name`` (on the command line or in the environment)."""
    context = click.get_current_context(silent=True)
    if context is None:
        return True
    source = context.get_parameter_source(name)
    return source in (ParameterSource.COMMANDLINE, ParameterSource.ENVIRONMENT)


def source_from_flags(server: str, state: Path, manifests: Sequence[Path]) -> AutoSource:
    """The source ``--server``, ``--state`` and ``--manifests`` ask for.

    An explicit ``--state`` with the default ``--server`` reads the state file only; a
    source chosen by default is named on stderr when it is read.
    """
    server_given, state_given = _given("server"), _given("state")
    announce = {"daemon"} if not server_given else set()
    if not state_given:
        announce.add("local")
    state_only = state_given and not server_given
    return open_source(
        server, state, manifests, state_only=state_only, announce=frozenset(announce)
    )
