"""``tagpilot get`` and ``tagpilot export``: flux's tables byte for byte, from the state file
and manifests or from a running daemon's JSON API, and flux's messages for empty results."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import click
import pytest
from click.testing import CliRunner

from servers.httpserver import QuietHandler, serve
from tagpilot.adapters.store import SqliteStore
from tagpilot.api.descriptors import cli_kinds
from tagpilot.cli.get import export_group, get_group
from tagpilot.cli.objects import LocalSource, ObjectView
from tagpilot.cli.render import format_table, human_duration, rfc3339
from tagpilot.ports import AutomationRun, ObjectKey

GOLDEN = Path(__file__).resolve().parents[1] / "testdata" / "get"
MANIFESTS = GOLDEN / "manifests.yaml"
UPDATE_GOLDEN = os.environ.get("TAGPILOT_UPDATE_GOLDEN") == "1"
DIGEST = "sha256:8704da90172710d422af855049175c1a8295731cbe2ad3b9a1c1074feecf8c10"


def _ready(status: str, message: str) -> dict[str, Any]:
    return {
        "conditions": [
            {
                "type": "Ready",
                "status": status,
                "reason": "Succeeded" if status == "True" else "Failed",
                "message": message,
                "lastTransitionTime": "2024-03-17T22:22:34Z",
                "observedGeneration": 1,
            }
        ]
    }


STATUSES = {
    ObjectKey("ImageRepository", "flux-system", "podinfo"): {
        "canonicalImageName": "ghcr.io/stefanprodan/podinfo",
        "lastScanResult": {"revision": "r1", "tagCount": 211, "scanTime": "2024-03-17T22:22:34Z"},
        **_ready("True", "successful scan: found 211 tags with checksum 3012946389"),
    },
    ObjectKey("ImageRepository", "flux-system", "nginx"): {
        "lastScanResult": {
            "revision": "r2",
            "tagCount": 7,
            "scanTime": "2024-03-17T23:00:00+00:00",
        },
        **_ready("True", "successful scan: found 7 tags with checksum 17"),
    },
    ObjectKey("ImagePolicy", "flux-system", "podinfo-semver"): {
        "latestRef": {"name": "ghcr.io/stefanprodan/podinfo", "tag": "5.0.3", "digest": DIGEST},
        **_ready(
            "True",
            "Latest image tag for ghcr.io/stefanprodan/podinfo resolved to 5.0.3 "
            f"with digest {DIGEST}",
        ),
    },
    ObjectKey("ImagePolicy", "flux-system", "nginx-alpha"): _ready(
        "False", "unable to determine latest version from provided list"
    ),
    ObjectKey("ImagePolicy", "apps", "api-numerical"): {
        "latestRef": {"name": "registry.example.com/apps/api", "tag": "main-3f2a-1700000000"},
        **_ready("True", "Latest image tag for registry.example.com/apps/api resolved to x"),
    },
    ObjectKey("ImageUpdateAutomation", "flux-system", "flux-system"): {
        "lastAutomationRunTime": "2024-03-17T22:22:34.511+00:00",
        **_ready("True", "repository up-to-date"),
    },
}


def closed_port_url() -> str:
    """A loopback address where nothing listens (connection refused at once)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def state(tmp_path: Path) -> Path:
    path = tmp_path / "state.db"
    store = SqliteStore(path)
    for key, status in STATUSES.items():
        store.put_status(key, status)
    store.close()
    return path


def _golden(name: str, text: str) -> None:
    path = GOLDEN / f"{name}.golden"
    if UPDATE_GOLDEN:
        path.write_text(text)
    assert text == path.read_text()


