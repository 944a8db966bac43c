"""``tagpilot get kustomizations``: flux's columns (NAME REVISION SUSPENDED READY MESSAGE, REVISION
being ``status.lastAppliedRevision``), from the state file and manifests or from a daemon."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import click
import pytest
from click.testing import CliRunner

from servers.httpserver import QuietHandler, serve
from tagpilot.adapters.store import SqliteStore
from tagpilot.cli.get import get_group
from tagpilot.cli.main import cli
from tagpilot.cli.objects import LocalSource
from tagpilot.cli.render import format_table
from tagpilot.ports import ObjectKey

REVISION = "develop@sha1:3f2a9c0e1d4b5a6978c0d1e2f3a4b5c6d7e8f901"

MANIFESTS = """\
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: blaster-dev
  namespace: flux-system
spec:
  interval: 10m
  path: ./k8s/dev
  prune: true
  sourceRef:
    kind: GitRepository
    name: blaster-dev
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: infra
  namespace: flux-system
spec:
  interval: 1h
  path: ./infra
  prune: false
  suspend: true
  sourceRef:
    kind: GitRepository
    name: blaster-dev
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: web
  namespace: apps
spec:
  interval: 5m
  path: ./web
  prune: true
  sourceRef:
    kind: GitRepository
    name: web
    namespace: flux-system
"""


def _ready(status: str, reason: str, message: str) -> dict[str, Any]:
    condition = {
        "type": "Ready",
        "status": status,
        "reason": reason,
        "message": message,
        "lastTransitionTime": "2026-03-17T22:22:34Z",
        "observedGeneration": 1,
    }
    return {"conditions": [condition]}


STATUSES = {
    ObjectKey("Kustomization", "flux-system", "blaster-dev"): {
        "lastAppliedRevision": REVISION,
        "lastAttemptedRevision": REVISION,
        **_ready("True", "ReconciliationSucceeded", f"Applied revision: {REVISION}"),
    },
    ObjectKey("Kustomization", "apps", "web"): {
        "lastAttemptedRevision": "main@sha1:0123456789abcdef0123456789abcdef01234567",
        **_ready(
            "False",
            "BuildFailed",
            "kustomize build failed: accumulating resources: missing.yaml: no such file",
        ),
    },
}


def closed_port_url() -> str:
    """A loopback address where nothing listens."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def manifests(tmp_path: Path) -> Path:
    path = tmp_path / "flux.yaml"
    path.write_text(MANIFESTS)
    return path


@pytest.fixture
def state(tmp_path: Path) -> Path:
    path = tmp_path / "state.db"
    store = SqliteStore(path)
    for key, status in STATUSES.items():
        store.put_status(key, status)
    store.close()
    return path


def _invoke(command: click.Command, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(command, list(args))
    return result.exit_code, result.stdout, result.stderr


def _local(state: Path, manifests: Path) -> list[str]:
    return ["--state", str(state), "--server", closed_port_url(), "--manifests", str(manifests)]


HEADER = ("NAME", "REVISION", "SUSPENDED", "READY", "MESSAGE")
FLUX_SYSTEM_TABLE = format_table(
    HEADER,
    [
        ["blaster-dev", REVISION, "False", "True", f"Applied revision: {REVISION}"],
        ["infra", "", "True", "False", "waiting to be reconciled"],
    ],
)

TABLES = [
    pytest.param(["kustomizations"], FLUX_SYSTEM_TABLE, id="plural"),
    pytest.param(["kustomization"], FLUX_SYSTEM_TABLE, id="singular"),
    pytest.param(["ks"], FLUX_SYSTEM_TABLE, id="short"),
    pytest.param(
        ["ks", "-A", "--no-header", "--status-selector", "ready=false"],
        "apps\tweb\t\tFalse\tFalse\t"
        "kustomize build failed: accumulating resources: missing.yaml: no such file\t\n",
        id="failed-across-namespaces",
    ),
    pytest.param(
        ["ks", "blaster-dev", "--no-header"],
        f"blaster-dev\t{REVISION}\tFalse\tTrue\tApplied revision: {REVISION}\t\n",
        id="by-name",
    ),
]


@pytest.mark.parametrize(("args", "table"), TABLES)
def test_get_kustomizations_prints_fluxs_columns_from_the_state_file_and_manifests(
    state: Path, manifests: Path, args: list[str], table: str
) -> None:
    assert _invoke(get_group, *args, *_local(state, manifests)) == (0, table, "")


def test_the_kustomizations_are_on_the_top_level_get_command(
    state: Path, manifests: Path
) -> None:
    code, out, _ = _invoke(cli, "get", "kustomizations", *_local(state, manifests))
    assert (code, out) == (0, FLUX_SYSTEM_TABLE)


def test_a_missing_kustomization_is_reported_as_flux_does(state: Path, manifests: Path) -> None:
    assert _invoke(get_group, "ks", "nope", *_local(state, manifests)) == (
        1,
        "",
        "✗ Kustomization object 'nope' not found in \"flux-system\" namespace\n",
    )


def test_one_kustomization_as_json_carries_its_spec_and_status(
    state: Path, manifests: Path
) -> None:
    code, out, _ = _invoke(get_group, "ks", "blaster-dev", "-o", "json", *_local(state, manifests))
    document = json.loads(out)
    assert code == 0
    assert document["apiVersion"] == "kustomize.toolkit.fluxcd.io/v1"
    assert (document["kind"], document["spec"]["path"]) == ("Kustomization", "./k8s/dev")
    assert document["status"]["lastAppliedRevision"] == REVISION


@pytest.fixture
def daemon(state: Path, manifests: Path) -> Iterator[tuple[str, list[str]]]:
    """A tiny real HTTP server speaking the daemon's object-list endpoint; records queries."""
    views = LocalSource(state, [manifests]).list_objects("Kustomization", None)
    fields = ("kind", "namespace", "name", "spec", "suspended")
    items = [{f: getattr(v, f) for f in fields} | {"status": v.document} for v in views]
    queries: list[str] = []

    class Handler(QuietHandler):
        def do_GET(self) -> None:
            url = urlsplit(self.path)
            query = {key: values[0] for key, values in parse_qs(url.query).items()}
            queries.append(self.path)
            chosen = [
                item
                for item in items
                if item["kind"] == query.get("kind")
                and query.get("namespace") in (None, item["namespace"])
            ]
            self.reply_json(200, {"items": chosen})

    with serve(Handler) as url:
        yield url, queries


def test_get_kustomizations_reads_the_running_daemon_when_one_answers(
    tmp_path: Path, daemon: tuple[str, list[str]]
) -> None:
    url, queries = daemon
    absent = tmp_path / "absent.db"
    code, out, err = _invoke(get_group, "kustomizations", "--server", url, "--state", str(absent))
    assert (code, out, err) == (0, FLUX_SYSTEM_TABLE, "")
    assert queries == ["/api/v1/objects?kind=Kustomization&namespace=flux-system"]
