"""Secret values as Flux objects reference them, with errors that name what is missing.

A ``SecretData`` is the decoded payload of one Secret (``data`` base64-decoded, merged with
``stringData``, SOPS already decrypted).  Reconcilers ask it for keys on behalf of an object;
a missing Secret or key raises ``MissingSecretError`` naming the object, the Secret and the
key.  ``SecretValue`` wraps bytes so that a stray ``repr`` or f-string never prints them.

Key names per use (Flux's):

=========================  ===================================================
docker config              ``.dockerconfigjson`` (``.dockercfg`` legacy)
git basic auth / token     ``username`` + ``password``, or ``bearerToken``
git over SSH               ``identity`` (+ ``identity.pub``), ``known_hosts``
TLS                        ``ca.crt``, ``tls.crt`` + ``tls.key`` (``caFile``,
                           ``certFile``, ``keyFile`` deprecated)
OpenPGP signing            ``git.asc`` (+ ``passphrase``); SSH signing ``identity``
                           (+ ``password``)
proxy                      ``address`` (+ ``username``, ``password``)
=========================  ===================================================
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from tagpilot.core.errors import StalledError

__all__ = [
    "MissingSecretError",
    "SecretData",
    "SecretIndex",
    "SecretValue",
    "TLSMaterial",
    "tls_material",
]

_DEPRECATED_TLS_KEYS = {"ca.crt": "caFile", "tls.crt": "certFile", "tls.key": "keyFile"}


class MissingSecretError(StalledError):
    """A referenced Secret, or a key in it, does not exist."""


@dataclass(frozen=True)
class SecretValue:
    """Secret bytes that never show themselves in ``repr``, ``str`` or logs."""

    _value: bytes = field(repr=False)

    def reveal(self) -> bytes:
        """The raw bytes, for the one place that hands them to a tool or a socket."""
        return self._value

    def text(self) -> str:
        """The value as UTF-8 text (keys, tokens and passwords are text)."""
        return self._value.decode("utf-8")

    def __str__(self) -> str:
        return "<redacted>"

    def __repr__(self) -> str:
        return "SecretValue(<redacted>)"


@dataclass(frozen=True)
class SecretData:
    """One Secret's decoded keys, and the object that asked for it (for error messages)."""

    namespace: str
    name: str
    values: Mapping[str, bytes] = field(repr=False)
    secret_type: str = "Opaque"
    wanted_by: str = ""

    def has(self, key: str) -> bool:
        """Whether the Secret carries ``key``."""
        return key in self.values

    def optional(self, key: str) -> SecretValue | None:
        """The value of ``key``, or None when absent."""
        raw = self.values.get(key)
        return None if raw is None else SecretValue(raw)

    def require(self, key: str, *, purpose: str, reason: str = "Failure") -> SecretValue:
        """The value of ``key``; a clear ``MissingSecretError`` when it is absent."""
        value = self.optional(key)
        if value is None:
            present = ", ".join(sorted(self.values)) or "no keys"
            raise MissingSecretError(
                f"{self.wanted_by or 'object'}: Secret '{self.namespace}/{self.name}' has no key "
                f"'{key}' (needed for {purpose}; it has: {present})",
                reason=reason,
            )
        return value

    def either(self, *keys: str) -> SecretValue | None:
        """The first present key of ``keys`` (current name first, deprecated after)."""
        for key in keys:
            value = self.optional(key)
            if value is not None:
                return value
        return None


@dataclass(frozen=True)
class TLSMaterial:
    """PEM material from a ``certSecretRef``: server CA and optional client cert + key."""

    ca_pem: SecretValue | None
    cert_pem: SecretValue | None
    key_pem: SecretValue | None
    source: str


def tls_material(secret: SecretData, *, reason: str = "Failure") -> TLSMaterial:
    """Read ``ca.crt``/``tls.crt``/``tls.key`` (or the deprecated names) from ``secret``."""
    ca, cert, key = (secret.either(k, _DEPRECATED_TLS_KEYS[k]) for k in _DEPRECATED_TLS_KEYS)
    if (cert is None) != (key is None):
        missing = "tls.key" if key is None else "tls.crt"
        raise MissingSecretError(
            f"{secret.wanted_by or 'object'}: Secret '{secret.namespace}/{secret.name}' has "
            f"{'tls.crt' if key is None else 'tls.key'} but no '{missing}': a client "
            "certificate needs both",
            reason=reason,
        )
    return TLSMaterial(ca, cert, key, source=f"Secret {secret.namespace}/{secret.name}")


@dataclass(frozen=True)
class SecretIndex:
    """All Secrets known to a run, looked up by namespace and name."""

    secrets: Mapping[tuple[str, str], SecretData] = field(default_factory=dict, repr=False)
    unavailable: Mapping[tuple[str, str], str] = field(default_factory=dict)
    """Secrets whose file failed to load or decrypt, and why (no values in the reason)."""
    missing_hint: str = (
        "not found in the manifests (add it, SOPS-encrypted if you like, or fix the reference)"
    )
    """What a missing Secret's error says after its name: where it was looked for."""

    def get(self, namespace: str, name: str, *, wanted_by: str, reason: str) -> SecretData:
        """The Secret ``namespace/name`` for ``wanted_by``; ``MissingSecretError`` if absent."""
        found = self.secrets.get((namespace, name))
        why = self.unavailable.get((namespace, name))
        if found is None and why is not None:
            raise MissingSecretError(
                f"{wanted_by}: Secret '{namespace}/{name}' could not be loaded: {why}",
                reason=reason,
            )
        if found is None:
            raise MissingSecretError(
                f"{wanted_by}: Secret '{namespace}/{name}' {self.missing_hint}",
                reason=reason,
            )
        return SecretData(found.namespace, found.name, found.values, found.secret_type, wanted_by)
