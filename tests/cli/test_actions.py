"""``tagpilot reconcile|suspend|resume image …`` against a small real daemon on loopback, what
they say without a daemon, the ``reconcile`` dispatch to manifest paths, and ``events``."""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import click
import pytest
from click.testing import CliRunner
from starlette.applications import Starlette

from servers.httpserver import QuietHandler, serve
from tagpilot.adapters.manifests import load_paths
from tagpilot.adapters.store import SqliteStore
from tagpilot.cli.actions import events_command, reconcile_command, resume_group, suspend_group
from tagpilot.cli.get import get_group
from tagpilot.ports import AutomationRun, ObjectKey, RecordedEvent
from tagpilot.server.api import api_routes
from tagpilot.server.protocols import RECONCILABLE_KINDS
from tagpilot.server.serve import bind
from tagpilot.server.serve import serve as serve_app

GOLDEN = Path(__file__).resolve().parents[1] / "testdata" / "get"
UPDATE_GOLDEN = os.environ.get("TAGPILOT_UPDATE_GOLDEN") == "1"
DIGEST = "sha256:8704da90172710d422af855049175c1a8295731cbe2ad3b9a1c1074feecf8c10"
RFC3339_NANO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$")


def _ready(status: str, message: str) -> dict[str, Any]:
    condition = {
        "type": "Ready",
        "status": status,
        "reason": "Succeeded" if status == "True" else "Failed",
        "message": message,
        "lastTransitionTime": "2026-11-21T12:00:00Z",
    }
    return {"conditions": [condition]}


def closed_port_url() -> str:
    """A loopback address where nothing listens (connection refused at once)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@dataclass
class Daemon:
    """In-memory objects behind the daemon's API; a requested reconcile lands after
    ``stale_reads`` further reads, with ``outcomes[key]`` merged into the status."""

    url: str = ""
    objects: dict[ObjectKey, dict[str, Any]] = field(default_factory=dict)
    outcomes: dict[ObjectKey, dict[str, Any]] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    posts: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    pending: dict[ObjectKey, tuple[int, dict[str, Any]]] = field(default_factory=dict)
    stale_reads: int = 1
    handles_requests: bool = True
    inputs: frozenset[str] = frozenset()
    """Kinds this daemon only reads (none today; daemons before GitRepository reconciling
    answered so for GitRepository)."""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, name: str, status: dict[str, Any], *, suspended: bool = False) -> None:
        key = ObjectKey(kind, "flux-system", name)
        self.objects[key] = {
            "kind": kind,
            "namespace": key.namespace,
            "name": name,
            "spec": {"suspend": True} if suspended else {},
            "status": status,
            "suspended": suspended,
        }

    def read(self, key: ObjectKey) -> dict[str, Any] | None:
        with self.lock:
            if key in self.pending:
                reads_left, status = self.pending[key]
                if reads_left == 0:
                    self.objects[key]["status"] = status
                    del self.pending[key]
                else:
                    self.pending[key] = (reads_left - 1, status)
            return self.objects.get(key)

    def post(self, key: ObjectKey, action: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Answer as the daemon does: 202 when a reconcile is queued, 200 for suspend and for
        resuming an input (a kind in ``inputs``), 400 for reconciling an input, 404 when
        unknown."""
        self.posts.append((f"{key.kind}/{key.name}/{action}", body))
        item = self.objects.get(key)
        if item is None:
            return 404, {"error": f"{key.kind} {key.namespace}/{key.name} not found"}
        input_only = key.kind in self.inputs
        if action == "reconcile" and input_only:
            return 400, {"error": f"{key.kind} objects are inputs and are not reconciled"}
        if action in ("suspend", "resume"):
            item["suspended"] = action == "suspend"
        queued = action != "suspend" and not input_only
        if queued and self.handles_requests:
            handled = {"lastHandledReconcileAt": body["requestedAt"]}
            status = {**item["status"], **self.outcomes.get(key, {}), **handled}
            self.pending[key] = (self.stale_reads, status)
        return (202 if queued else 200), item


