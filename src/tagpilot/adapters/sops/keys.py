"""Age identities and recipients, and wrapping the sops data key with them (via pyrage).

Called by ``api`` and the CLI.  Identities come from an identity file, the environment (the
caller passes ``os.environ`` to ``identities_from_env``) or a Flux ``sops-age`` style Secret
whose ``*.agekey`` entries hold identity lines.  Secret key text never appears in errors.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyrage

from tagpilot.adapters.sops.errors import NoMatchingIdentityError, SopsDecryptError
from tagpilot.adapters.sops.metadata import AgeStanza
from tagpilot.core.errors import InvalidInputError, SourceLocation

__all__ = [
    "DEFAULT_KEY_FILE",
    "KEY_SOURCES",
    "AgeIdentities",
    "identities_from_env",
    "identities_from_secret",
    "load_identity_file",
    "parse_identities",
    "parse_recipients",
    "unwrap_data_key",
    "wrap_data_key",
]

DEFAULT_KEY_FILE = "~/.config/sops/age/keys.txt"
"""Where sops (and tagpilot) look for age identities when nothing else names them."""

KEY_SOURCES = (
    "pass --age-key-file, set SOPS_AGE_KEY_FILE or SOPS_AGE_KEY, or put the key in "
    f"the default key file {DEFAULT_KEY_FILE} ($XDG_CONFIG_HOME/sops/age/keys.txt when set)"
)
"""Every place an age identity can come from, for errors that found none or the wrong one."""

_X25519_PREFIX = "AGE-SECRET-KEY-1"
_UNSUPPORTED_PREFIXES = ("AGE-SECRET-KEY-PQ-", "AGE-PLUGIN-")


@dataclass(frozen=True)
class AgeIdentities:
    """Parsed age X25519 identities and where they came from (for error messages)."""

    identities: tuple[Any, ...] = ()
    sources: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.identities)

    def __add__(self, other: AgeIdentities) -> AgeIdentities:
        return AgeIdentities(self.identities + other.identities, self.sources + other.sources)

    def describe(self) -> str:
        """Say how many identities from which sources, for an error message."""
        if not self.identities:
            return f"no age identities were given: {KEY_SOURCES}"
        return f"tried {len(self.identities)} age identities from {', '.join(self.sources)}"


def parse_identities(text: str, *, source: str) -> AgeIdentities:
    """Parse identity lines (``#`` and blank lines ignored); unsupported kinds are skipped."""
    found = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#") or line.startswith(_UNSUPPORTED_PREFIXES):
            continue
        if not line.startswith(_X25519_PREFIX):
            raise InvalidInputError(
                "not an age identity (expected a line starting with AGE-SECRET-KEY-1)",
                location=SourceLocation(source, number),
            )
        try:
            found.append(pyrage.x25519.Identity.from_str(line))
        except pyrage.IdentityError as exc:
            raise InvalidInputError(
                "malformed age identity", location=SourceLocation(source, number)
            ) from exc
    return AgeIdentities(tuple(found), (source,) if found else ())


def load_identity_file(path: str | Path) -> AgeIdentities:
    """Read an age identity file such as ``age-keygen`` writes."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidInputError(
            f"cannot read the age key file: {exc.strerror}", location=SourceLocation(str(path))
        ) from exc
    return parse_identities(text, source=str(path))


def identities_from_env(env: Mapping[str, str]) -> AgeIdentities:
    """Collect identities the way sops does: ``SOPS_AGE_KEY``, ``SOPS_AGE_KEY_FILE`` and the
    user's ``sops/age/keys.txt`` (under ``XDG_CONFIG_HOME`` or ``~/.config``) when it exists."""
    found = AgeIdentities()
    if env.get("SOPS_AGE_KEY"):
        found += parse_identities(env["SOPS_AGE_KEY"], source="SOPS_AGE_KEY")
    if env.get("SOPS_AGE_KEY_FILE"):
        found += load_identity_file(env["SOPS_AGE_KEY_FILE"])
    default = _default_key_file(env)
    if default is not None and default.is_file():
        found += load_identity_file(default)
    return found


def _default_key_file(env: Mapping[str, str]) -> Path | None:
    base = env.get("XDG_CONFIG_HOME") or (env.get("HOME") and str(Path(env["HOME"], ".config")))
    return Path(base, "sops", "age", "keys.txt") if base else None


def identities_from_secret(data: Mapping[str, bytes | str], *, secret: str) -> AgeIdentities:
    """Use the ``*.agekey`` entries of a Secret (values already base64-decoded), like Flux."""
    found = AgeIdentities()
    for name, value in data.items():
        if name.endswith(".agekey"):
            text = value.decode("utf-8") if isinstance(value, bytes) else value
            found += parse_identities(text, source=f"Secret {secret} key {name}")
    return found


def parse_recipients(value: str | Iterable[str], *, source: str = "recipients") -> tuple[str, ...]:
    """Split a comma-separated string (or list) of age recipients and check each one."""
    parts = value.split(",") if isinstance(value, str) else list(value)
    recipients = tuple(p.strip() for p in parts if p.strip())
    for recipient in recipients:
        try:
            pyrage.x25519.Recipient.from_str(recipient)
        except pyrage.RecipientError as exc:
            raise InvalidInputError(
                "not an age X25519 recipient (age1…)",
                location=SourceLocation(source, None, None, recipient),
            ) from exc
    return recipients


def wrap_data_key(data_key: bytes, recipients: Iterable[str]) -> tuple[AgeStanza, ...]:
    """Encrypt the data key once per recipient as an armored age file, as sops does."""
    stanzas = []
    for recipient in recipients:
        parsed = pyrage.x25519.Recipient.from_str(recipient)
        armored = pyrage.encrypt(data_key, [parsed], armored=True).decode("ascii")
        stanzas.append(AgeStanza(recipient, armored if armored.endswith("\n") else armored + "\n"))
    return tuple(stanzas)


def unwrap_data_key(
    stanzas: tuple[AgeStanza, ...], identities: AgeIdentities, *, file: str
) -> bytes:
    """Open the data key with the first stanza one of ``identities`` matches."""
    if not stanzas:
        raise SopsDecryptError(
            f"{file}: the file has no age recipients; only age keys are supported"
        )
    for stanza in stanzas:
        if not identities:
            break
        try:
            data_key: bytes = pyrage.decrypt(
                stanza.enc.encode("ascii"), list(identities.identities)
            )
        except (pyrage.DecryptError, UnicodeEncodeError):  # armor is ASCII; else it is corrupt
            continue
        if len(data_key) != 32:
            raise SopsDecryptError(f"{file}: the data key for {stanza.recipient} is not 32 bytes")
        return data_key
    recipients = ", ".join(s.recipient for s in stanzas)
    raise NoMatchingIdentityError(
        f"{file}: no identity matches recipients {recipients} ({identities.describe()})"
        + ("" if not identities else f"; to add the right key, {KEY_SOURCES}")
    )