def _invoke(command: click.Command, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(command, list(args))
    return result.exit_code, result.stdout, result.stderr


def _local(state: Path, *, manifests: bool = True) -> list[str]:
    flags = ["--state", str(state), "--server", closed_port_url()]
    return flags + (["--manifests", str(MANIFESTS)] if manifests else [])


TABLES = [
    pytest.param("repository", ["image", "repository"], id="repository"),
    pytest.param("repository-all-namespaces", ["image", "repository", "-A"], id="repository-A"),
    pytest.param("policy", ["image", "policy"], id="policy"),
    pytest.param("policy-named", ["image", "policy", "podinfo-semver"], id="policy-by-name"),
    pytest.param("policy-no-header", ["image", "policy", "--no-header"], id="no-header"),
    pytest.param(
        "policy-not-ready", ["image", "policy", "--status-selector", "ready=false"], id="selector"
    ),
    pytest.param(
        "policy-ready-all-namespaces",
        ["images", "policy", "-A", "--status-selector", "Ready!=False"],
        id="negated-selector",
    ),
    pytest.param("update", ["image", "update"], id="update"),
    pytest.param("update-all-namespaces", ["images", "update", "-A"], id="update-A"),
    pytest.param("all", ["images", "all"], id="all"),
    pytest.param("all-all-namespaces", ["image", "all", "-A"], id="all-A"),
    pytest.param("source-git", ["source", "git"], id="source-git"),
    pytest.param(
        "policy-named.json", ["image", "policy", "podinfo-semver", "-o", "json"], id="json"
    ),
    pytest.param("policy.yaml", ["image", "policy", "-o", "yaml"], id="yaml-list"),
]


@pytest.mark.parametrize(("golden", "args"), TABLES)
def test_get_prints_flux_tables_from_the_state_file_and_manifests(
    state: Path, golden: str, args: list[str]
) -> None:
    code, out, err = _invoke(get_group, *args, *_local(state))
    assert (code, err) == (0, "")
    _golden(golden, out)


def test_without_manifests_the_objects_with_a_stored_status_are_listed(state: Path) -> None:
    code, out, _ = _invoke(get_group, "image", "policy", "-A", *_local(state, manifests=False))
    assert code == 0
    _golden("store-only-policy-all-namespaces", out)


def test_get_never_creates_a_missing_state_file(tmp_path: Path) -> None:
    missing = tmp_path / "nothing" / "state.db"
    code, _, err = _invoke(get_group, "image", "repository", "-A", *_local(missing))
    assert code == 0 and err == ""
    assert not missing.parent.exists()


MISSING = [
    pytest.param(
        ["image", "update", "-n", "empty"],
        '✗ no ImageUpdateAutomation objects found in "empty" namespace\n',
        0,
        id="no-objects-in-namespace",
    ),
    pytest.param(
        ["image", "policy", "x"],
        "✗ ImagePolicy object 'x' not found in \"flux-system\" namespace\n",
        1,
        id="named-object-missing",
    ),
    pytest.param(
        ["image", "policy", "x", "-A"],
        "✗ ImagePolicy object 'x' not found in any namespace\n",
        1,
        id="named-object-missing-anywhere",
    ),
    pytest.param(
        ["image", "policy", "x", "-o", "json"],
        "✗ ImagePolicy object 'x' not found in \"flux-system\" namespace\n",
        1,
        id="named-object-missing-as-json",
    ),
    pytest.param(
        ["image", "policy", "--status-selector", "ready"],
        "✗ --status-selector: expected status selector in type=status format, but found: ready\n",
        2,
        id="malformed-status-selector",
    ),
]


@pytest.mark.parametrize(("args", "stderr", "code"), MISSING)
def test_get_reports_empty_and_missing_results_like_flux(
    state: Path, args: list[str], stderr: str, code: int
) -> None:
    assert _invoke(get_group, *args, *_local(state)) == (code, "", stderr)


def test_an_empty_list_as_json_is_an_empty_list_not_an_error(state: Path) -> None:
    code, out, _ = _invoke(
        get_group, "image", "update", "-n", "empty", "-o", "json", *_local(state)
    )
    assert code == 0
    assert json.loads(out) == {"apiVersion": "v1", "items": [], "kind": "List"}


def _daemon_items(state: Path) -> list[dict[str, Any]]:
    source = LocalSource(state, [MANIFESTS])
    views = [view for info in cli_kinds() for view in source.list_objects(info.kind, None)]
    return [_item(view) for view in views]


def _item(view: ObjectView) -> dict[str, Any]:
    fields = ("kind", "namespace", "name", "spec", "suspended")
    return {name: getattr(view, name) for name in fields} | {"status": view.document}


@pytest.fixture
def daemon(state: Path) -> Iterator[tuple[str, list[str]]]:
    """A tiny real HTTP server speaking the daemon's object-list endpoint; records queries."""
    items, queries = _daemon_items(state), []

    class Handler(QuietHandler):
        def do_GET(self) -> None:
            url = urlsplit(self.path)
            query = {key: values[0] for key, values in parse_qs(url.query).items()}
            queries.append(self.path)
            if url.path != "/api/v1/objects":
                return self.reply_json(404, {"error": "not found"})
            chosen = [
                item
                for item in items
                if item["kind"] == query.get("kind")
                and query.get("namespace") in (None, item["namespace"])
            ]
            self.reply_json(200, {"items": chosen})

    with serve(Handler) as url:
        yield url, queries


@pytest.mark.parametrize(
    ("golden", "args"),
    [
        pytest.param("policy", ["image", "policy"], id="policy"),
        pytest.param("all-all-namespaces", ["image", "all", "-A"], id="all-A"),
    ],
)
def test_get_reads_the_running_daemon_when_one_answers(
    tmp_path: Path, daemon: tuple[str, list[str]], golden: str, args: list[str]
) -> None:
    url, queries = daemon
    no_state = tmp_path / "absent.db"
    code, out, err = _invoke(get_group, *args, "--server", url, "--state", str(no_state))
    assert (code, err) == (0, "")
    _golden(golden, out)
    assert queries and all(q.startswith("/api/v1/objects?kind=Image") for q in queries)


EXPORTS = [
    pytest.param("export-repository-all", ["image", "repository", "--all"], id="repositories"),
    pytest.param(
        "export-repository-default-exclusions",
        ["image", "repository", "--all", "-n", "apps"],
        id="empty-exclusions",
    ),
    pytest.param("export-policy-all", ["image", "policy", "--all"], id="policies"),
    pytest.param("export-update-named", ["image", "update", "flux-system"], id="update"),
]


@pytest.mark.parametrize(("golden", "args"), EXPORTS)
def test_export_prints_manifest_objects_with_the_server_side_defaults(
    golden: str, args: list[str]
) -> None:
    code, out, err = _invoke(export_group, *args, "--manifests", str(MANIFESTS))
    assert (code, err) == (0, "")
    _golden(golden, out)


@pytest.mark.parametrize(
    ("args", "stderr", "code"),
    [
        pytest.param(["image", "policy"], "✗ name is required\n", 2, id="no-name-no-all"),
        pytest.param(
            ["image", "policy", "x"],
            "✗ ImagePolicy object 'x' not found in \"flux-system\" namespace\n",
            1,
            id="missing",
        ),
        pytest.param(
            ["image", "update", "--all", "-n", "empty"],
            "✗ no objects found in empty namespace\n",
            0,
            id="all-of-nothing",
        ),
    ],
)
def test_export_failures_name_what_is_missing(args: list[str], stderr: str, code: int) -> None:
    assert _invoke(export_group, *args, "--manifests", str(MANIFESTS)) == (code, "", stderr)


def test_table_cells_with_several_lines_print_line_by_line() -> None:
    text = format_table(["NAME", "MESSAGE"], [["a", "first\nsecond line"], ["bb", "x"]])
    assert text == (
        "NAME\tMESSAGE    \na   \tfirst      \t\n    \tsecond line\t\nbb  \tx          \t\n"
    )


def test_wide_characters_take_two_columns_when_padding() -> None:
    assert format_table(["N"], [["日本"], ["abc"]]) == "N   \n日本\t\nabc \t\n"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        pytest.param(-5, "<invalid>", id="future"),
        pytest.param(-1, "0s", id="clock-skew"),
        pytest.param(42, "42s", id="seconds"),
        pytest.param(119, "119s", id="under-two-minutes"),
        pytest.param(200, "3m20s", id="minutes-seconds"),
        pytest.param(300, "5m", id="whole-minutes"),
        pytest.param(45 * 60 + 7, "45m", id="minutes"),
        pytest.param(5 * 3600 + 30 * 60, "5h30m", id="hours-minutes"),
        pytest.param(20 * 3600, "20h", id="hours"),
        pytest.param(3 * 86400 + 4 * 3600, "3d4h", id="days-hours"),
        pytest.param(30 * 86400, "30d", id="days"),
        pytest.param(3 * 365 * 86400 + 10 * 86400, "3y10d", id="years-days"),
        pytest.param(10 * 365 * 86400, "10y", id="years"),
    ],
)
def test_last_seen_uses_kubectl_human_durations(seconds: int, text: str) -> None:
    assert human_duration(seconds) == text


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        pytest.param("2024-03-17T22:22:34Z", "2024-03-17T22:22:34Z", id="already-rfc3339"),
        pytest.param("2024-03-17T22:22:34.511+00:00", "2024-03-17T22:22:34Z", id="fraction-utc"),
        pytest.param("2024-03-17T23:22:34+01:00", "2024-03-17T23:22:34+01:00", id="offset-kept"),
        pytest.param(None, "", id="never"),
        pytest.param("yesterday", "yesterday", id="unparsable-shown-as-is"),
    ],
)
def test_times_print_as_go_rfc3339(stored: str | None, shown: str) -> None:
    assert rfc3339(stored) == shown