def _handler(daemon: Daemon) -> type[QuietHandler]:
    class Handler(QuietHandler):
        def _route(self) -> tuple[list[str], dict[str, str]]:
            url = urlsplit(self.path)
            parts = [unquote(part) for part in url.path.split("/")[3:]]
            return parts, {key: values[0] for key, values in parse_qs(url.query).items()}

        def do_GET(self) -> None:
            parts, query = self._route()
            if parts == ["events"]:
                wanted = {k: v for k, v in query.items() if k != "limit"}
                items = [e for e in daemon.events if all(e[k] == v for k, v in wanted.items())]
                return self.reply_json(200, {"items": items[::-1]})
            if parts == ["objects"]:
                items = [o for o in daemon.objects.values() if o["kind"] == query["kind"]]
                return self.reply_json(200, {"items": items})
            item = daemon.read(ObjectKey(*parts[1:4]))
            self.reply_json(200, item) if item else self.reply_json(404, {"error": "not found"})

        def do_POST(self) -> None:
            parts, _ = self._route()
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length) or b"{}")
            code, answer = daemon.post(ObjectKey(*parts[1:4]), parts[4], body)
            self.reply_json(code, {"action": parts[4], **answer} if code < 400 else answer)

    return Handler


@pytest.fixture
def daemon() -> Iterator[Daemon]:
    state = Daemon()
    with serve(_handler(state)) as url:
        state.url = url
        yield state


