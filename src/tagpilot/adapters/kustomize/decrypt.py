"""SOPS decryption for Kustomization builds, as Flux's kustomize-controller does it.

Two passes, both only when ``spec.decryption.provider`` is ``sops``:

* before the build, :func:`decrypt_sources` decrypts in place (in the build's private copy
  of the tree) the files kustomization files reach through ``secretGenerator`` /
  ``configMapGenerator`` ``files`` and ``envs`` and local ``patches`` paths, when they
  carry the SOPS marker of their format;
* after the build, :func:`decrypt_object` decrypts an object that has a top-level ``sops``
  map with a ``mac`` (any kind), and in a Secret without one every ``data`` value whose
  decoded bytes are a SOPS document.

The MAC is not checked, as in Flux: kustomize has already rewritten the documents.  Errors
name the file or object and the keys tried; decrypted values never appear in them.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Final

from tagpilot.adapters.kustomize.confine import SopsSource
from tagpilot.adapters.sops import (
    AgeIdentities,
    NoMatchingIdentityError,
    SopsDecryptError,
    decrypt_text,
    is_sops_encrypted,
)
from tagpilot.adapters.sops.api import detect_format
from tagpilot.core.errors import InvalidInputError
from tagpilot.core.kustomize.generate import BuildError

__all__ = [
    "DECRYPT_ANNOTATION",
    "MAX_ENCRYPTED_FILE_SIZE",
    "decrypt_object",
    "decrypt_sources",
    "redact",
]

DECRYPT_ANNOTATION: Final = "kustomize.toolkit.fluxcd.io/decrypt"
"""Set to ``Disabled`` (any letter case) to leave an object encrypted."""
MAX_ENCRYPTED_FILE_SIZE: Final = 5 * 1024 * 1024
"""Flux refuses to decrypt bigger files before the build."""
MIN_REDACTED_LENGTH: Final = 3
"""Shorter decrypted values are not masked in messages: they would mask ordinary words."""


def _no_keys(what: str) -> BuildError:
    return BuildError(
        f"{what} is SOPS-encrypted but no age key was found: put the age identity in a "
        "'*.agekey' entry of the Secret named by spec.decryption.secretRef"
    )


def _failed(what: str, exc: InvalidInputError | SopsDecryptError) -> BuildError:
    # The SOPS adapter's messages name files and recipients, never plaintext; its advice on
    # where to put a key is the command line's, so it is replaced by the cluster's.
    message = exc.message.removeprefix(f"{what}: ")
    if isinstance(exc, NoMatchingIdentityError):
        message = message.split("; to add the right key", 1)[0] + (
            "; add the matching age identity to the Secret named by spec.decryption.secretRef"
        )
    return BuildError(f"{what}: decryption failed: {message}")


def decrypt_sources(
    sources: Iterable[SopsSource],
    identities: AgeIdentities | None,
    *,
    name: Callable[[Path], str],
) -> frozenset[str]:
    """Decrypt the encrypted ``sources`` in place; the plaintext values they held.

    ``name`` renders a path for messages (relative to the source root).  The values are
    for :func:`redact`: kustomize may quote a line of a file it cannot read.
    """
    values: set[str] = set()
    seen: set[Path] = set()
    for source in sources:
        if source.path in seen:
            continue
        seen.add(source.path)
        shown = name(source.path)
        content = source.path.read_bytes()
        if not is_sops_encrypted(content, source.format):
            continue
        if len(content) > MAX_ENCRYPTED_FILE_SIZE:
            raise BuildError(f"{shown}: SOPS-encrypted file over 5 MiB refused")
        if not identities:
            raise _no_keys(shown)
        try:
            plain = decrypt_text(
                content, file=shown, identities=identities, verify_mac=False, format=source.format
            )
        except (SopsDecryptError, InvalidInputError) as exc:
            raise _failed(shown, exc) from None
        source.path.write_bytes(plain.content)
        values.update(_leaves(plain.documents))
    return frozenset(values)


def _leaves(value: Any) -> Iterator[str]:
    if isinstance(value, Mapping):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _leaves(item)
    elif value is not None and not isinstance(value, bool):
        text = str(value).strip()
        if len(text) >= MIN_REDACTED_LENGTH:
            yield text


def redact(message: str, values: Iterable[str]) -> str:
    """``message`` with every one of ``values`` replaced by ``***`` (longest first)."""
    for value in sorted(values, key=len, reverse=True):
        message = message.replace(value, "***")
    return message


def _identity(obj: Mapping[str, Any]) -> str:
    metadata = obj.get("metadata")
    if not isinstance(metadata, Mapping):
        metadata = {}
    namespace = metadata.get("namespace")
    parts = [str(obj.get("kind", "?")), *([str(namespace)] if namespace else [])]
    return "/".join([*parts, str(metadata.get("name", "?"))])


def _disabled(obj: Mapping[str, Any]) -> bool:
    metadata = obj.get("metadata")
    annotations = metadata.get("annotations") if isinstance(metadata, Mapping) else None
    value = annotations.get(DECRYPT_ANNOTATION) if isinstance(annotations, Mapping) else None
    return isinstance(value, str) and value.lower() == "disabled"


def decrypt_object(obj: dict[str, Any], identities: AgeIdentities | None) -> dict[str, Any]:
    """The built object with its SOPS values decrypted (the object itself when none are)."""
    if _disabled(obj):
        return obj
    block = obj.get("sops")
    if isinstance(block, Mapping) and "mac" in block:
        return _decrypt_whole(obj, identities)
    if obj.get("apiVersion") == "v1" and obj.get("kind") == "Secret":
        return _decrypt_secret_data(obj, identities)
    return obj


def _decrypt_whole(obj: dict[str, Any], identities: AgeIdentities | None) -> dict[str, Any]:
    shown = _identity(obj)
    if not identities:
        raise _no_keys(shown)
    try:
        text = json.dumps(obj)
    except (TypeError, ValueError):
        raise BuildError(f"{shown}: a SOPS-encrypted object must hold only JSON values") from None
    try:
        plain = decrypt_text(
            text, file=shown, identities=identities, verify_mac=False, format="json"
        )
    except (SopsDecryptError, InvalidInputError) as exc:
        raise _failed(shown, exc) from None
    document = plain.documents[0]
    if not isinstance(document, dict):  # pragma: no cover - a JSON object decrypts to one
        raise BuildError(f"{shown}: decryption did not give an object")
    return document


def _decrypt_secret_data(obj: dict[str, Any], identities: AgeIdentities | None) -> dict[str, Any]:
    data = obj.get("data")
    if not isinstance(data, Mapping):
        return obj
    changed = dict(data)
    for key, value in data.items():
        if not isinstance(value, str):
            continue
        try:
            raw = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            continue
        fmt = detect_format(str(key))
        if not is_sops_encrypted(raw, fmt):
            continue
        shown = f"{_identity(obj)} data key {key}"
        if not identities:
            raise _no_keys(shown)
        try:
            plain = decrypt_text(
                raw, file=shown, identities=identities, verify_mac=False, format=fmt
            )
        except (SopsDecryptError, InvalidInputError) as exc:
            raise _failed(shown, exc) from None
        changed[key] = base64.b64encode(plain.content).decode("ascii")
    return {**obj, "data": changed}
