"""Where the flux-style commands get objects, statuses and events from.

A running daemon (``tagpilot run``) answers on its JSON API at ``--server``; when nothing
listens there, the commands read the state file (``--state``, opened read-only so a ``get``
never creates or migrates it) together with the manifests given with ``--manifests`` (the
object list and spec fields such as ``suspend``).  Without manifests, the objects that have a
status in the state file are listed.  Specs look as the API server would store them: unset
fields with a CRD default filled in (``with_server_defaults``), other unset fields left out.
``fail`` and ``flux_errors`` report failures the Flux way, as one ``✗`` line on stderr.
Used by :mod:`tagpilot.cli.get` and :mod:`tagpilot.cli.actions`.
"""

from __future__ import annotations

import functools
import json
import os
import sqlite3
import urllib.parse
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn, ParamSpec, Protocol, TypeVar

import click
import httpx

from tagpilot.adapters.manifests import load_paths
from tagpilot.adapters.state_dir import default_state_path
from tagpilot.adapters.store import SCHEMA_VERSION
from tagpilot.api.automation import ImageUpdateAutomation
from tagpilot.api.export import export_document
from tagpilot.api.image import IMAGE_API_V1, ImagePolicy, ImageRepository
from tagpilot.api.kinds import AnyObject
from tagpilot.api.source import SOURCE_API_V1
from tagpilot.cli.errors import EXIT_FAILED, exit_code_for
from tagpilot.cli.render import FAILURE
from tagpilot.core.errors import (
    InvalidInputError,
    RetryableError,
    StalledError,
    TagpilotError,
)
from tagpilot.ports import ObjectKey, RecordedEvent
from tagpilot.server.access import auth_headers

__all__ = [
    "DEFAULT_NAMESPACE",
    "DEFAULT_SERVER",
    "DEFAULT_STATE",
    "EVENT_LIMIT",
    "KINDS",
    "NS_HELP",
    "ActionResult",
    "AutoSource",
    "DaemonClient",
    "DaemonUnavailableError",
    "KindInfo",
    "LocalSource",
    "ObjectSource",
    "ObjectView",
    "fail",
    "flux_errors",
    "kind_by_name",
    "open_source",
    "read_events",
    "read_statuses",
    "with_server_defaults",
]

DEFAULT_SERVER = "http://127.0.0.1:9797"
DEFAULT_STATE = default_state_path  # called when a command runs: reads $XDG_STATE_HOME
DEFAULT_NAMESPACE = "flux-system"
NS_HELP = "Namespace of the objects."
EVENT_LIMIT = 1000
_T = TypeVar("_T")
_P = ParamSpec("_P")


@dataclass(frozen=True)
class KindInfo:
    """How the CLI names one kind: its group and word on the command line, its human name."""

    kind: str
    group: str
    word: str
    human: str
    api_version: str


KINDS = (
    KindInfo("ImageRepository", "image", "repository", "image repository", IMAGE_API_V1),
    KindInfo("ImagePolicy", "image", "policy", "image policy", IMAGE_API_V1),
    KindInfo("ImageUpdateAutomation", "image", "update", "image update automation", IMAGE_API_V1),
    KindInfo("GitRepository", "source", "git", "source git", SOURCE_API_V1),
)


def kind_by_name(name: str) -> KindInfo | None:
    """The kind called ``name`` (``ImagePolicy``, case-insensitive), or None."""
    return next((info for info in KINDS if info.kind.lower() == name.lower()), None)


@dataclass(frozen=True)
class ObjectView:
    """One object as the CLI shows it: identity, spec and status in Flux's JSON names."""

    kind: str
    namespace: str
    name: str
    spec: Mapping[str, Any] = field(default_factory=dict)
    status: Mapping[str, Any] = field(default_factory=dict)
    suspended: bool = False

    @property
    def key(self) -> ObjectKey:
        """The object's store key."""
        return ObjectKey(self.kind, self.namespace, self.name)