def _invoke(command: click.Command, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(command, list(args))
    return result.exit_code, result.stdout, result.stderr


RECONCILE = [
    pytest.param(
        ("ImageRepository", "podinfo", "repository"),
        {"lastScanResult": {"tagCount": 212}, **_ready("True", "successful scan")},
        "✔ scan fetched 212 tags\n",
        id="repository",
    ),
    pytest.param(
        ("GitRepository", "flux-system", "git"),
        {
            "artifact": {
                "revision": f"main@sha1:{'a' * 40}",
                "path": "p",
                "url": "u",
                "digest": f"sha256:{'b' * 64}",
                "lastUpdateTime": "2026-11-21T12:00:00Z",
            }
        },
        f"✔ fetched revision main@sha1:{'a' * 40}\n",
        id="source-git-revision",
    ),
    pytest.param(
        ("ImagePolicy", "podinfo-semver", "policy"),
        {"latestRef": {"name": "ghcr.io/stefanprodan/podinfo", "tag": "5.0.3", "digest": DIGEST}},
        f"✔ selected ref ghcr.io/stefanprodan/podinfo:5.0.3@{DIGEST}\n",
        id="policy-with-digest",
    ),
    pytest.param(
        ("ImageUpdateAutomation", "flux-system", "update"),
        _ready("True", "repository up-to-date"),
        "✔ repository up-to-date\n",
        id="update-ready-message",
    ),
    pytest.param(
        ("ImageUpdateAutomation", "flux-system", "update"),
        {**_ready("True", ""), "lastAutomationRunTime": "2024-03-17T22:22:34.5+00:00"},
        "✔ last run 2024-03-17T22:22:34Z\n",
        id="update-last-run",
    ),
]


@pytest.mark.parametrize(("target", "outcome", "last_line"), RECONCILE)
def test_reconcile_asks_the_daemon_and_waits_for_the_result(
    daemon: Daemon, target: tuple[str, str, str], outcome: dict[str, Any], last_line: str
) -> None:
    kind, name, word = target
    daemon.add(kind, name, _ready("True", "before"))
    daemon.outcomes[ObjectKey(kind, "flux-system", name)] = {**_ready("True", "ok"), **outcome}
    group = "source" if word == "git" else "image"
    code, out, err = _invoke(reconcile_command(), group, word, name, "--server", daemon.url)
    assert (code, err) == (0, "")
    assert out == (
        f"► annotating {kind} {name} in flux-system namespace\n"
        f"✔ {kind} annotated\n"
        f"◎ waiting for {kind} reconciliation\n" + last_line
    )
    ((_, body),) = daemon.posts
    assert RFC3339_NANO_UTC.match(body["requestedAt"])


def test_reconcile_reports_a_failed_reconciliation_with_its_message(daemon: Daemon) -> None:
    daemon.add("ImageRepository", "podinfo", {})
    key = ObjectKey("ImageRepository", "flux-system", "podinfo")
    daemon.outcomes[key] = _ready("False", "GET https://ghcr.io/v2/: 401 Unauthorized")
    code, out, err = _invoke(
        reconcile_command(), "image", "repository", "podinfo", "--server", daemon.url
    )
    assert code == 1
    assert out.endswith("◎ waiting for ImageRepository reconciliation\n")
    assert err == (
        "✗ ImageRepository reconciliation failed: 'GET https://ghcr.io/v2/: 401 Unauthorized'\n"
    )


@pytest.mark.parametrize(
    ("setup", "stderr"),
    [
        pytest.param("suspended", "✗ resource is suspended\n", id="suspended"),
        pytest.param(
            "missing", "✗ ImagePolicy podinfo not found in flux-system namespace\n", id="missing"
        ),
    ],
)
def test_reconcile_refuses_suspended_and_missing_objects(
    daemon: Daemon, setup: str, stderr: str
) -> None:
    if setup == "suspended":
        daemon.add("ImagePolicy", "podinfo", {}, suspended=True)
    result = _invoke(reconcile_command(), "image", "policy", "podinfo", "--server", daemon.url)
    assert result == (1, "", stderr)
    assert daemon.posts == []


def test_reconcile_gives_up_after_the_timeout(daemon: Daemon) -> None:
    daemon.handles_requests = False
    daemon.add("ImageRepository", "podinfo", _ready("True", "old"))
    args = ["image", "repository", "podinfo", "--server", daemon.url, "--timeout", "300ms"]
    code, _, err = _invoke(reconcile_command(), *args)
    assert (code, err) == (1, "✗ timed out waiting for ImageRepository podinfo reconciliation\n")


def test_a_bad_timeout_is_bad_input(daemon: Daemon) -> None:
    code, _, err = _invoke(
        reconcile_command(), "image", "update", "x", "--server", daemon.url, "--timeout", "soon"
    )
    assert code == 2
    assert err.startswith("✗ --timeout: must be a duration like 30s")


NO_DAEMON = [
    pytest.param(
        reconcile_command(),
        ["image", "repository", "podinfo"],
        "start 'tagpilot run' or use 'tagpilot reconcile PATH --once'",
        id="reconcile",
    ),
    pytest.param(
        suspend_group,
        ["image", "policy", "podinfo"],
        "to suspend durably, set 'spec.suspend: true' in the object's manifest",
        id="suspend",
    ),
    pytest.param(
        resume_group,
        ["image", "update", "podinfo"],
        "to resume durably, remove 'spec.suspend: true' from the object's manifest",
        id="resume",
    ),
]


@pytest.mark.parametrize(("command", "args", "hint"), NO_DAEMON)
def test_without_a_daemon_the_acting_commands_say_what_to_do_instead(
    command: click.Command, args: list[str], hint: str
) -> None:
    url = closed_port_url()
    result = _invoke(command, *args, "--server", url)
    assert result == (1, "", f"✗ no tagpilot daemon at {url}: {hint}\n")


def test_suspend_acts_on_each_name_and_reports_the_missing_one(daemon: Daemon) -> None:
    for name in ("podinfo", "nginx"):
        daemon.add("ImagePolicy", name, {})
    args = ["image", "policy", "podinfo", "ghost", "nginx", "podinfo", "--server", daemon.url]
    code, out, err = _invoke(suspend_group, *args)
    assert code == 1
    assert out == (
        "► suspending image policy podinfo in flux-system namespace\n"
        "✔ image policy suspended\n"
        "► suspending image policy nginx in flux-system namespace\n"
        "✔ image policy suspended\n"
    )
    assert err == "✗ ImagePolicy ghost not found in flux-system namespace\n"
    assert all(item["suspended"] for item in daemon.objects.values())


def test_suspend_all_suspends_every_object_of_the_kind(daemon: Daemon) -> None:
    for name in ("a", "b"):
        daemon.add("ImageRepository", name, {})
    code, out, _ = _invoke(suspend_group, "images", "repository", "--all", "--server", daemon.url)
    assert code == 0
    assert out.count("✔ image repository suspended\n") == 2


def test_suspend_needs_a_name_or_all(daemon: Daemon) -> None:
    result = _invoke(suspend_group, "image", "update", "--server", daemon.url)
    assert result == (2, "", "✗ image update automation name is required\n")


def test_resume_of_one_object_waits_for_its_reconciliation(daemon: Daemon) -> None:
    daemon.add("ImagePolicy", "podinfo-semver", {}, suspended=True)
    daemon.outcomes[ObjectKey("ImagePolicy", "flux-system", "podinfo-semver")] = {
        "latestRef": {"name": "ghcr.io/stefanprodan/podinfo", "tag": "5.0.3"},
        **_ready("True", "resolved"),
    }
    code, out, err = _invoke(
        resume_group, "image", "policy", "podinfo-semver", "--server", daemon.url
    )
    assert (code, err) == (0, "")
    assert out == (
        "► resuming image policy podinfo-semver in flux-system namespace\n"
        "✔ image policy resumed\n"
        "◎ waiting for ImagePolicy reconciliation\n"
        "✔ ImagePolicy podinfo-semver reconciliation completed\n"
        "✔ selected ref ghcr.io/stefanprodan/podinfo:5.0.3\n"
    )
    assert not any(item["suspended"] for item in daemon.objects.values())


def test_resume_of_several_objects_does_not_wait_unless_asked(daemon: Daemon) -> None:
    for name in ("a", "b"):
        daemon.add("ImageUpdateAutomation", name, {}, suspended=True)
    code, out, _ = _invoke(resume_group, "image", "update", "a", "b", "--server", daemon.url)
    assert code == 0
    assert "◎" not in out and out.count("✔ image update automation resumed\n") == 2


def test_reconcile_sends_manifest_paths_to_the_manifest_command(daemon: Daemon) -> None:
    seen: list[tuple[tuple[str, ...], bool]] = []

    @click.command("reconcile")
    @click.argument("paths", nargs=-1)
    @click.option("--once", is_flag=True)
    def manifest_reconcile(paths: tuple[str, ...], once: bool) -> None:
        seen.append((paths, once))

    combined = reconcile_command(manifest_reconcile)
    assert _invoke(combined, "clusters/prod", "apps", "--once")[0] == 0
    assert _invoke(combined, "--once", "clusters/dev")[0] == 0
    assert seen == [(("clusters/prod", "apps"), True), (("clusters/dev",), True)]
    daemon.add("ImagePolicy", "p", {"latestRef": {"name": "x", "tag": "1"}, **_ready("True", "")})
    code, out, _ = _invoke(combined, "image", "policy", "p", "--server", daemon.url)
    assert code == 0 and out.startswith("► annotating ImagePolicy p in flux-system namespace\n")


def _events() -> list[RecordedEvent]:
    """Events whose LAST SEEN (3d, 20h, 10h) stays the same for an hour after this call; the
    Trace event (routine detail for the log) is never shown, as in Flux."""
    now = datetime.now(UTC)
    return [
        RecordedEvent(
            ObjectKey("ImageRepository", "flux-system", "podinfo"),
            "Trace",
            "Succeeded",
            "tags did not change, next scan in 1m0s",
            now - timedelta(hours=5),
        ),
        RecordedEvent(
            ObjectKey("ImageRepository", "flux-system", "podinfo"),
            "Normal",
            "Succeeded",
            "successful scan: found 211 tags",
            now - timedelta(days=3),
        ),
        RecordedEvent(
            ObjectKey("ImagePolicy", "apps", "api"),
            "Warning",
            "DependencyNotReady",
            "cannot determine latest tag: ImageRepository apps/api not ready\n",
            now - timedelta(hours=20),
        ),
        RecordedEvent(
            ObjectKey("ImagePolicy", "flux-system", "podinfo-semver"),
            "Normal",
            "Succeeded",
            "Latest image tag for ghcr.io/stefanprodan/podinfo resolved to 5.0.3",
            now - timedelta(hours=10),
        ),
    ]


@pytest.fixture
def state(tmp_path: Path) -> Path:
    path = tmp_path / "state.db"
    store = SqliteStore(path)
    for event in _events():
        store.add_event(event)
    store.close()
    return path


def _golden(name: str, text: str) -> None:
    path = GOLDEN / f"{name}.golden"
    if UPDATE_GOLDEN:
        path.write_text(text)
    assert text == path.read_text()


@pytest.mark.parametrize(
    ("golden", "args"),
    [
        pytest.param("events", [], id="namespace"),
        pytest.param("events-all-namespaces", ["-A"], id="all-namespaces"),
        pytest.param("events-for-policy", ["--for", "imagepolicy/podinfo-semver"], id="for"),
    ],
)
def test_events_prints_flux_events_table_from_the_state_file(
    state: Path, golden: str, args: list[str]
) -> None:
    local = ["--state", str(state), "--server", closed_port_url()]
    code, out, err = _invoke(events_command, *args, *local)
    assert (code, err) == (0, "")
    _golden(golden, out)


def test_events_come_from_the_daemon_when_one_answers(daemon: Daemon, tmp_path: Path) -> None:
    daemon.events = [
        {
            **vars(event.key),
            "type": event.type,
            "reason": event.reason,
            "message": event.message,
            "time": event.time.isoformat(),
        }
        for event in _events()
    ]
    args = ["-A", "--server", daemon.url, "--state", str(tmp_path / "absent.db")]
    code, out, _ = _invoke(events_command, *args)
    assert code == 0
    _golden("events-all-namespaces", out)


@pytest.mark.parametrize(
    ("args", "code", "stderr"),
    [
        pytest.param(["-n", "quiet"], 0, "✗ No events found in quiet namespace.\n", id="none"),
        pytest.param(
            ["--for", "Deployment/web"],
            2,
            "✗ --for: expected Kind/name with Kind one of ImageRepository, ImagePolicy, "
            "ImageUpdateAutomation, GitRepository, Kustomization\n",
            id="unknown-kind",
        ),
    ],
)
def test_events_explains_an_empty_result_and_a_bad_filter(
    state: Path, args: list[str], code: int, stderr: str
) -> None:
    local = ["--state", str(state), "--server", closed_port_url()]
    assert _invoke(events_command, *args, *local) == (code, "", stderr)


def test_reconciling_an_input_shows_the_daemons_reason(daemon: Daemon) -> None:
    daemon.inputs = frozenset({"GitRepository"})  # as a daemon before GitRepository reconciling
    daemon.add("GitRepository", "flux-system", {})
    code, out, err = _invoke(
        reconcile_command(), "source", "git", "flux-system", "--server", daemon.url
    )
    assert code == 1
    assert out == ("► annotating GitRepository flux-system in flux-system namespace\n")
    assert err == "✗ GitRepository objects are inputs and are not reconciled\n"


def test_resuming_an_input_does_not_wait_for_a_reconcile_that_never_comes(daemon: Daemon) -> None:
    daemon.inputs = frozenset({"GitRepository"})  # as a daemon before GitRepository reconciling
    daemon.add("GitRepository", "flux-system", {}, suspended=True)
    code, out, _ = _invoke(resume_group, "source", "git", "flux-system", "--server", daemon.url)
    assert code == 0
    assert out == (
        "► resuming source git flux-system in flux-system namespace\n✔ source git resumed\n"
    )


class _LoadedEngine:
    """The engine view the daemon's API reads, over the objects of a manifest file."""

    def __init__(self, objects: dict[ObjectKey, Any]) -> None:
        self.objects = objects
        self.suspended: dict[ObjectKey, bool] = {}

    def keys(self) -> list[ObjectKey]:
        """The reconciled objects, as the engine schedules them (inputs are not)."""
        return sorted(key for key in self.objects if key.kind in RECONCILABLE_KINDS)

    def shown_keys(self) -> list[ObjectKey]:
        return sorted(self.objects)

    def object(self, key: ObjectKey) -> Any:
        return self.objects[key]

    def is_suspended(self, key: ObjectKey) -> bool:
        return self.suspended.get(key, bool(self.objects[key].spec.suspend))

    def set_suspended(self, key: ObjectKey, suspended: bool) -> None:
        self.suspended[key] = suspended

    def repositories_for_image(self, image: str) -> list[ObjectKey]:
        return []


@dataclass
class RealApi:
    url: str
    engine: _LoadedEngine
    store: SqliteStore


@pytest.fixture
def real_api(tmp_path: Path) -> Iterator[RealApi]:
    """tagpilot's own daemon API (starlette under uvicorn) on loopback; a triggered
    reconcile writes a Ready status with ``lastHandledReconcileAt`` a moment later."""
    loaded = load_paths([GOLDEN / "manifests.yaml"]).objects
    objects = {ObjectKey(o.kind, o.namespace, o.name): o.obj for o in loaded if o.obj}
    engine, store = _LoadedEngine(objects), SqliteStore(tmp_path / "state.db")
    timers: list[threading.Timer] = []

    def trigger(key: ObjectKey, reason: str, *, requested_at: str | None = None) -> None:
        status = {"latestRef": {"name": "ghcr.io/stefanprodan/podinfo", "tag": "5.0.3"}}
        done = {**status, **_ready("True", "ok"), "lastHandledReconcileAt": requested_at}
        timers.append(threading.Timer(0.1, store.put_status, (key, done)))
        timers[-1].start()

    app = Starlette(routes=api_routes(engine, trigger, store))
    sock = bind("127.0.0.1", 0)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    thread = threading.Thread(
        target=loop.run_until_complete, args=(serve_app(app, stop=stop, sock=sock),)
    )
    thread.start()
    try:
        yield RealApi(url, engine, store)
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)
        loop.close()
        for timer in timers:
            timer.join(5)
        store.close()


