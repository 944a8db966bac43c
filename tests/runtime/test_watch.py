"""The manifest watcher on real files: what counts as a change, and the debounce."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from runtime_support import VirtualTime
from structlog.testing import capture_logs

from tagpilot.runtime.watch import ManifestWatcher, snapshot

DOCUMENT = "apiVersion: image.toolkit.fluxcd.io/v1\nkind: ImageRepository\n"


def write(path: Path, text: str = DOCUMENT) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture
def manifests(tmp_path: Path) -> Path:
    """A manifest directory with one repository file."""
    root = tmp_path / "clusters"
    write(root / "podinfo.yaml")
    return root


def test_snapshot_sees_the_files_the_loader_reads(tmp_path: Path) -> None:
    root = tmp_path / "clusters"
    for name in ("a.yaml", "b.yml", "c.json", "nested/d.yaml"):
        write(root / name)
    for name in ("notes.txt", ".hidden/e.yaml", ".f.yaml", "nested/.git/config.yaml"):
        write(root / name)
    named = write(tmp_path / "single.manifest")
    missing = tmp_path / "gone.yaml"
    seen = snapshot([root, named, missing])
    expected = [root / "a.yaml", root / "b.yml", root / "c.json", root / "nested/d.yaml"]
    assert list(seen) == [str(path) for path in [*expected, named, missing]]
    assert seen[str(missing)] is None


def _rewrite(path: Path) -> None:
    path.write_text(DOCUMENT + "# edited\n")


def _touch(path: Path) -> None:
    info = path.stat()
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns + 1_000_000_000))


def _replace_keeping_size_and_mtime(path: Path) -> None:
    info = path.stat()
    fresh = path.with_suffix(".tmp")
    fresh.write_text(DOCUMENT.replace("Image", "image"))
    os.utime(fresh, ns=(info.st_atime_ns, info.st_mtime_ns))
    fresh.replace(path)


@pytest.mark.parametrize(
    ("edit", "changed"),
    [
        pytest.param(_rewrite, True, id="content-rewritten"),
        pytest.param(_touch, True, id="mtime-touched"),
        pytest.param(_replace_keeping_size_and_mtime, True, id="atomically-replaced"),
        pytest.param(lambda path: path.unlink(), True, id="deleted"),
        pytest.param(lambda path: write(path.with_name("new.yml")), True, id="file-added"),
        pytest.param(lambda path: write(path.with_name("README.md")), False, id="non-manifest"),
        pytest.param(lambda path: write(path.parent / ".cache/x.yaml"), False, id="hidden-dir"),
        pytest.param(lambda path: None, False, id="nothing-done"),
    ],
)
def test_snapshot_changes_exactly_when_a_manifest_changes(
    manifests: Path, edit: Callable[[Path], object], changed: bool
) -> None:
    before = snapshot([manifests])
    edit(manifests / "podinfo.yaml")
    assert (snapshot([manifests]) != before) is changed


async def test_a_change_is_reported_once_it_has_been_quiet(manifests: Path) -> None:
    clock, calls = VirtualTime(), []
    watcher = ManifestWatcher([manifests], lambda: calls.append(clock.now()), time=clock)
    _rewrite(manifests / "podinfo.yaml")
    assert not await watcher.check()
    await clock.advance(0.2)
    assert not await watcher.check(), "0.2 s is not yet quiet for 0.3 s"
    await clock.advance(0.1)
    assert await watcher.check()
    await clock.advance(5)
    assert not await watcher.check()
    assert calls == [pytest.approx(0.3)]


async def test_an_edit_during_the_quiet_period_restarts_it(manifests: Path) -> None:
    clock, calls = VirtualTime(), []
    watcher = ManifestWatcher([manifests], lambda: calls.append(clock.now()), time=clock)
    _rewrite(manifests / "podinfo.yaml")
    await watcher.check()
    await clock.advance(0.2)
    write(manifests / "redis.yaml")
    await watcher.check()
    await clock.advance(0.2)
    assert not await watcher.check()
    await clock.advance(0.1)
    assert await watcher.check()
    assert calls == [pytest.approx(0.5)]


async def test_a_burst_of_real_edits_calls_on_change_once(manifests: Path) -> None:
    changes = asyncio.Queue[None]()
    # A quiet period far longer than the burst keeps this stable on a loaded machine.
    watcher = ManifestWatcher([manifests], lambda: changes.put_nowait(None), poll=0.02, quiet=0.8)
    watcher.start()
    try:
        for round_ in range(5):
            write(manifests / "podinfo.yaml", DOCUMENT + f"# {round_}\n" * (round_ + 1))
            await asyncio.sleep(0.02)
        await asyncio.wait_for(changes.get(), timeout=10)
        await asyncio.sleep(0.3)
        assert changes.empty()
    finally:
        await watcher.stop()


async def test_an_async_on_change_is_awaited_and_quiet_files_call_nothing(
    manifests: Path,
) -> None:
    reloaded = asyncio.Event()
    calls = 0

    async def reload() -> None:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0)
        reloaded.set()

    watcher = ManifestWatcher([manifests], reload, poll=0.02, quiet=0.05)
    watcher.start()
    try:
        await asyncio.sleep(0.2)
        assert calls == 0
        (manifests / "podinfo.yaml").unlink()
        await asyncio.wait_for(reloaded.wait(), timeout=5)
        assert calls == 1
    finally:
        await watcher.stop()


async def test_a_failing_on_change_is_logged_and_watching_goes_on(manifests: Path) -> None:
    handled = asyncio.Queue[int]()
    attempts = 0

    def reload() -> None:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            raise RuntimeError("reload bug")
        handled.put_nowait(attempts)

    watcher = ManifestWatcher([manifests], reload, poll=0.02, quiet=0.05)
    with capture_logs() as logs:
        watcher.start()
        try:
            write(manifests / "redis.yaml")
            while attempts == 0:
                await asyncio.sleep(0.02)
            write(manifests / "nginx.yaml")
            assert await asyncio.wait_for(handled.get(), timeout=5) == 2
        finally:
            await watcher.stop()
    assert [entry["event"] for entry in logs] == ["manifest change handler failed"]


@pytest.mark.parametrize(
    ("poll", "quiet"),
    [pytest.param(0, 0.3, id="zero-poll"), pytest.param(1.0, -1, id="negative-quiet")],
)
def test_nonsensical_watch_settings_are_refused(manifests: Path, poll: float, quiet: float) -> None:
    with pytest.raises(ValueError, match="poll must be positive"):
        ManifestWatcher([manifests], lambda: None, poll=poll, quiet=quiet)
