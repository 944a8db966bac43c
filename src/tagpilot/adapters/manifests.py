"""Read the user's manifests from disk: walk paths, load YAML, decrypt SOPS files.

``load_paths`` walks files and directories (recursively, sorted, ``.yaml``/``.yml``/``.json``;
hidden directories skipped, ``.sourceignore`` and ``--exclude`` patterns honoured, see
:mod:`tagpilot.adapters.sourceignore`) and validates every document with
``tagpilot.api.loader``.  ``load_manifests`` also decrypts SOPS-encrypted files with age
identities — from the caller, the environment, or a ``sops-age``-style Secret (``*.agekey``)
among the manifests — and indexes every Secret for the reconcilers.

One unrelated file must not stop every automation: a file under a directory that cannot be
read or parsed (a Helm chart template, a Secret encrypted to somebody else's key) is left
out and reported in ``Manifests.problems``; a Secret that failed to decrypt is remembered so
that the objects using it fail with that reason.  Invalid Flux objects, misspelt kinds and
duplicates are still raised together as one ``ManifestError``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tagpilot.adapters.sops import decrypt_file
from tagpilot.adapters.sops.keys import KEY_SOURCES, AgeIdentities, identities_from_secret
from tagpilot.adapters.sourceignore import IgnoreRules
from tagpilot.api.loader import (
    MANIFEST_SUFFIXES,
    LoadedObject,
    LoadResult,
    ManifestError,
    UnreadableManifestError,
    find_duplicates,
    is_unreadable,
    load_text,
)
from tagpilot.api.meta import DEFAULT_NAMESPACE
from tagpilot.api.secret import Secret
from tagpilot.core.errors import InvalidInputError, SourceLocation, StalledError
from tagpilot.core.secrets import SecretData, SecretIndex

__all__ = ["ManifestReader", "Manifests", "load_manifests", "load_paths"]


@dataclass
class Manifests:
    """Every object of a load, SOPS files decrypted, the Secrets indexed, and the files left
    out because they could not be loaded (``problems``, one or more per file)."""

    objects: list[LoadedObject] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)
    secrets: SecretIndex = field(default_factory=SecretIndex)
    problems: list[InvalidInputError] = field(default_factory=list)


def load_paths(
    paths: Sequence[Path | str],
    *,
    default_namespace: str = DEFAULT_NAMESPACE,
    exclude: Sequence[str] = (),
    keep_going: bool = False,
) -> LoadResult:
    """Load every manifest under ``paths``; encrypted documents come back undecrypted.

    Objects without ``metadata.namespace`` go to ``default_namespace`` (``default``, as
    ``kubectl apply`` would).  ``exclude`` holds gitignore-style patterns relative to each
    directory given.  Raises ``ManifestError`` naming every problem; with ``keep_going``,
    files found under a directory that cannot be read or parsed land in ``problems`` instead.
    """
    result, skipped = LoadResult(), Counter[str]()
    problems: list[InvalidInputError] = []
    for path, walked in _manifest_files(paths, exclude):
        try:
            loaded = load_text(_read(path), file=str(path), default_namespace=default_namespace)
        except ManifestError as error:
            unreadable = walked and keep_going and is_unreadable(error.problems)
            (result.problems if unreadable else problems).extend(error.problems)
            continue
        except UnreadableManifestError as error:
            (result.problems if walked and keep_going else problems).append(error)
            continue
        except InvalidInputError as error:
            problems.append(error)
            continue
        result.objects += loaded.objects
        skipped.update(loaded.skipped)
    problems += find_duplicates(result.objects)
    if problems:  # the files left out are listed too: the user sees everything at once
        raise ManifestError(problems + result.problems)
    result.skipped = dict(sorted(skipped.items()))
    return result


def load_manifests(
    paths: Sequence[Path | str],
    *,
    identities: AgeIdentities | None = None,
    default_namespace: str = DEFAULT_NAMESPACE,
    exclude: Sequence[str] = (),
) -> Manifests:
    """Load, decrypt and index: what ``reconcile --once`` and the daemon start from.

    Files that cannot be read, parsed or decrypted are reported in ``Manifests.problems``
    and the rest still load; problems in the objects themselves raise ``ManifestError``.
    """
    loaded = load_paths(
        paths, default_namespace=default_namespace, exclude=exclude, keep_going=True
    )
    keys = (identities or AgeIdentities()) + _identities_in(loaded.objects)
    decrypted = _decrypted(loaded.objects, keys, default_namespace)
    problems = decrypted.fatal + find_duplicates(decrypted.objects)
    if problems:
        raise ManifestError(problems + loaded.problems + decrypted.problems)
    return Manifests(
        decrypted.objects,
        loaded.skipped,
        _index(decrypted.objects, decrypted.unavailable),
        loaded.problems + decrypted.problems,
    )


@dataclass
class ManifestReader:
    """``load_manifests`` for a process that loads again on every edit (the daemon).

    A file that cannot be loaded is left out — unless an earlier load took objects from it:
    then the edit broke a file in use, and the whole load is refused (``ManifestError``) so
    the caller keeps the last good objects instead of dropping that file's objects.
    """

    identities: AgeIdentities | None = None
    exclude: Sequence[str] = ()
    _in_use: set[str] = field(default_factory=set)

    def __call__(self, paths: Sequence[Path | str]) -> Manifests:
        """Load ``paths``; raise ``ManifestError`` when a file in use no longer loads."""
        manifests = load_manifests(paths, identities=self.identities, exclude=self.exclude)
        broken = [p for p in manifests.problems if p.location and p.location.file in self._in_use]
        if broken:
            raise ManifestError(broken)
        self._in_use = {str(item.source.file) for item in manifests.objects}
        return manifests


def _identities_in(objects: list[LoadedObject]) -> AgeIdentities:
    found = AgeIdentities()
    for item in objects:
        if isinstance(item.obj, Secret) and any(k.endswith(".agekey") for k in item.obj.values()):
            found += identities_from_secret(item.obj.values(), secret=str(item.obj.key))
    return found


@dataclass
class _Decrypted:
    """Plain objects after decryption, files that did not decrypt and their Secrets, and
    invalid objects found inside decrypted files (``fatal``)."""

    objects: list[LoadedObject] = field(default_factory=list)
    problems: list[InvalidInputError] = field(default_factory=list)
    fatal: list[InvalidInputError] = field(default_factory=list)
    unavailable: dict[tuple[str, str], str] = field(default_factory=dict)


def _decrypted(
    objects: list[LoadedObject], keys: AgeIdentities, default_namespace: str
) -> _Decrypted:
    result = _Decrypted([item for item in objects if not item.encrypted])
    files = sorted({str(item.source.file) for item in objects if item.encrypted})
    for file in files:
        try:
            result.objects += _decrypt_one(file, keys, default_namespace)
            continue
        except ManifestError as error:
            if not is_unreadable(error.problems):
                result.fatal += error.problems  # a decrypted Flux object or Secret is invalid
                continue
            failed = error.problems
        except InvalidInputError as error:
            failed = [error]
        except StalledError as error:  # wrong key, tampered file: the message names the file
            detail = str(error).removeprefix(f"{file}: ")
            failed = [InvalidInputError(detail, location=SourceLocation(file), reason=error.reason)]
        result.problems += failed
        for item in objects:
            if item.encrypted and item.source.file == file and item.kind == "Secret":
                result.unavailable[(item.namespace, item.name)] = str(failed[0])
    return result


def _decrypt_one(file: str, keys: AgeIdentities, default_namespace: str) -> list[LoadedObject]:
    if not keys:
        raise InvalidInputError(
            f"encrypted with SOPS, but no age key was found: {KEY_SOURCES}, "
            "or add a Secret with an '*.agekey' entry",
            location=SourceLocation(file),
        )
    decrypted = decrypt_file(file, identities=keys)
    return load_text(decrypted.text, file=file, default_namespace=default_namespace).objects


def _index(objects: list[LoadedObject], unavailable: dict[tuple[str, str], str]) -> SecretIndex:
    secrets = {}
    for item in objects:
        if isinstance(item.obj, Secret):
            secret = item.obj
            secrets[(secret.namespace, secret.name)] = SecretData(
                secret.namespace, secret.name, secret.values(), secret.type
            )
    return SecretIndex(secrets, unavailable=unavailable)


def _manifest_files(
    paths: Sequence[Path | str], exclude: Sequence[str]
) -> Iterator[tuple[Path, bool]]:
    """Each manifest file, and whether it was found by walking a directory (not named)."""
    for given in paths:
        path = Path(given)
        if not path.is_dir():
            yield path, False
            continue
        rules = IgnoreRules.for_path(path, exclude)
        for candidate in sorted(path.rglob("*")):
            hidden = any(part.startswith(".") for part in candidate.relative_to(path).parts)
            if candidate.suffix not in MANIFEST_SUFFIXES or hidden or not candidate.is_file():
                continue
            if not rules.ignored(candidate):
                yield candidate, True


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidInputError(
            "no such file or directory", location=SourceLocation(str(path))
        ) from None
    except UnicodeDecodeError as error:
        raise UnreadableManifestError(
            f"cannot read: not UTF-8 text ({error.reason} at byte {error.start})",
            location=SourceLocation(str(path)),
        ) from None
    except OSError as error:
        raise UnreadableManifestError(
            f"cannot read: {error.strerror or error}", location=SourceLocation(str(path))
        ) from None