class _FailingHandler(QuietHandler):
    def do_GET(self) -> None:
        self.reply(500, b"store is locked")


def test_a_daemon_that_fails_is_reported_not_bypassed(tmp_path: Path) -> None:
    with serve(_FailingHandler) as url:
        code, out, err = _invoke(get_group, "image", "policy", "--server", url)
    assert (code, out) == (1, "")
    assert err == (
        f"✗ tagpilot daemon at {url} answered 500 to GET /api/v1/objects: store is locked\n"
    )


def test_an_unreadable_state_file_is_bad_input_naming_the_file(tmp_path: Path) -> None:
    broken = tmp_path / "state.db"
    broken.write_text("not a database, just text long enough to have a header page" * 100)
    code, _, err = _invoke(get_group, "image", "policy", *_local(broken, manifests=False))
    assert code == 2
    assert err.startswith(f"✗ cannot read state file {broken}: ")


def test_the_status_selector_filters_json_output_too(state: Path) -> None:
    args = ["image", "policy", "-A", "-o", "json", "--status-selector", "ready=false"]
    code, out, _ = _invoke(get_group, *args, *_local(state))
    assert code == 0
    assert [item["metadata"]["name"] for item in json.loads(out)["items"]] == ["nginx-alpha"]


@contextmanager
def _server_default(command: click.Group, path: list[str], url: str) -> Iterator[None]:
    """Point the ``--server`` default of ``command path...`` at ``url`` (it stays a default)."""
    leaf: click.Command = command
    for word in path:
        assert isinstance(leaf, click.Group)
        found = leaf.commands[word]
        leaf = found
    option = next(p for p in leaf.params if p.name == "server")
    before = option.default
    option.default = url
    try:
        yield
    finally:
        option.default = before