def test_the_commands_work_against_tagpilots_own_daemon_api(real_api: RealApi) -> None:
    server = ["--server", real_api.url]
    code, out, err = _invoke(reconcile_command(), "image", "policy", "podinfo-semver", *server)
    assert (code, err) == (0, "")
    assert out.endswith("✔ selected ref ghcr.io/stefanprodan/podinfo:5.0.3\n")
    policy = ObjectKey("ImagePolicy", "flux-system", "podinfo-semver")
    assert _invoke(suspend_group, "image", "policy", "podinfo-semver", *server)[0] == 0
    assert real_api.engine.is_suspended(policy)
    code, _, err = _invoke(reconcile_command(), "image", "policy", "podinfo-semver", *server)
    assert (code, err) == (1, "✗ resource is suspended\n")
    code, out, _ = _invoke(resume_group, "image", "policy", "podinfo-semver", *server)
    assert code == 0 and "✔ ImagePolicy podinfo-semver reconciliation completed\n" in out
    code, out, _ = _invoke(get_group, "image", "repository", "-A", *server)
    assert code == 0
    rows = [line.split("\t") for line in out.splitlines()]
    assert [(row[1].strip(), row[3].strip()) for row in rows[1:]] == [
        ("never-scanned", "False"),
        ("nginx", "True"),
        ("podinfo", "False"),
    ]


