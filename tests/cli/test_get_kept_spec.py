"""``get -o yaml --state`` shows the spec and metadata an object was last reconciled with.

A real one-shot reconcile writes the state file (the registry is unreachable, so the scan
fails, as it may for a user; the object is still reconciled and kept); ``get`` then reads
the file alone, without the manifests.
"""

from __future__ import annotations

import socket
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from tagpilot.adapters.store import SCHEMA_VERSION, SqliteStore
from tagpilot.cli.main import cli
from tagpilot.ports import ObjectKey

OBJECTS_TABLE_VERSION = 4


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _manifests(directory: Path, image: str, semver: str) -> Path:
    path = directory / "flux.yaml"
    path.write_text(
        "apiVersion: image.toolkit.fluxcd.io/v1\n"
        "kind: ImageRepository\n"
        "metadata:\n  name: app\n  namespace: flux-system\n  labels:\n    team: web\n"
        f"spec:\n  image: {image}\n  interval: 5m\n"
        "---\n"
        "apiVersion: image.toolkit.fluxcd.io/v1\n"
        "kind: ImagePolicy\n"
        "metadata:\n  name: app\n  namespace: flux-system\n  labels:\n    team: web\n"
        "spec:\n  imageRepositoryRef:\n    name: app\n"
        f"  policy:\n    semver:\n      range: {semver}\n"
    )
    return path


def _reconcile(manifests: Path, state: Path) -> None:
    result = CliRunner().invoke(cli, ["reconcile", str(manifests), "--once", "--state", str(state)])
    assert result.exit_code in (0, 1), result.output  # 1: the scan failed, as intended


def _get_yaml(state: Path, *what: str) -> str:
    server = f"http://127.0.0.1:{_closed_port()}"
    args = ["get", "image", *what, "-o", "yaml", "--state", str(state), "--server", server]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture
def image() -> str:
    return f"127.0.0.1:{_closed_port()}/team/app"


def test_yaml_from_the_state_file_shows_the_reconciled_spec_and_metadata(
    tmp_path: Path, image: str
) -> None:
    state = tmp_path / "state" / "state.db"
    _reconcile(_manifests(tmp_path, image, "1.x"), state)
    out = _get_yaml(state, "policy", "app")
    assert "spec: {}" not in out
    assert "spec:\n  digestReflectionPolicy: Never\n  imageRepositoryRef:\n    name: app\n" in out
    assert "    semver:\n      range: 1.x\n" in out
    assert "metadata:\n  generation: 1\n  labels:\n    team: web\n  name: app\n" in out
    assert "status:\n" in out
    repository = _get_yaml(state, "repository", "app")
    assert f"  image: {image}\n" in repository
    assert "  interval: 5m0s\n" in repository, "as the API server stores it, defaults filled in"


def test_an_edited_spec_is_shown_with_its_new_generation(tmp_path: Path, image: str) -> None:
    state = tmp_path / "state" / "state.db"
    _reconcile(_manifests(tmp_path, image, "1.x"), state)
    _reconcile(_manifests(tmp_path, image, "'>=2.0.0'"), state)
    out = _get_yaml(state, "policy", "app")
    assert "      range: '>=2.0.0'\n" in out
    assert "  generation: 2\n" in out
    assert "1.x" not in out


def test_a_state_file_from_before_objects_were_kept_reads_and_upgrades(tmp_path: Path) -> None:
    """An older file shows statuses without a spec, read-only; writing upgrades it in place."""
    path = tmp_path / "state.db"
    db = sqlite3.connect(path)
    db.executescript(
        "CREATE TABLE schema_version (version INTEGER NOT NULL);"
        f"INSERT INTO schema_version VALUES ({OBJECTS_TABLE_VERSION - 1});"
        "CREATE TABLE status (kind TEXT, namespace TEXT, name TEXT, body TEXT,"
        " PRIMARY KEY (kind, namespace, name));"
        "CREATE TABLE generations (kind TEXT, namespace TEXT, name TEXT, spec_hash TEXT,"
        " generation INTEGER, PRIMARY KEY (kind, namespace, name));"
        "CREATE TABLE runs (id INTEGER PRIMARY KEY, namespace TEXT, name TEXT, time TEXT,"
        " revision TEXT, commit_sha TEXT, branch TEXT, changes TEXT);"
        "INSERT INTO status VALUES ('ImagePolicy', 'flux-system', 'app', '{}');"
    )
    db.commit()
    db.close()
    out = _get_yaml(path, "policy", "app")
    assert "name: app" in out
    assert "spec:" not in out, "a spec the file never held is not made up"
    store = SqliteStore(path)
    try:
        assert store.schema_version() == SCHEMA_VERSION >= OBJECTS_TABLE_VERSION
        assert store.list_objects("ImagePolicy") == {}
    finally:
        store.close()


def test_a_secret_is_never_kept_in_the_state_file(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "state.db")
    try:
        key = ObjectKey("Secret", "flux-system", "regcred")
        document = {"apiVersion": "v1", "kind": "Secret", "data": {"password": "czNjcmV0"}}
        store.put_object(key, document)
        assert store.list_objects("Secret") == {}
    finally:
        store.close()
