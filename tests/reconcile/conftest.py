"""Fixtures for reconciler tests: a real registry with the Blaster tags, a clock, a store."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from reconcile_support import BLASTER_TAGS, PASSWORD, USER, FakeClock

from servers.ocipush import seed
from servers.registry import RunningRegistry, run_registry, write_htpasswd
from tagpilot.adapters.store import SqliteStore


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 21, 12, 0, tzinfo=UTC))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    state = SqliteStore(tmp_path / "state.db")
    yield state
    state.close()


@pytest.fixture
def blaster_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningRegistry]:
    """A fresh htpasswd registry (a deploy-token-style login) holding ``games/blaster``."""
    directory = tmp_path_factory.mktemp("blaster-registry")
    htpasswd = write_htpasswd(directory / "htpasswd", {USER: PASSWORD})
    with run_registry(directory, htpasswd=htpasswd) as registry:
        seed(registry.url, "games/blaster", BLASTER_TAGS, user=USER, password=PASSWORD)
        yield registry
