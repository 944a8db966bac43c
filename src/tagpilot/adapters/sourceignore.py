"""Which files under a manifest path to leave alone: ``.sourceignore`` files and ``--exclude``.

Flux's source-controller leaves out of an artifact every path a ``.sourceignore`` file
matches (gitignore syntax, one file per directory, each relative to its directory, deeper
files overriding shallower ones), starting at the repository root.  :class:`IgnoreRules`
does the same for the files tagpilot loads: it reads the ``.sourceignore`` files from the
Git work tree's root (the nearest parent with ``.git``) down to each file, then applies the
``--exclude`` patterns (same syntax, relative to the path given), which win over them.

Matching is pathspec's gitignore implementation (``GitIgnoreSpec``: negation, ``**``,
anchored ``/`` patterns and directory-only ``dir/`` patterns, as git reads them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pathspec

from tagpilot.core.errors import InvalidInputError, SourceLocation

__all__ = ["IGNORE_FILE", "IgnoreRules"]

IGNORE_FILE = ".sourceignore"


def _spec(lines: Sequence[str], source: str) -> pathspec.GitIgnoreSpec:
    try:
        return pathspec.GitIgnoreSpec.from_lines(lines)
    except (ValueError, TypeError) as error:  # pathspec refuses a few malformed patterns
        raise InvalidInputError(
            f"not a gitignore pattern list: {error}", location=SourceLocation(source)
        ) from None


def _work_tree_root(path: Path) -> Path:
    """The nearest directory at or above ``path`` holding ``.git``; ``path`` when none does."""
    for candidate in (path, *path.parents):
        if (candidate / ".git").exists():
            return candidate
    return path


@dataclass
class IgnoreRules:
    """The ignore rules for the files under one manifest path (a directory)."""

    base: Path
    excludes: pathspec.GitIgnoreSpec
    _root: Path = field(init=False)
    _specs: dict[Path, pathspec.GitIgnoreSpec | None] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self.base = self.base.absolute()
        self._root = _work_tree_root(self.base)

    @classmethod
    def for_path(cls, base: Path, excludes: Sequence[str] = ()) -> IgnoreRules:
        """Rules for the files under ``base``, with ``--exclude`` patterns ``excludes``."""
        return cls(base, _spec(list(excludes), "--exclude"))

    def ignored(self, file: Path) -> bool:
        """Whether ``file`` (under :attr:`base`) is left out."""
        file = file.absolute()
        verdict: bool | None = None
        for directory in self._directories(file):
            spec = self._spec_in(directory)
            if spec is not None:
                found = spec.check_file(file.relative_to(directory).as_posix()).include
                verdict = found if found is not None else verdict
        excluded = self.excludes.check_file(file.relative_to(self.base).as_posix()).include
        return bool(excluded if excluded is not None else verdict)

    def _directories(self, file: Path) -> list[Path]:
        """Directories whose ``.sourceignore`` applies to ``file``, shallowest first."""
        top = self._root if self._root in (file, *file.parents) else self.base
        chain = [parent for parent in file.parents if parent == top or top in parent.parents]
        return list(reversed(chain))

    def _spec_in(self, directory: Path) -> pathspec.GitIgnoreSpec | None:
        if directory not in self._specs:
            ignore = directory / IGNORE_FILE
            self._specs[directory] = (
                _spec(_read_lines(ignore), str(ignore)) if ignore.is_file() else None
            )
        return self._specs[directory]


def _read_lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise InvalidInputError(
            f"cannot read: {error}", location=SourceLocation(str(path))
        ) from None
