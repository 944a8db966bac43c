"""Read the user's manifests from disk: walk paths, load YAML, decrypt SOPS files.

``load_paths`` walks files and directories (recursively, sorted, ``.yaml``/``.yml``/``.json``;
hidden directories skipped) and validates every document with ``tagpilot.api.loader``.
``load_manifests`` also decrypts SOPS-encrypted files with age identities — from the caller,
the environment, or a ``sops-age``-style Secret (``*.agekey``) among the manifests — and
indexes every Secret for the reconcilers.  Problems are collected and raised together.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tagpilot.adapters.sops import decrypt_file
from tagpilot.adapters.sops.keys import AgeIdentities, identities_from_secret
from tagpilot.api.loader import (
    MANIFEST_SUFFIXES,
    LoadedObject,
    LoadResult,
    ManifestError,
    find_duplicates,
    load_text,
)
from tagpilot.api.meta import DEFAULT_NAMESPACE
from tagpilot.api.secret import Secret
from tagpilot.core.errors import InvalidInputError, SourceLocation, StalledError
from tagpilot.core.secrets import SecretData, SecretIndex

__all__ = ["Manifests", "load_manifests", "load_paths"]


@dataclass
class Manifests:
    """Every object of a load, SOPS files decrypted, and the Secrets indexed."""

    objects: list[LoadedObject] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)
    secrets: SecretIndex = field(default_factory=SecretIndex)


def load_paths(
    paths: Sequence[Path | str], *, default_namespace: str = DEFAULT_NAMESPACE
) -> LoadResult:
    """Load every manifest under ``paths``; encrypted documents come back undecrypted.

    Objects without ``metadata.namespace`` go to ``default_namespace`` (``default``, as
    ``kubectl apply`` would).  Raises ``ManifestError`` naming every problem.
    """
    result, problems, skipped = LoadResult(), [], Counter[str]()
    for path in _manifest_files(paths):
        try:
            loaded = load_text(_read(path), file=str(path), default_namespace=default_namespace)
        except ManifestError as error:
            problems += error.problems
            continue
        except InvalidInputError as error:
            problems.append(error)
            continue
        result.objects += loaded.objects
        skipped.update(loaded.skipped)
    problems += find_duplicates(result.objects)
    if problems:
        raise ManifestError(problems)
    result.skipped = dict(sorted(skipped.items()))
    return result


def load_manifests(
    paths: Sequence[Path | str],
    *,
    identities: AgeIdentities | None = None,
    default_namespace: str = DEFAULT_NAMESPACE,
) -> Manifests:
    """Load, decrypt and index: what ``reconcile --once`` and the daemon start from."""
    loaded = load_paths(paths, default_namespace=default_namespace)
    keys = (identities or AgeIdentities()) + _identities_in(loaded.objects)
    objects = _decrypted(loaded.objects, keys, default_namespace)
    problems = find_duplicates(objects)
    if problems:
        raise ManifestError(problems)
    return Manifests(objects, loaded.skipped, _index(objects))


def _identities_in(objects: list[LoadedObject]) -> AgeIdentities:
    found = AgeIdentities()
    for item in objects:
        if isinstance(item.obj, Secret) and any(k.endswith(".agekey") for k in item.obj.values()):
            found += identities_from_secret(item.obj.values(), secret=str(item.obj.key))
    return found


def _decrypted(
    objects: list[LoadedObject], keys: AgeIdentities, default_namespace: str
) -> list[LoadedObject]:
    plain = [item for item in objects if not item.encrypted]
    files = sorted({str(item.source.file) for item in objects if item.encrypted})
    problems: list[InvalidInputError] = []
    for file in files:
        try:
            plain += _decrypt_one(file, keys, default_namespace)
        except ManifestError as error:
            problems += error.problems
        except InvalidInputError as error:
            problems.append(error)
        except StalledError as error:  # wrong key, tampered file: the message names the file
            problems.append(InvalidInputError(str(error), reason=error.reason))
    if problems:
        raise ManifestError(problems)
    return plain


def _decrypt_one(file: str, keys: AgeIdentities, default_namespace: str) -> list[LoadedObject]:
    if not keys:
        raise InvalidInputError(
            "encrypted with SOPS, but no age key was given: pass --age-key-file, set "
            "SOPS_AGE_KEY_FILE or SOPS_AGE_KEY, or add a Secret with an '*.agekey' entry",
            location=SourceLocation(file),
        )
    decrypted = decrypt_file(file, identities=keys)
    return load_text(decrypted.text, file=file, default_namespace=default_namespace).objects


def _index(objects: list[LoadedObject]) -> SecretIndex:
    secrets = {}
    for item in objects:
        if isinstance(item.obj, Secret):
            secret = item.obj
            secrets[(secret.namespace, secret.name)] = SecretData(
                secret.namespace, secret.name, secret.values(), secret.type
            )
    return SecretIndex(secrets)


def _manifest_files(paths: Sequence[Path | str]) -> Iterator[Path]:
    for given in paths:
        path = Path(given)
        if path.is_dir():
            for candidate in sorted(path.rglob("*")):
                hidden = any(part.startswith(".") for part in candidate.relative_to(path).parts)
                if candidate.is_file() and candidate.suffix in MANIFEST_SUFFIXES and not hidden:
                    yield candidate
        else:
            yield path


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidInputError(
            "no such file or directory", location=SourceLocation(str(path))
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        raise InvalidInputError(
            f"cannot read: {error}", location=SourceLocation(str(path))
        ) from None