def test_get_image_update_by_name_shows_the_daemons_run_history(real_api: RealApi) -> None:
    change = {"file": "apps/podinfo.yaml", "old": "5.0.2", "new": "5.0.3", "setter": "p"}
    moment = datetime(2024, 3, 17, 22, 22, 34, tzinfo=UTC)
    run = AutomationRun(
        "flux-system", "flux-system", moment, "rev", "abc1234def", "main", (change,)
    )
    real_api.store.add_run(run)
    args = ["image", "update", "flux-system", "--server", real_api.url]
    code, out, err = _invoke(get_group, *args)
    assert (code, err) == (0, "")
    assert out.endswith("2024-03-17T22:22:34Z\tabc1234\tmain  \t5.0.2 -> 5.0.3\t\n")


@pytest.mark.parametrize("group", ["source", "sources"])
def test_get_source_git_lists_the_daemons_git_repositories(real_api: RealApi, group: str) -> None:
    code, out, err = _invoke(get_group, group, "git", "--server", real_api.url)
    assert (code, err) == (0, "")
    assert [line.split()[0] for line in out.splitlines()] == ["NAME", "flux-system"]


def test_events_come_from_tagpilots_own_daemon_api(real_api: RealApi) -> None:
    for event in _events():
        real_api.store.add_event(event)
    code, out, _ = _invoke(events_command, "-A", "--server", real_api.url)
    assert code == 0
    _golden("events-all-namespaces", out)


