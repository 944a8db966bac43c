"""Public entry points of the SOPS adapter: decrypt and encrypt whole files.

Called by the CLI (``tagpilot sops``), by the Secret loader (Flux-style decryption of committed
manifests) and by ``create secret --export --sops``.  Files are interoperable with the real
``sops`` binary for YAML (multi-document), JSON, dotenv and binary payloads, with age keys.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tagpilot.adapters.sops.dotenv import (
    binary_document,
    binary_payload,
    emit_dotenv,
    flatten_metadata,
    load_dotenv,
    unflatten_metadata,
)
from tagpilot.adapters.sops.errors import MacMismatchError, SopsDecryptError
from tagpilot.adapters.sops.format import decrypt_scalar, encrypt_scalar
from tagpilot.adapters.sops.jsonstore import emit_json, load_json
from tagpilot.adapters.sops.keys import (
    AgeIdentities,
    parse_recipients,
    unwrap_data_key,
    wrap_data_key,
)
from tagpilot.adapters.sops.metadata import SopsMetadata, format_lastmodified
from tagpilot.adapters.sops.rules import SopsConfig, load_config
from tagpilot.adapters.sops.tree import Document, MapNode, to_plain
from tagpilot.adapters.sops.walk import CryptRule, decrypt_documents, encrypt_documents
from tagpilot.adapters.sops.yamlemit import emit_yaml
from tagpilot.adapters.sops.yamlstore import load_yaml
from tagpilot.core.errors import InvalidInputError, SourceLocation

__all__ = [
    "FLUX_ENCRYPTED_REGEX",
    "FORMATS",
    "DecryptedFile",
    "decrypt_file",
    "decrypt_text",
    "detect_format",
    "encrypt_document",
    "encrypt_secret_for_export",
    "is_sops_encrypted",
]

FORMATS = ("yaml", "json", "dotenv", "binary")
FLUX_ENCRYPTED_REGEX = "^(data|stringData)$"
"""The crypt rule Flux recommends for Secrets: apiVersion, kind and metadata stay readable."""

_MARKERS = {
    "yaml": "mac: ENC[",
    "json": '"mac": "ENC[',
    "dotenv": "sops_mac=ENC[",
    "binary": '"mac": "ENC[',
}


@dataclass(frozen=True)
class DecryptedFile:
    """A decrypted file: plain documents (order and types kept) and their re-emitted text."""

    format: str
    documents: tuple[Any, ...]
    """One plain dict per YAML document (one for JSON and dotenv; ``{"data": str}`` for binary)."""
    content: bytes
    """The plaintext file as ``sops decrypt`` would print it (raw bytes for binary)."""
    recipients: tuple[str, ...]
    mac_verified: bool

    @property
    def text(self) -> str:
        """The plaintext as text (binary content is decoded leniently)."""
        return self.content.decode("utf-8", "replace")


def detect_format(path: str | Path) -> str:
    """Pick the sops store from the file extension, as sops and Flux do."""
    suffix = Path(path).suffix.lower()
    if suffix in (".yaml", ".yml"):
        return "yaml"
    if suffix in (".json", ".dockerconfigjson"):
        return "json"
    if suffix == ".env":
        return "dotenv"
    return "binary"


def is_sops_encrypted(content: str | bytes, format: str) -> bool:
    """Tell whether content carries the sops marker Flux looks for in ``format``."""
    text = content.decode("utf-8", "replace") if isinstance(content, bytes) else content
    return _MARKERS[format] in text


def decrypt_file(
    path: str | Path,
    *,
    identities: AgeIdentities,
    verify_mac: bool = True,
    format: str | None = None,
) -> DecryptedFile:
    """Read and decrypt ``path``; see ``decrypt_text``."""
    try:
        content = Path(path).read_bytes()
    except OSError as exc:
        raise InvalidInputError(
            f"cannot read file: {exc.strerror}", location=SourceLocation(str(path))
        ) from exc
    return decrypt_text(
        content,
        file=str(path),
        identities=identities,
        verify_mac=verify_mac,
        format=format or detect_format(path),
    )


def decrypt_text(
    content: str | bytes,
    *,
    file: str,
    identities: AgeIdentities,
    verify_mac: bool = True,
    format: str | None = None,
) -> DecryptedFile:
    """Decrypt sops content; ``file`` names it in errors and picks the format when not given.

    Raises ``NoMatchingIdentityError`` (naming the recipients), ``MacMismatchError`` unless
    ``verify_mac`` is false (Flux's kustomize-controller never checks the MAC), or
    ``SopsDecryptError``; ``InvalidInputError`` for content that is not a sops file.
    """
    fmt = format or detect_format(file)
    text = content.decode("utf-8", "surrogateescape") if isinstance(content, bytes) else content
    documents, block = _split_metadata(_load_encrypted(text, fmt, file), fmt, file)
    metadata = SopsMetadata.from_plain(block, file=file)
    if not metadata.age:
        others = ", ".join(metadata.other_key_types) or "none"
        raise SopsDecryptError(
            f"{file}: the file has no age recipients (its keys: {others}); tagpilot decrypts "
            "with age keys only"
        )
    data_key = unwrap_data_key(metadata.age, identities, file=file)
    try:
        plain, mac = decrypt_documents(documents, data_key, metadata.rule)
    except SopsDecryptError as exc:
        raise SopsDecryptError(f"{file}: {exc}") from exc
    if verify_mac:
        _verify_mac(metadata, data_key, mac, file)
    return DecryptedFile(
        fmt,
        tuple(to_plain(doc) for doc in plain),
        _emit_plain(plain, fmt, file),
        metadata.recipients,
        verify_mac,
    )


def _load_encrypted(text: str, fmt: str, file: str) -> list[Document]:
    if fmt == "yaml":
        return load_yaml(text, file=file)
    if fmt == "dotenv":
        return [load_dotenv(text, file=file)]
    _check_format(fmt, file)
    return [load_json(text, file=file)]


def _check_format(fmt: str, file: str) -> None:
    if fmt not in FORMATS:
        raise InvalidInputError(
            f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}",
            location=SourceLocation(file),
        )


def _split_metadata(documents: list[Document], fmt: str, file: str) -> tuple[list[Document], Any]:
    if fmt == "dotenv":
        try:
            data, block = unflatten_metadata(documents[0])
        except InvalidInputError as error:
            raise InvalidInputError(error.detail, location=SourceLocation(file)) from None
        stripped, found = [data], block
    else:
        found = next((_sops_block(doc) for doc in documents if _sops_block(doc) is not None), None)
        stripped = [doc.without("sops") for doc in documents]
    if found is None:
        raise InvalidInputError(
            "not encrypted with sops (no sops metadata found)", location=SourceLocation(file)
        )
    return stripped, found


def _sops_block(document: Document) -> Any:
    try:
        return to_plain(document.get("sops"))
    except KeyError:
        return None


def _verify_mac(metadata: SopsMetadata, data_key: bytes, computed: str, file: str) -> None:
    hint = "re-encrypt it with sops, or skip the check (tagpilot sops decrypt --ignore-mac)"
    try:
        stored = decrypt_scalar(metadata.mac, data_key, metadata.mac_aad())[0]
    except (SopsDecryptError, ValueError) as exc:
        raise MacMismatchError(
            f"{file}: MAC mismatch: the stored MAC does not decrypt (mac or lastmodified was "
            f"modified); {hint}"
        ) from exc
    if not isinstance(stored, str) or stored.upper() != computed:
        raise MacMismatchError(
            f"{file}: MAC mismatch: the file was modified after encryption (a plaintext value, "
            f"or values were added, removed or reordered; sops cannot tell which); {hint}"
        )


def _emit_plain(documents: list[Document], fmt: str, file: str) -> bytes:
    if fmt == "binary":
        return binary_payload(documents[0], file=file)
    return _emit(documents, fmt).encode("utf-8", "surrogateescape")


def _emit(documents: list[Document], fmt: str) -> str:
    if fmt == "yaml":
        return emit_yaml(documents)
    if fmt == "dotenv":
        return emit_dotenv(documents[0])
    return emit_json(documents[0])


def encrypt_document(
    content: str | bytes,
    *,
    path: str | Path,
    recipients: str | Iterable[str] = (),
    rules: SopsConfig | None = None,
    crypt: CryptRule | None = None,
    format: str | None = None,
    now: datetime | None = None,
) -> str:
    """Encrypt a plaintext file so that the real sops decrypts it.

    ``path`` picks the format and the ``.sops.yaml`` rule (``rules``).  Explicit ``recipients``
    and ``crypt`` win over the rule's, as sops' command-line flags do; with neither a rule nor
    ``crypt``, sops' default (``unencrypted_suffix: _unencrypted``) applies.
    """
    file = str(path)
    fmt = format or detect_format(path)
    _check_format(fmt, file)
    rule = rules.rule_for(path) if rules is not None else None
    chosen = parse_recipients(recipients) if recipients else (rule.recipients if rule else ())
    if not chosen:
        raise InvalidInputError(
            "no age recipients: pass --age or add age to the matching .sops.yaml creation rule",
            location=SourceLocation(file),
        )
    crypt_rule = (crypt or (rule.crypt if rule else CryptRule())).normalized()
    documents = _load_plain(content, fmt, file)
    return _encrypt(documents, fmt, chosen, crypt_rule, now or datetime.now(UTC))


def _load_plain(content: str | bytes, fmt: str, file: str) -> list[Document]:
    if fmt == "binary":
        raw = content if isinstance(content, bytes) else content.encode("utf-8")
        return [binary_document(raw)]
    text = content.decode("utf-8") if isinstance(content, bytes) else content
    documents = _load_encrypted(text, fmt, file)
    for document in documents:
        if _sops_block(document) is not None or (fmt == "dotenv" and is_sops_encrypted(text, fmt)):
            raise InvalidInputError(
                "the file is already encrypted with sops", location=SourceLocation(file)
            )
    return documents


def _encrypt(
    documents: list[Document], fmt: str, recipients: tuple[str, ...], rule: CryptRule, now: datetime
) -> str:
    data_key = os.urandom(32)
    encrypted, mac = encrypt_documents(documents, data_key, rule)
    lastmodified = format_lastmodified(now.astimezone(UTC))
    metadata = SopsMetadata(
        age=wrap_data_key(data_key, recipients),
        lastmodified=lastmodified,
        mac=encrypt_scalar(mac, data_key, lastmodified),
        rule=rule,
    )
    block = metadata.to_node()
    if fmt == "dotenv":
        return emit_dotenv(MapNode(encrypted[0].items + tuple(flatten_metadata(block))))
    with_block = [MapNode((*doc.items, ("sops", block))) for doc in encrypted]
    return _emit(with_block, "json" if fmt == "binary" else fmt)


def encrypt_secret_for_export(
    secret_yaml_text: str,
    *,
    path: str | Path,
    recipients: str | Iterable[str] = (),
    rules_path: str | Path | None = None,
    now: datetime | None = None,
) -> str:
    """Encrypt a Secret manifest for committing, the way Flux's SOPS guide does.

    With ``rules_path`` the matching ``.sops.yaml`` rule decides recipients and crypt rule;
    otherwise only ``data`` and ``stringData`` are encrypted (``encrypted_regex``
    ``^(data|stringData)$``), so kustomize can still read apiVersion, kind and metadata.
    """
    rules = load_config(rules_path) if rules_path is not None else None
    crypt = None if rules is not None else CryptRule(encrypted_regex=FLUX_ENCRYPTED_REGEX)
    return encrypt_document(
        secret_yaml_text,
        path=path,
        recipients=recipients,
        rules=rules,
        crypt=crypt,
        format="yaml",
        now=now,
    )
