"""SOPS decryption and encryption, interoperable with the real ``sops`` binary (age keys).

Used by the CLI (``tagpilot sops``), by Secret loading and by ``create secret --export --sops``.
Lives in adapters because it reads key files and the environment and uses randomness.
"""

from __future__ import annotations

from tagpilot.adapters.sops.api import (
    FLUX_ENCRYPTED_REGEX,
    DecryptedFile,
    decrypt_file,
    decrypt_text,
    detect_format,
    encrypt_document,
    encrypt_secret_for_export,
    is_sops_encrypted,
)
from tagpilot.adapters.sops.errors import (
    MacMismatchError,
    NoMatchingIdentityError,
    SopsDecryptError,
)
from tagpilot.adapters.sops.keys import (
    AgeIdentities,
    identities_from_env,
    identities_from_secret,
    load_identity_file,
    parse_identities,
    parse_recipients,
)
from tagpilot.adapters.sops.rules import CreationRule, SopsConfig, find_config, load_config
from tagpilot.adapters.sops.walk import CryptRule

__all__ = [
    "FLUX_ENCRYPTED_REGEX",
    "AgeIdentities",
    "CreationRule",
    "CryptRule",
    "DecryptedFile",
    "MacMismatchError",
    "NoMatchingIdentityError",
    "SopsConfig",
    "SopsDecryptError",
    "decrypt_file",
    "decrypt_text",
    "detect_format",
    "encrypt_document",
    "encrypt_secret_for_export",
    "find_config",
    "identities_from_env",
    "identities_from_secret",
    "is_sops_encrypted",
    "load_config",
    "load_identity_file",
    "parse_identities",
    "parse_recipients",
]