@pytest.fixture
def default_daemon(daemon: tuple[str, list[str]]) -> Iterator[str]:
    """The fake daemon standing where ``get image policy`` looks by default."""
    url, _ = daemon
    with _server_default(get_group, ["image", "policy"], url):
        yield url


def test_an_explicit_state_file_wins_over_a_daemon_on_the_default_address(
    tmp_path: Path, default_daemon: str
) -> None:
    empty = tmp_path / "other-project.db"
    SqliteStore(empty).close()
    code, out, err = _invoke(get_group, "image", "policy", "--state", str(empty))
    assert (code, out) == (0, "")
    assert err == '✗ no ImagePolicy objects found in "flux-system" namespace\n'


def test_a_daemon_found_by_default_is_named_on_stderr(default_daemon: str) -> None:
    code, out, err = _invoke(get_group, "image", "policy")
    assert code == 0 and out.startswith("NAME")
    assert err == f"objects from the tagpilot daemon at {default_daemon}\n"


def test_an_explicit_server_is_not_announced(daemon: tuple[str, list[str]]) -> None:
    code, _, err = _invoke(get_group, "image", "policy", "--server", daemon[0])
    assert (code, err) == (0, "")


@pytest.mark.parametrize("group", ["source", "sources"])
def test_get_source_git_lists_the_git_repositories_of_the_manifests(
    state: Path, group: str
) -> None:
    code, out, err = _invoke(get_group, group, "git", *_local(state))
    assert (code, err) == (0, "")
    _golden("source-git", out)