@pytest.mark.parametrize(
    ("args", "absent", "present"),
    [
        pytest.param(
            ["suspend", "image", "repository"],
            "resum",
            "Suspend ImageRepository objects",
            id="suspend",
        ),
        pytest.param(["resume", "image", "repository"], "", "--wait / --no-wait", id="resume"),
    ],
)
def test_suspend_and_resume_help_describe_their_own_action(
    args: list[str], absent: str, present: str
) -> None:
    group = {"suspend": suspend_group, "resume": resume_group}[args[0]]
    code, out, _ = _invoke(group, *args[1:], "--help")
    assert code == 0 and present in out
    if absent:
        assert absent not in out.lower()
        assert "--wait" not in out and "--timeout" not in out


def test_a_manifest_path_error_shows_the_reconcile_command_once_in_its_usage() -> None:
    @click.command("reconcile")
    @click.argument("targets", nargs=-1, required=True)
    @click.option("--once", is_flag=True)
    def manifests(targets: tuple[str, ...], once: bool) -> None:
        click.echo(f"manifests {' '.join(targets)}")

    root = click.Group("tagpilot", commands={"reconcile": reconcile_command(manifests)})
    result = CliRunner().invoke(root, ["reconcile", "clusters/dev", "--bogus"])
    assert result.exit_code == 2
    assert "Usage: tagpilot reconcile [OPTIONS] TARGETS..." in result.stderr
    assert "reconcile reconcile" not in result.stderr
    ok = CliRunner().invoke(root, ["reconcile", "clusters/dev", "--once"])
    assert (ok.exit_code, ok.stdout) == (0, "manifests clusters/dev\n")


