"""The setters' walk: every manifest under an update path that holds the marker bytes.

``tagpilot.adapters.files.update_tree`` consumes :func:`marked_files`.  The walk follows
Flux (``.yaml``, ``.yml`` and ``Kustomization`` names, directory symlinks not followed,
dangling links skipped, only files holding the marker parsed) and never reads outside
the root: a file symlink leading out is reported, one leading inside is handled through
its target when the walk reaches it.

It runs on every automation run over every file of a repository, and nearly every file
is unmarked, so its cost is that of the system calls: each manifest costs one open, one
read and one close relative to its directory's descriptor (the kernel resolves one name,
not a path), the loop calls no function of its own per file, and nothing is built for a
file that does not hold the marker.  (Reading directories ahead on two threads was
slower on a busy two-core machine: the threads contend for the GIL.)
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from tagpilot.adapters.atomic import TEMP_MARK, is_leftover
from tagpilot.core.setters import FileProblem

__all__ = ["MARKER_BYTES", "is_manifest_name", "marked_files"]

MARKER_BYTES = b"$imagepolicy"  # wider than Flux's screen: see core.setters.may_hold_markers
"""The bytes a file must hold to be parsed at all."""

_MANIFEST_SUFFIXES = (".yaml", ".yml")
_DIRECTORY_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)
_FILE_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)
_CHUNK = 1 << 16  # below malloc's mmap threshold: a bigger buffer costs an mmap per file

_Found = tuple[str, bytes | FileProblem]


def is_manifest_name(name: str) -> bool:
    """Flux's file filter: ``*.yaml``, ``*.yml`` (case-sensitive) or exactly ``Kustomization``."""
    return name.endswith(_MANIFEST_SUFFIXES) or name == "Kustomization"


def marked_files(root: Path, leftovers: list[str] | None = None) -> Iterator[_Found]:
    """Yield (path relative to ``root``, bytes) for every manifest holding the marker token.

    Files are visited in lexical order; a symlinked file leading outside ``root`` or an
    unreadable one yields a ``FileProblem`` instead of its bytes.  ``leftovers`` collects
    the paths of temporary files a killed write left (see :mod:`tagpilot.adapters.atomic`).
    """
    real_root = os.path.realpath(root)
    yield from _walk(real_root, real_root, "", leftovers)


def _walk(
    real_root: str, directory: str, prefix: str, leftovers: list[str] | None
) -> Iterator[_Found]:
    with os.scandir(directory) as scan:
        entries = sorted(scan, key=_entry_name)
    directory_fd = os.open(directory, _DIRECTORY_FLAGS)
    try:
        for entry in entries:
            name = entry.name
            if entry.is_file(follow_symlinks=False):
                if name.endswith(_MANIFEST_SUFFIXES) or name == "Kustomization":
                    try:
                        descriptor = os.open(name, _FILE_FLAGS, dir_fd=directory_fd)
                        try:
                            # A short read of a regular file is its end: one call for most.
                            data = os.read(descriptor, _CHUNK)
                            if len(data) == _CHUNK:
                                data = _read_rest(descriptor, data)
                        finally:
                            os.close(descriptor)
                    except OSError as error:
                        relative = prefix + name
                        message = f"{relative}: cannot read ({error.strerror}); skipped"
                        yield relative, FileProblem(relative, message)
                        continue
                    if MARKER_BYTES in data:
                        yield prefix + name, data
                elif leftovers is not None and TEMP_MARK in name and is_leftover(name):
                    leftovers.append(entry.path)
            elif entry.is_dir(follow_symlinks=False):
                yield from _walk(real_root, entry.path, f"{prefix}{name}/", leftovers)
            elif entry.is_symlink() and is_manifest_name(name):
                problem = _linked_file_problem(real_root, entry, prefix + name)
                if problem is not None:
                    yield problem.file, problem
    finally:
        os.close(directory_fd)


def _entry_name(entry: os.DirEntry[str]) -> str:
    return entry.name


def _linked_file_problem(
    real_root: str, entry: os.DirEntry[str], relative: str
) -> FileProblem | None:
    target = os.path.realpath(entry.path)
    if not os.path.isfile(target):
        return None  # dangling (or not a file): skipped, as Flux does
    if os.path.commonpath([real_root, target]) == real_root:
        return None  # handled when the walk reaches the target itself
    return FileProblem(relative, f"{relative}: symlink leads outside the update path; not read")


def _read_rest(descriptor: int, first: bytes) -> bytes:
    chunks = [first]
    while len(chunks[-1]) == _CHUNK:
        chunks.append(os.read(descriptor, _CHUNK))
    return b"".join(chunks)
