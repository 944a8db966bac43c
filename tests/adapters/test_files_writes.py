"""The setter pass's writes, made on a background thread while the walk goes on."""

from __future__ import annotations

import resource
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tagpilot.adapters.files import update_tree
from tagpilot.core.errors import RetryableError
from tagpilot.core.setters import PolicyTarget

TABLE = {"ns:app": PolicyTarget("registry.example.com/app", "v2")}
MARKED = 'image: registry.example.com/app:v1 # {"$imagepolicy": "ns:app"}\n'
UPDATED = 'image: registry.example.com/app:v2 # {"$imagepolicy": "ns:app"}\n'


@contextmanager
def file_size_limit(size: int) -> Iterator[None]:
    """Writes past ``size`` bytes fail with EFBIG (even for root; Python ignores SIGXFSZ)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))


def test_every_marked_file_of_many_directories_is_written_in_one_pass(tmp_path: Path) -> None:
    paths = [
        tmp_path / f"team-{team}" / f"app-{app}.yaml" for team in range(5) for app in range(20)
    ]
    for path in paths:
        path.parent.mkdir(exist_ok=True)
        path.write_text(MARKED)
    result = update_tree(tmp_path, TABLE)
    assert [path.read_text() for path in paths] == [UPDATED] * len(paths)
    assert len(result.changes.records) == len(paths)


def test_a_failed_write_stops_the_pass_and_later_files_stay_as_they_were(tmp_path: Path) -> None:
    first, second = tmp_path / "a.yaml", tmp_path / "b.yaml"
    long_first = f"# {'x' * 100}\n{MARKED}"  # too long to write; b.yaml alone would fit
    first.write_text(long_first)
    second.write_text(MARKED)
    with file_size_limit(len(UPDATED) + 10), pytest.raises(RetryableError) as raised:
        update_tree(tmp_path, TABLE)
    assert "cannot write a.yaml" in str(raised.value)
    assert (first.read_text(), second.read_text()) == (long_first, MARKED)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.yaml", "b.yaml"]


def test_a_dry_run_writes_nothing_and_still_reports_every_change(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(MARKED)
    result = update_tree(tmp_path, TABLE, dry_run=True)
    assert (tmp_path / "a.yaml").read_text() == MARKED
    assert list(result.diffs) == ["a.yaml"]