def test_with_source_reconciles_the_gitrepository_first_then_the_kustomization(
    daemon: Daemon,
) -> None:
    revision = "main@sha1:" + "c" * 40
    daemon.add("GitRepository", "app", _ready("True", "stored artifact"))
    daemon.outcomes[ObjectKey("GitRepository", "flux-system", "app")] = {
        "artifact": {"revision": revision, "url": "http://x/a.tar.gz", "path": "a.tar.gz",
                     "lastUpdateTime": "2026-11-21T12:00:00Z"},
    }  # fmt: skip
    daemon.add("Kustomization", "app", _ready("False", "old"))
    daemon.objects[ObjectKey("Kustomization", "flux-system", "app")]["spec"] = {
        "sourceRef": {"kind": "GitRepository", "name": "app"}
    }
    daemon.outcomes[ObjectKey("Kustomization", "flux-system", "app")] = {
        **_ready("True", f"Applied revision: {revision}"),
        "lastAppliedRevision": revision,
    }
    code, out, err = _invoke(
        reconcile_command(), "kustomization", "app", "--with-source", "--server", daemon.url
    )
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "► annotating GitRepository app in flux-system namespace",
        "✔ GitRepository annotated",
        "◎ waiting for GitRepository reconciliation",
        f"✔ fetched revision {revision}",
        "► annotating Kustomization app in flux-system namespace",
        "✔ Kustomization annotated",
        "◎ waiting for Kustomization reconciliation",
        f"✔ applied revision {revision}",
    ]
    assert [path for path, _ in daemon.posts] == [
        "GitRepository/app/reconcile",
        "Kustomization/app/reconcile",
    ]
