"""Wiring shared by the commands that run reconcilers: store, registry, git, engine.

The one place that reads the environment for keys and picks the concrete adapters; the
daemon and ``reconcile --once`` both build their engine here.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import click

from tagpilot.adapters.clock import SystemClock
from tagpilot.adapters.files import FileTreeEditor
from tagpilot.adapters.git.artifact import CliGitSource
from tagpilot.adapters.git.updater import CliGitUpdater
from tagpilot.adapters.manifests import ManifestReader, Manifests
from tagpilot.adapters.registry.pool import RegistryPool
from tagpilot.adapters.sops.keys import AgeIdentities, identities_from_env, load_identity_file
from tagpilot.adapters.state_dir import default_state_path
from tagpilot.adapters.store import SqliteStore
from tagpilot.core.errors import InvalidInputError
from tagpilot.reconcile.context import ReconcileContext
from tagpilot.runtime.engine import Engine, ResultHook

__all__ = [
    "DEFAULT_STATE",
    "App",
    "build_app",
    "engine_options",
    "identities_for",
]

DEFAULT_STATE = "$XDG_STATE_HOME/tagpilot/state.db"
"""How help shows the default ``--state`` (else ``~/.local/state/tagpilot/state.db``)."""
F = TypeVar("F", bound=Callable[..., Any])


def engine_options(command: F) -> F:
    """``--state``, ``--age-key-file`` and ``--exclude``: what every command that runs the
    engine takes."""
    command = click.option(
        "--exclude",
        "exclude",
        multiple=True,
        metavar="GLOB",
        help="Leave out files matching GLOB under each PATH (.sourceignore syntax; repeatable).",
    )(command)
    command = click.option(
        "--age-key-file",
        type=click.Path(path_type=Path, exists=True, dir_okay=False),
        help="age identities for SOPS-encrypted manifests (also SOPS_AGE_KEY_FILE, SOPS_AGE_KEY).",
    )(command)
    return click.option(
        "--state",
        type=click.Path(path_type=Path),
        default=default_state_path,
        show_default=DEFAULT_STATE,
        help="The state file (statuses, tags, events); git mirrors live beside it.",
    )(command)


@dataclass
class App:
    """A ready engine and the resources to close when done."""

    engine: Engine
    store: SqliteStore
    registry: RegistryPool
    paths: tuple[Path, ...]
    problems: list[InvalidInputError] = field(default_factory=list)
    """Files left out of the first load because they could not be read, parsed or decrypted."""
    scratch: Path | None = None
    """A dry run's throwaway directory for git mirrors, removed by ``aclose``."""

    async def aclose(self) -> None:
        """Close network clients and the state file; remove a dry run's scratch directory."""
        await self.registry.aclose()
        self.store.close()
        if self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)


def identities_for(age_key_file: Path | None) -> AgeIdentities:
    """age identities from ``--age-key-file`` and the SOPS environment variables."""
    found = identities_from_env(os.environ)
    if age_key_file is not None:
        found = load_identity_file(age_key_file) + found
    return found


def build_app(
    paths: Sequence[Path],
    *,
    state: Path,
    age_key_file: Path | None = None,
    dry_run: bool = False,
    on_result: ResultHook | None = None,
    exclude: Sequence[str] = (),
    on_problems: Callable[[list[InvalidInputError]], None] | None = None,
) -> App:
    """Load the manifests (decrypting SOPS files) and assemble the engine.

    ``on_problems`` hears of the files each load (the first and every reload) left out.
    A dry run writes nothing under ``state``: statuses stay in memory and git mirrors go
    to a scratch directory that ``App.aclose`` removes.
    """
    keys = identities_for(age_key_file)
    state = state.absolute()

    reader = ManifestReader(keys, exclude)

    def loader(where: Sequence[Path]) -> Manifests:
        loaded = reader(where)
        if on_problems is not None and loaded.problems:
            on_problems(loaded.problems)
        return loaded

    manifests = loader(paths)
    store = SqliteStore(":memory:" if dry_run else state)
    scratch = Path(tempfile.mkdtemp(prefix="tagpilot-dry-run-")) if dry_run else None
    registry = RegistryPool()
    ctx = ReconcileContext(
        clock=SystemClock(),
        store=store,
        registry=registry,
        git=CliGitUpdater(scratch or state.parent),
        editor=FileTreeEditor(),
        git_source=CliGitSource(scratch or state.parent),
    )
    engine = Engine(
        ctx, manifests, loader=loader, dry_run=dry_run, on_result=on_result,
    )  # fmt: skip
    return App(engine, store, registry, tuple(paths), manifests.problems, scratch)
