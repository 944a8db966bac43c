"""Turn one commit of a mirror into a GitRepository artifact: files, ignore rules, archive.

Called by :mod:`.artifact` while it holds the mirror's lock.  The commit is read with
``git archive`` (never a worktree: the automation's worktree of the same mirror stays as it
is) and unpacked as Flux's source-controller stores artifacts:

* regular files and directories only (symlinks and submodule entries are dropped);
* Flux's ignore rules (:func:`ignore_rules`): the built-in exclusions, every ``.sourceignore``
  file (each relative to its directory) and ``spec.ignore``, in that order, the last
  matching pattern deciding, as in a ``.gitignore``;
* an archive of what is left with normalised entries (sorted names, no owners, modification
  times zero, modes 0600 for files, 0700 for executables, 0750 for directories).

The archive is a gzip tar, written deterministically (gzip header time zero, no file name),
so the same tree always has the same ``sha256:`` digest.  It is *not* byte-identical to the
tarball Flux would serve (Go's gzip and tar writers differ from Python's), so a digest is
comparable between tagpilot runs, not with a digest source-controller computed.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import tarfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pathspec

from tagpilot.adapters.git.runner import GitRunner
from tagpilot.core.errors import StalledError

__all__ = [
    "DEFAULT_PATTERNS",
    "IGNORE_FILE",
    "VCS_PATTERNS",
    "Archive",
    "ArtifactIgnore",
    "apply_ignore",
    "export_commit",
    "ignore_rules",
    "write_archive",
]

IGNORE_FILE = ".sourceignore"
VCS_PATTERNS = (".git/", ".gitignore", ".gitmodules", ".gitattributes")
"""Always left out of an artifact."""
DEFAULT_PATTERNS = (
    *("*.jpg", "*.jpeg", "*.gif", "*.png", "*.wmv", "*.flv", "*.tar.gz", "*.zip"),
    *(".github/", ".circleci/", ".travis.yml", ".gitlab-ci.yml", "appveyor.yml"),
    *(".drone.yml", "cloudbuild.yaml", "codeship-services.yml", "codeship-steps.yml"),
    *("**/.goreleaser.yml", "**/.sops.yaml", "**/.flux.yaml"),
)
"""Left out too, but only while no ``.sourceignore`` file and no ``spec.ignore`` exist
(Flux's rule: any pattern of the user's replaces these defaults)."""

_NO_EXPORT_ATTRIBUTES = "* -export-ignore -export-subst\n"
_FILE_MODE, _EXEC_MODE, _DIR_MODE = 0o600, 0o700, 0o750


@dataclass(frozen=True)
class ArtifactIgnore:
    """Gitignore pattern lists, each with the directory its patterns are relative to."""

    rules: tuple[tuple[str, pathspec.GitIgnoreSpec], ...]

    def ignored(self, path: str, *, is_dir: bool) -> bool:
        """Whether ``path`` (POSIX, relative to the tree's root) is left out."""
        verdict = False
        for domain, spec in self.rules:
            if domain and not path.startswith(f"{domain}/"):
                continue
            relative = path.removeprefix(f"{domain}/") if domain else path
            found = spec.check_file(f"{relative}/" if is_dir else relative).include
            verdict = found if found is not None else verdict
        return verdict


def ignore_rules(tree: Path, spec_ignore: str | None) -> ArtifactIgnore:
    """The rules for ``tree``: built-in, then its ``.sourceignore`` files, then ``spec.ignore``."""
    files = sorted(tree.rglob(IGNORE_FILE), key=lambda p: (len(p.parts), p.as_posix()))
    users = [(f.parent.relative_to(tree).as_posix(), _read(f)) for f in files if f.is_file()]
    if spec_ignore is not None:
        users.append(("", spec_ignore.splitlines()))
    builtin = list(VCS_PATTERNS) if users else [*VCS_PATTERNS, *DEFAULT_PATTERNS]
    rules = [("", _spec(builtin, "built-in"))]
    rules += [("" if d == "." else d, _spec(lines, d)) for d, lines in users]
    return ArtifactIgnore(tuple(rules))


def _read(file: Path) -> list[str]:
    return file.read_text(encoding="utf-8", errors="replace").splitlines()


def _spec(lines: Sequence[str], where: str) -> pathspec.GitIgnoreSpec:
    try:
        return pathspec.GitIgnoreSpec.from_lines(lines)
    except (ValueError, TypeError) as exc:
        source = "spec.ignore" if where == "" else f"{where}/{IGNORE_FILE}"
        raise StalledError(f"invalid ignore patterns in {source}: {exc}") from None


def export_commit(git: GitRunner, mirror: Path, sha: str, tree: Path, scratch: Path) -> None:
    """Unpack ``sha``'s regular files and directories into the new directory ``tree``.

    ``export-ignore``/``export-subst`` attributes of the repository are neutralised: Flux
    stores the files as committed.
    """
    attributes = mirror / "info" / "attributes"
    if not attributes.is_file() or attributes.read_text() != _NO_EXPORT_ATTRIBUTES:
        attributes.parent.mkdir(parents=True, exist_ok=True)
        attributes.write_text(_NO_EXPORT_ATTRIBUTES)
    raw = scratch / "commit.tar"
    git.run("archive", "--format=tar", f"--output={raw}", "--end-of-options", sha, cwd=mirror)
    tree.mkdir(mode=_DIR_MODE)
    with tarfile.open(raw) as archive:
        for member in archive:
            if member.isdir():
                (tree / member.name).mkdir(mode=_DIR_MODE, parents=True, exist_ok=True)
            elif member.isfile():
                _unpack(archive, member, tree)
    raw.unlink()


def _unpack(archive: tarfile.TarFile, member: tarfile.TarInfo, tree: Path) -> None:
    target = tree / member.name
    target.parent.mkdir(mode=_DIR_MODE, parents=True, exist_ok=True)
    source = archive.extractfile(member)
    assert source is not None  # a regular file always has content
    mode = _EXEC_MODE if member.mode & 0o111 else _FILE_MODE
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with source, os.fdopen(fd, "wb") as out:
        shutil.copyfileobj(source, out)


def apply_ignore(tree: Path, rules: ArtifactIgnore) -> None:
    """Remove from ``tree`` every file and directory ``rules`` leave out."""
    for directory, dirs, files in os.walk(tree, topdown=True):
        base = Path(directory).relative_to(tree).as_posix()
        prefix = "" if base == "." else f"{base}/"
        for name in list(dirs):
            if rules.ignored(prefix + name, is_dir=True):
                shutil.rmtree(Path(directory, name))
                dirs.remove(name)
        for name in files:
            if rules.ignored(prefix + name, is_dir=False):
                Path(directory, name).unlink()


@dataclass(frozen=True)
class Archive:
    """A written archive: its digest (``sha256:<hex>``) and size in bytes."""

    digest: str
    size: int


def write_archive(tree: Path, target: Path) -> Archive:
    """Write ``tree`` as a normalised gzip tar to ``target``; return its digest and size."""
    with target.open("wb") as raw:
        gz = gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0)
        with gz, tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as archive:
            for path in _entries(tree):
                _add(archive, tree, path)
    digest = hashlib.sha256()
    with target.open("rb") as written:
        for chunk in iter(lambda: written.read(1 << 20), b""):
            digest.update(chunk)
    return Archive(f"sha256:{digest.hexdigest()}", target.stat().st_size)


def _entries(tree: Path) -> Iterator[Path]:
    """Every directory and file under ``tree`` (not ``tree`` itself), in a stable order."""
    for directory, dirs, files in os.walk(tree):
        dirs.sort()
        here = Path(directory)
        if here != tree:
            yield here
        for name in sorted(files):
            yield here / name


def _add(archive: tarfile.TarFile, tree: Path, path: Path) -> None:
    info = tarfile.TarInfo(path.relative_to(tree).as_posix())
    info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
    if path.is_dir():
        info.type, info.mode = tarfile.DIRTYPE, _DIR_MODE
        archive.addfile(info)
        return
    executable = os.stat(path).st_mode & 0o111
    info.mode = _EXEC_MODE if executable else _FILE_MODE
    info.size = path.stat().st_size
    with path.open("rb") as content:
        archive.addfile(info, content)
