"""Errors of the SOPS adapter, raised by every module of this package and caught by the CLI.

All of them are ``StalledError``s: a file that cannot be decrypted will not decrypt on retry,
so the user has to change the file or the keys.  Messages name the file, never a secret.
"""

from __future__ import annotations

from tagpilot.core.errors import StalledError

__all__ = ["MacMismatchError", "NoMatchingIdentityError", "SopsDecryptError"]


class SopsDecryptError(StalledError):
    """A SOPS file could not be decrypted (bad ciphertext, missing keys, corrupt metadata)."""

    reason = "DecryptionFailed"


class NoMatchingIdentityError(SopsDecryptError):
    """None of the age identities at hand can open the file's data key."""


class MacMismatchError(SopsDecryptError):
    """The decrypted values do not hash to the file's MAC: it was modified after encryption."""
