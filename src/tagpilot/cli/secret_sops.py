"""``--sops`` for ``tagpilot create secret ... --export``: a Secret ready to commit.

Recipients come from ``--sops-age`` or from the ``.sops.yaml`` found by walking up from the
current directory (as sops does); with ``.sops.yaml``, ``--sops-path`` names the file the
Secret will be committed to, which the creation rules' ``path_regex`` is matched against.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click

from tagpilot.adapters.sops import encrypt_secret_for_export
from tagpilot.adapters.sops.rules import find_config
from tagpilot.core.errors import InvalidInputError

__all__ = ["SopsExport", "sops_options"]

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class SopsExport:
    """What the ``--sops*`` flags asked for."""

    enabled: bool
    recipients: tuple[str, ...]
    path: str

    def apply(self, exported: str, *, export: bool) -> str:
        """Encrypt ``exported`` (flux ``--export`` YAML) when ``--sops`` was given."""
        if not self.enabled:
            return exported
        if not export:
            raise InvalidInputError("--sops only works together with --export")
        if self.recipients:
            return encrypt_secret_for_export(
                exported, path=self.path or "secret.yaml", recipients=self.recipients
            )
        rules = find_config(Path.cwd())
        if rules is None:
            raise InvalidInputError(
                "--sops needs --sops-age RECIPIENT, or a .sops.yaml in this directory or above"
            )
        if not self.path:
            raise InvalidInputError(
                f"--sops with {rules} needs --sops-path FILE: the path the Secret will be "
                "committed to, which the creation rules' path_regex is matched against"
            )
        return encrypt_secret_for_export(exported, path=self.path, rules_path=rules)


def sops_options(command: F) -> F:
    """Add ``--sops``, ``--sops-age`` and ``--sops-path`` (collected as ``sops``)."""

    def collect(ctx: click.Context, _: click.Parameter, value: bool) -> bool:
        return value

    command = click.option(
        "--sops-path", default="", help="Where the Secret will be committed (for .sops.yaml)."
    )(command)
    command = click.option(
        "--sops-age", multiple=True, help="age recipient to encrypt for (repeatable)."
    )(command)
    return click.option(
        "--sops", is_flag=True, callback=collect, help="Encrypt data/stringData with SOPS (age)."
    )(command)
