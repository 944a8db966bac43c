"""Fixtures for the server tests: a real state store, objects, an engine and an app client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from server_support import InMemoryEngine, RecordingTrigger, git_repository, policy, repository

from tagpilot.adapters.store import SqliteStore
from tagpilot.server.app import build_app
from tagpilot.server.metrics import Metrics
from tagpilot.server.receivers import ReceiverTable


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    """A real SQLite store in a temporary directory."""
    state = SqliteStore(tmp_path / "state.db")
    yield state
    state.close()


@pytest.fixture
def engine() -> InMemoryEngine:
    """Four repositories (two labelled, one in staging), a policy and a GitRepository."""
    return InMemoryEngine.of(
        repository("app", "ghcr.io/acme/app", labels={"team": "blaster"}),
        repository("worker", "ghcr.io/acme/worker", labels={"team": "blaster"}),
        repository("hub", "acme/app"),
        repository("app", "ghcr.io/acme/app", namespace="staging"),
        policy("app", "app"),
        git_repository("app-repo"),
    )


@pytest.fixture
def trigger() -> RecordingTrigger:
    """A trigger that records its calls."""
    return RecordingTrigger()


@pytest.fixture
def metrics() -> Metrics:
    """A fresh metrics registry."""
    return Metrics()


@pytest.fixture
def receivers() -> ReceiverTable:
    """An empty receiver table; tests fill it."""
    return ReceiverTable()


@pytest.fixture
async def client(
    engine: InMemoryEngine,
    trigger: RecordingTrigger,
    store: SqliteStore,
    metrics: Metrics,
    receivers: ReceiverTable,
) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process HTTP client for the app (httpx over ASGI, no sockets)."""
    app = build_app(engine, trigger, store, metrics, receivers)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://tagpilot") as http:
        yield http