class ObjectSource(Protocol):
    """Lists objects and events, from the daemon or from the state file."""

    def list_objects(self, kind: str, namespace: str | None) -> list[ObjectView]:
        """Objects of ``kind`` in ``namespace`` (None: every namespace), sorted."""
        ...

    def list_events(self, namespace: str | None, key: ObjectKey | None) -> list[RecordedEvent]:
        """Events oldest first, of one object or of a namespace (None: every namespace)."""
        ...


@dataclass(frozen=True)
class ActionResult:
    """The daemon's answer to an action: the object's status, and whether it queued a reconcile."""

    status: Mapping[str, Any]
    queued: bool


def _error_text(response: httpx.Response) -> str:
    """The daemon's ``{"error": ...}`` message, else the start of the body."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        return str(body["error"])
    return response.text.strip()[:200] or response.reason_phrase


class DaemonUnavailableError(RetryableError):
    """Nothing answers at the daemon's address."""

    def __init__(self, url: str) -> None:
        super().__init__(f"no tagpilot daemon at {url}")
        self.url = url


def _segment(text: str) -> str:
    return urllib.parse.quote(text, safe="")


def _object_path(key: ObjectKey) -> str:
    return f"/api/v1/objects/{_segment(key.kind)}/{_segment(key.namespace)}/{_segment(key.name)}"


def _view(item: Mapping[str, Any]) -> ObjectView:
    return ObjectView(
        str(item["kind"]),
        str(item["namespace"]),
        str(item["name"]),
        item.get("spec") or {},
        item.get("status") or {},
        bool(item.get("suspended")),
    )


def _event(item: Mapping[str, Any]) -> RecordedEvent:
    key = ObjectKey(str(item["kind"]), str(item["namespace"]), str(item["name"]))
    time = datetime.fromisoformat(str(item["time"]))
    return RecordedEvent(key, str(item["type"]), str(item["reason"]), str(item["message"]), time)


