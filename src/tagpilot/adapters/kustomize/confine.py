"""Keep a kustomize build inside its source: the pre-pass run before ``kubectl kustomize``.

Flux builds with kustomize's library on a file system that refuses any path outside the
artifact root.  ``kubectl kustomize`` has no such file system: with the load restrictor
Flux needs (``LoadRestrictionsNone``) a ``resources:`` entry climbing out with ``../``
reads any file of the machine, and a remote base makes kubectl run ``git clone``.  So
before the build, :func:`confine` reads every kustomization file reachable from the build
directory (through ``resources``, ``bases``, ``components`` and the other path-valued
fields) and refuses absolute paths, paths that leave the root, symlinks that lead outside
it, missing files and remote bases.  It returns the files the SOPS pre-pass may decrypt.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from tagpilot.core.kustomize.generate import BuildError, kustomization_file

__all__ = ["Reachable", "SopsSource", "confine", "is_remote"]

_REMOTE = re.compile(
    r"^(?:[a-z][a-z0-9+.-]*://|git@|git::|ssh:|github\.com/|gitlab\.com/|bitbucket\.org/)"
    r"|[?&](?:ref|version|timeout|submodules)=",
    re.IGNORECASE,
)
_HOST_LIKE = re.compile(r"^[a-z0-9-]+(\.[a-z0-9-]+)+(:\d+)?/", re.IGNORECASE)

# Fields whose entries are paths (file or kustomization directory).
_DIRECTORY_LISTS = ("resources", "bases", "components")
_FILE_LISTS = ("crds", "configurations")
_FILE_OR_INLINE_LISTS = ("patchesStrategicMerge", "transformers", "generators", "validators")
_PATH_ENTRY_LISTS = ("patches", "patchesJson6902", "replacements")
_GENERATORS = ("configMapGenerator", "secretGenerator")


def is_remote(entry: str) -> bool:
    """Whether a kustomization entry names a remote base (a URL, ``git@``, ``github.com/``...)."""
    return bool(_REMOTE.search(entry))


@dataclass(frozen=True)
class SopsSource:
    """A file a kustomization reads that may be SOPS-encrypted, and the format to read it in."""

    path: Path
    format: str
    """``yaml``, ``json``, ``dotenv`` or ``binary``."""


@dataclass
class Reachable:
    """What the confinement pass found: kustomization files and SOPS candidates."""

    kustomization_files: list[Path] = field(default_factory=list)
    sops_sources: list[SopsSource] = field(default_factory=list)


@dataclass
class _Walk:
    root: Path
    real_root: Path
    found: Reachable
    visited: set[Path]
    yaml: YAML = field(default_factory=lambda: YAML(typ="safe"))

    def name(self, path: Path) -> str:
        """``path`` relative to the root, for messages (machine paths never shown)."""
        try:
            return path.relative_to(self.root).as_posix() or "."
        except ValueError:
            return path.name


def confine(root: Path, directory: Path) -> Reachable:
    """Check every kustomization file reachable from ``directory`` (inside ``root``).

    Raises :class:`BuildError` naming the kustomization file, the field and the entry.
    """
    walk = _Walk(root, root.resolve(), Reachable(), set())
    _check_inside(walk, directory, where=".", entry=walk.name(directory))
    _visit(walk, directory)
    return walk.found


def _visit(walk: _Walk, directory: Path) -> None:
    real = directory.resolve()
    if real in walk.visited:
        return
    walk.visited.add(real)
    name = kustomization_file(os.listdir(directory)) if directory.is_dir() else None
    if name is None:
        return  # kustomize itself reports a directory without a kustomization file
    file = directory / name
    _check_inside(walk, file, where=walk.name(file), entry=name)
    walk.found.kustomization_files.append(file)
    document = _load(walk, file)
    where = walk.name(file)
    for key, entry in _entries(document, where):
        target = _resolve(walk, directory, entry, where=f"{where}: {key}")
        if key.split("[")[0] in _DIRECTORY_LISTS and target.is_dir():
            _visit(walk, target)
    for key, entry, fmt in _sops_entries(document):
        target = _resolve(walk, directory, entry, where=f"{where}: {key}")
        if target.is_file():
            walk.found.sops_sources.append(SopsSource(target, fmt))


def _load(walk: _Walk, file: Path) -> Mapping[str, Any]:
    try:
        document = walk.yaml.load(file.read_text(encoding="utf-8"))
    except (YAMLError, UnicodeDecodeError) as exc:
        raise BuildError(f"{walk.name(file)}: not valid YAML: {_first_line(exc)}") from None
    if document is None:
        return {}
    if not isinstance(document, Mapping):
        raise BuildError(f"{walk.name(file)}: a kustomization file must be a YAML mapping")
    return document


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _strings(value: Any) -> Iterator[tuple[int, str]]:
    if isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, str):
                yield index, item


def _entries(document: Mapping[str, Any], where: str) -> Iterator[tuple[str, str]]:
    """Every path-valued entry of a kustomization document, with the field that holds it."""
    for key in (*_DIRECTORY_LISTS, *_FILE_LISTS):
        for index, entry in _strings(document.get(key)):
            yield f"{key}[{index}]", entry
    for key in _FILE_OR_INLINE_LISTS:
        for index, entry in _strings(document.get(key)):
            inline = "\n" in entry or ":" in entry.split("/")[0]
            if not inline or is_remote(entry):
                yield f"{key}[{index}]", entry
    for key in _PATH_ENTRY_LISTS:
        for index, item in enumerate(_list(document.get(key))):
            if isinstance(item, Mapping) and isinstance(item.get("path"), str):
                yield f"{key}[{index}].path", item["path"]
    openapi = document.get("openapi")
    if isinstance(openapi, Mapping) and isinstance(openapi.get("path"), str):
        yield "openapi.path", openapi["path"]
    for key, index, field_name, entry in _generator_files(document):
        yield f"{key}[{index}].{field_name}", _data_key_and_path(entry)[1]
    helm = document.get("helmGlobals")
    if isinstance(helm, Mapping) and isinstance(helm.get("chartHome"), str):
        yield "helmGlobals.chartHome", helm["chartHome"]


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _generator_files(document: Mapping[str, Any]) -> Iterator[tuple[str, int, str, str]]:
    for key in _GENERATORS:
        for index, generator in enumerate(_list(document.get(key))):
            if not isinstance(generator, Mapping):
                continue
            for _, entry in _strings(generator.get("files")):
                yield key, index, "files", entry
            for _, entry in _strings(generator.get("envs")):
                yield key, index, "envs", entry
            if isinstance(generator.get("env"), str):
                yield key, index, "env", generator["env"]


def _sops_entries(document: Mapping[str, Any]) -> Iterator[tuple[str, str, str]]:
    """Files Flux decrypts before the build: secretGenerator files and envs, patch files."""
    for key, index, field_name, entry in _generator_files(document):
        if key != "secretGenerator":
            continue  # as in Flux: a ConfigMap is no place for a decrypted value
        if field_name == "files":
            # The data key's extension says how the value is read, as in Flux.
            data_key, path = _data_key_and_path(entry)
            yield f"{key}[{index}].files", path, _format_of(data_key)
        else:
            fmt = _format_of(entry)
            yield f"{key}[{index}].{field_name}", entry, "dotenv" if fmt == "binary" else fmt
    for index, item in enumerate(_list(document.get("patches"))):
        if isinstance(item, Mapping) and isinstance(item.get("path"), str):
            yield f"patches[{index}].path", item["path"], _format_of(item["path"])


def _data_key_and_path(entry: str) -> tuple[str, str]:
    """A generator ``files`` entry: ``key=path``, or a path whose file name is the key."""
    data_key, sep, path = entry.partition("=")
    return (data_key, path) if sep else (PurePosixPath(entry).name, entry)


def _format_of(entry: str) -> str:
    suffix = PurePosixPath(entry).suffix.lower()
    if suffix in (".yaml", ".yml"):
        return "yaml"
    if suffix in (".json", ".dockerconfigjson"):
        return "json"
    if suffix == ".env":
        return "dotenv"
    return "binary"


def _resolve(walk: _Walk, directory: Path, entry: str, *, where: str) -> Path:
    if is_remote(entry):
        raise BuildError(
            f"{where}: remote base {entry!r} refused: builds read only the source's own files"
        )
    if os.path.isabs(entry):
        raise BuildError(f"{where}: {entry!r} is an absolute path; use a path inside the source")
    target = Path(os.path.normpath(directory / entry))
    _check_inside(walk, target, where=where, entry=entry)
    if not target.exists() and not target.is_symlink():
        if _HOST_LIKE.match(entry):
            raise BuildError(
                f"{where}: remote base {entry!r} refused: builds read only the source's own files"
            )
        raise BuildError(f"{where}: {entry!r} not found")
    return target


def _check_inside(walk: _Walk, target: Path, *, where: str, entry: str) -> None:
    if not _under(target, walk.root):
        raise BuildError(f"{where}: {entry!r} leaves the source root")
    if not _under(target.resolve(), walk.real_root):
        raise BuildError(f"{where}: {entry!r} is a symlink leading outside the source root")


def _under(path: Path, root: Path) -> bool:
    return path == root or root in path.parents
