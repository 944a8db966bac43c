"""The ``GitUpdater`` port on the git CLI: runs the blocking flow in a worker thread."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from tagpilot.adapters.git.flow import run_git_flow
from tagpilot.ports import FlowResult, GitUpdate

__all__ = ["CliGitUpdater"]


class CliGitUpdater:
    """Implements ``tagpilot.ports.GitUpdater`` with mirrors under ``state_dir``."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir

    async def update(self, request: GitUpdate, apply: Callable[[Path], bool]) -> FlowResult:
        """Run the flow; the mirror's lock serialises writers of one remote."""
        return await asyncio.to_thread(
            run_git_flow,
            request.url,
            state_dir=self.state_dir,
            auth=request.auth,
            checkout=request.checkout,
            push_spec=request.push,
            commit=request.commit,
            apply=apply,
            signing=request.signing,
            timeout=request.timeout_seconds,
            known_result=request.known_result,
        )