class DaemonClient:
    """The daemon's JSON API; ``DaemonUnavailableError`` when nothing listens at ``url``."""

    def __init__(self, url: str, *, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self._timeout = timeout

    def _request(
        self, method: str, path: str, *, params: Mapping[str, str] | None = None, body: Any = None
    ) -> httpx.Response:
        try:
            with httpx.Client(base_url=self.url, timeout=self._timeout, trust_env=False) as client:
                headers = auth_headers(os.environ)  # the daemon's API token, when configured
                return client.request(method, path, params=params, json=body, headers=headers)
        except (httpx.ConnectError, httpx.ConnectTimeout) as error:
            raise DaemonUnavailableError(self.url) from error
        except httpx.HTTPError as error:
            raise RetryableError(f"tagpilot daemon at {self.url}: {error}") from error

    def _json(self, response: httpx.Response) -> Any:
        if response.is_success:
            try:
                return response.json()
            except ValueError:
                pass
        detail = _error_text(response)
        if response.is_client_error:
            raise StalledError(detail)
        raise RetryableError(
            f"tagpilot daemon at {self.url} answered {response.status_code} "
            f"to {response.request.method} {response.request.url.path}: {detail}"
        )

    def list_objects(self, kind: str, namespace: str | None) -> list[ObjectView]:
        """``GET /api/v1/objects?kind=&namespace=``."""
        params = {"kind": kind} | ({"namespace": namespace} if namespace is not None else {})
        items = self._json(self._request("GET", "/api/v1/objects", params=params))["items"]
        return sorted((_view(item) for item in items), key=lambda v: (v.namespace, v.name))

    def get_object(self, key: ObjectKey) -> ObjectView | None:
        """``GET /api/v1/objects/{kind}/{namespace}/{name}``; None when there is no such object."""
        response = self._request("GET", _object_path(key))
        return None if response.status_code == 404 else _view(self._json(response))

    def list_events(self, namespace: str | None, key: ObjectKey | None) -> list[RecordedEvent]:
        """``GET /api/v1/events?namespace=&kind=&name=``, oldest first."""
        params = {"limit": str(EVENT_LIMIT)}
        if namespace is not None:
            params["namespace"] = namespace
        if key is not None:
            params |= {"kind": key.kind, "namespace": key.namespace, "name": key.name}
        items = self._json(self._request("GET", "/api/v1/events", params=params))["items"]
        return sorted((_event(item) for item in items), key=lambda event: event.time)

    def act(self, key: ObjectKey, action: str, body: Mapping[str, Any]) -> ActionResult | None:
        """``POST .../{action}`` (reconcile, suspend, resume); None when there is no such object."""
        response = self._request("POST", f"{_object_path(key)}/{action}", body=dict(body))
        if response.status_code == 404:
            return None
        status = self._json(response).get("status") or {}
        return ActionResult(status, queued=response.status_code == 202)


@contextmanager
def _read_only(path: Path) -> Iterator[sqlite3.Connection | None]:
    """The state file opened read-only, or None when there is none yet."""
    if not path.exists():
        yield None
        return
    try:
        with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as db:
            _check_version(db, path)
            yield db
    except sqlite3.DatabaseError as error:
        raise InvalidInputError(f"cannot read state file {path}: {error}") from error


def _check_version(db: sqlite3.Connection, path: Path) -> None:
    row = db.execute("SELECT version FROM schema_version").fetchone()
    if row and int(row[0]) > SCHEMA_VERSION:
        raise InvalidInputError(
            f"state file {path} has schema version {row[0]}, newer than this tagpilot "
            f"understands ({SCHEMA_VERSION}); upgrade tagpilot"
        )


def _where(**columns: str | None) -> tuple[str, tuple[str, ...]]:
    """A ``WHERE`` clause matching the columns given a value, and its arguments."""
    chosen = {name: value for name, value in columns.items() if value is not None}
    clause = " AND ".join(f"{name}=?" for name in chosen)
    return (f" WHERE {clause}" if clause else ""), tuple(chosen.values())


def read_statuses(path: Path, kind: str | None = None) -> list[tuple[ObjectKey, dict[str, Any]]]:
    """Every stored status (of one kind), sorted by key; empty when the file does not exist."""
    clause, args = _where(kind=kind)
    with _read_only(path) as db:
        query = "SELECT kind, namespace, name, body FROM status" + clause
        rows = [] if db is None else db.execute(query, args).fetchall()
    return sorted((ObjectKey(r[0], r[1], r[2]), dict(json.loads(r[3]))) for r in rows)


def read_events(
    path: Path, namespace: str | None = None, key: ObjectKey | None = None
) -> list[RecordedEvent]:
    """Stored events, oldest first, of one object or of a namespace (None: all)."""
    if key is not None:
        clause, args = _where(kind=key.kind, namespace=key.namespace, name=key.name)
    else:
        clause, args = _where(namespace=namespace)
    query = "SELECT kind, namespace, name, type, reason, message, time FROM events"
    with _read_only(path) as db:
        rows = [] if db is None else db.execute(query + clause + " ORDER BY id", args).fetchall()
    return [
        RecordedEvent(ObjectKey(r[0], r[1], r[2]), r[3], r[4], r[5], datetime.fromisoformat(r[6]))
        for r in rows
    ]


def with_server_defaults(obj: AnyObject) -> AnyObject:
    """``obj`` as the API server stores it: unset fields that have CRD defaults filled in."""
    if isinstance(obj, ImageRepository):
        spec: Any = obj.spec.model_copy(
            update={
                "exclusion_list": obj.spec.effective_exclusion_list,
                "provider": obj.spec.provider,
            }
        )
    elif isinstance(obj, ImagePolicy):
        spec = obj.spec.model_copy(
            update={
                "digest_reflection_policy": obj.spec.digest_reflection_policy,
                "policy": _policy_with_order(obj.spec.policy),
            }
        )
    elif isinstance(obj, ImageUpdateAutomation):
        update = obj.spec.update.model_copy(update={"strategy": obj.spec.update.strategy})
        spec = obj.spec.model_copy(update={"update": update})
    else:
        return obj
    return obj.model_copy(update={"spec": spec})


def _policy_with_order(choice: Any) -> Any:
    """``alphabetical`` and ``numerical`` default their ``order`` to ``asc``."""
    for name in ("alphabetical", "numerical"):
        chosen = getattr(choice, name)
        if chosen is not None:
            filled = chosen.model_copy(update={"order": chosen.order})
            return choice.model_copy(update={name: filled})
    return choice


def _manifest_view(obj: AnyObject, statuses: Mapping[ObjectKey, Mapping[str, Any]]) -> ObjectView:
    spec = export_document(with_server_defaults(obj)).get("spec") or {}
    key = ObjectKey(obj.kind, obj.namespace, obj.name)
    return ObjectView(
        obj.kind, obj.namespace, obj.name, spec, statuses.get(key, {}), bool(spec.get("suspend"))
    )


class LocalSource:
    """Objects from the manifests (without them: the stored statuses) and the state file."""

    def __init__(self, state: Path, manifests: Sequence[Path] = ()) -> None:
        self.state = state
        self.manifests = tuple(manifests)

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
        statuses = dict(read_statuses(self.state, kind))
        if self.manifests:
            views = [_manifest_view(obj, statuses) for obj in self.manifest_objects(kind)]
        else:
            views = [ObjectView(k.kind, k.namespace, k.name, status=s) for k, s in statuses.items()]
        chosen = [v for v in views if namespace is None or v.namespace == namespace]
        return sorted(chosen, key=lambda v: (v.namespace, v.name))

    def list_events(self, namespace: str | None, key: ObjectKey | None) -> list[RecordedEvent]:
        """Events from the state file, oldest first."""
        return read_events(self.state, namespace, key)


class AutoSource:
    """The daemon while it answers; the state file and manifests once it does not."""

    def __init__(self, daemon: DaemonClient, local: LocalSource) -> None:
        self.daemon = daemon
        self.local = local
        self.using_daemon = True

    def _call(self, action: Callable[[ObjectSource], _T]) -> _T:
        if self.using_daemon:
            try:
                return action(self.daemon)
            except DaemonUnavailableError:
                self.using_daemon = False
        return action(self.local)

    def list_objects(self, kind: str, namespace: str | None) -> list[ObjectView]:
        """Objects of ``kind`` from whichever source answers."""
        return self._call(lambda source: source.list_objects(kind, namespace))

    def list_events(self, namespace: str | None, key: ObjectKey | None) -> list[RecordedEvent]:
        """Events from whichever source answers."""
        return self._call(lambda source: source.list_events(namespace, key))


def open_source(server: str, state: Path, manifests: Sequence[Path]) -> AutoSource:
    """What the read commands use: the daemon at ``server``, else ``state`` and ``manifests``."""
    return AutoSource(DaemonClient(server), LocalSource(state, manifests))


def fail(message: str, code: int = EXIT_FAILED) -> NoReturn:
    """Print ``✗ message`` on stderr and end the command with ``code``."""
    click.echo(f"{FAILURE} {message}", err=True)
    raise click.exceptions.Exit(code)


def flux_errors(command: Callable[_P, _T]) -> Callable[_P, _T]:
    """Report a ``TagpilotError`` the Flux way (``✗ message``) with tagpilot's exit code."""

    @functools.wraps(command)
    def guarded(*args: _P.args, **kwargs: _P.kwargs) -> _T:
        try:
            return command(*args, **kwargs)
        except TagpilotError as error:
            fail(str(error), exit_code_for(error))

    return guarded