@pytest.mark.parametrize(
    ("args", "name"),
    [
        pytest.param(["image", "repositories", "--all"], "ImageRepository", id="plural-word"),
        pytest.param(["source", "git", "flux-system"], "GitRepository", id="source-git"),
        pytest.param(["sources", "git", "--all"], "GitRepository", id="sources-git"),
    ],
)
def test_export_knows_every_kind_and_its_spellings(args: list[str], name: str) -> None:
    code, out, err = _invoke(export_group, *args, "--manifests", str(MANIFESTS))
    assert (code, err) == (0, "")
    assert f"kind: {name}\n" in out


def test_get_image_all_says_so_when_there_is_nothing(state: Path) -> None:
    code, out, err = _invoke(get_group, "image", "all", "-n", "empty", *_local(state))
    assert (code, out) == (0, "")
    assert err == '✗ no image objects found in "empty" namespace\n'


def test_yaml_from_a_state_file_without_manifests_shows_no_made_up_spec(state: Path) -> None:
    args = ["image", "policy", "podinfo-semver", "-o", "yaml"]
    code, out, _ = _invoke(get_group, *args, *_local(state, manifests=False))
    assert code == 0
    assert "spec:" not in out
    assert "latestRef:" in out
    code, out, _ = _invoke(get_group, *args, *_local(state))
    assert "spec:\n  digestReflectionPolicy: Never\n" in out


def _pushed(state: Path) -> None:
    store = SqliteStore(state)
    change = {"file": "apps/podinfo.yaml", "old": "5.0.2", "new": "5.0.3", "setter": "ns:podinfo"}
    moment = datetime(2024, 3, 17, 22, 22, 34, tzinfo=UTC)
    store.add_run(
        AutomationRun(
            "flux-system", "flux-system", moment, "main@sha1:0a1b", "abc1234def", "main", (change,)
        )
    )
    store.close()


PUSHES = (
    "\n"
    "PUSHED              \tCOMMIT \tBRANCH\tCHANGES       \n"
    "2024-03-17T22:22:34Z\tabc1234\tmain  \t5.0.2 -> 5.0.3\t\n"
)


def test_get_image_update_by_name_shows_its_recent_pushes(state: Path) -> None:
    _pushed(state)
    code, out, err = _invoke(get_group, "image", "update", "flux-system", *_local(state))
    assert (code, err) == (0, "")
    assert out.endswith(PUSHES)
    code, out, _ = _invoke(get_group, "image", "update", *_local(state))
    assert "PUSHED" not in out
