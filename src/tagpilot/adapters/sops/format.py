"""Byte forms of typed values and the ``ENC[AES256_GCM,...]`` string, exactly as sops writes them.

Called by ``walk`` for every leaf.  The byte form of a value is both the AES-GCM plaintext and
the MAC input, so it must match Go sops byte for byte: floats use Go's
``strconv.FormatFloat(f, 'f', -1, 64)``, booleans are ``True``/``False`` and times are Go's
RFC 3339 text with nanoseconds.
"""

from __future__ import annotations

import base64
import binascii
import math
import os
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

from tagpilot.adapters.sops.errors import SopsDecryptError

__all__ = [
    "INT64_MAX",
    "INT64_MIN",
    "EncValue",
    "Scalar",
    "decrypt_scalar",
    "encrypt_scalar",
    "format_go_float",
    "format_go_time",
    "from_bytes",
    "is_encrypted_string",
    "parse_go_time",
    "to_bytes",
    "type_name",
]

Scalar = str | int | float | bool | datetime | date | None
"""A leaf value of a document; ``None`` is never encrypted."""

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
IV_SIZE = 32  # sops uses a 32-byte GCM nonce, not the usual 12
TAG_SIZE = 16
_ENC_PATTERN = re.compile(r"^ENC\[AES256_GCM,data:(.+),iv:(.+),tag:(.+),type:(.+)\]", re.DOTALL)
_GO_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})
_GO_FALSE = frozenset({"0", "f", "F", "FALSE", "false", "False"})


@dataclass(frozen=True)
class EncValue:
    """The four parts of an ``ENC[...]`` string, decoded from base64."""

    data: bytes
    iv: bytes
    tag: bytes
    type: str

    @classmethod
    def parse(cls, text: str) -> EncValue:
        """Split an ``ENC[...]`` string; raise ``ValueError`` when it is not one."""
        match = _ENC_PATTERN.match(text)
        if match is None:
            raise ValueError("not an ENC[AES256_GCM,...] value")
        data, iv, tag, type_ = match.groups()
        try:
            decoded = [base64.b64decode(part, validate=True) for part in (data, iv, tag)]
        except binascii.Error as exc:
            raise ValueError("invalid base64 in ENC value") from exc
        return cls(decoded[0], decoded[1], decoded[2], type_)

    def render(self) -> str:
        """Format as sops does: ``ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]``."""
        parts = [base64.b64encode(b).decode("ascii") for b in (self.data, self.iv, self.tag)]
        return f"ENC[AES256_GCM,data:{parts[0]},iv:{parts[1]},tag:{parts[2]},type:{self.type}]"


def is_encrypted_string(value: object) -> bool:
    """Tell whether ``value`` looks like an ``ENC[AES256_GCM,...]`` string."""
    return isinstance(value, str) and value.startswith("ENC[AES256_GCM,")


def format_go_float(value: float) -> str:
    """Render like Go ``FormatFloat(f, 'f', -1, 64)``: shortest digits, never an exponent."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    text = format(Decimal(repr(float(value))), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def format_go_time(value: datetime | date) -> str:
    """Render like Go ``time.Time.MarshalText`` (RFC 3339, fraction trimmed, ``Z`` for UTC)."""
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day, tzinfo=UTC)
    text = f"{value.year:04d}-{value.month:02d}-{value.day:02d}T{value.strftime('%H:%M:%S')}"
    if value.microsecond:
        text += f".{value.microsecond:06d}".rstrip("0")
    offset = value.utcoffset()
    if not offset:
        return text + "Z"
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"{text}{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def parse_go_time(text: str) -> datetime:
    """Parse RFC 3339 text (as Go ``time.Parse(time.RFC3339, …)``) into an aware datetime."""
    match = re.fullmatch(
        r"(\d{4}-\d\d-\d\d[Tt]\d\d:\d\d:\d\d)(?:\.(\d+))?([Zz]|[+-]\d\d:\d\d)", text
    )
    if match is None:
        raise ValueError(f"not an RFC 3339 time: {text!r}")
    stamp, fraction, zone = match.groups()
    parsed = datetime.fromisoformat(stamp.upper())
    micros = int((fraction or "0")[:6].ljust(6, "0"))
    tz = UTC if zone in ("Z", "z") else _fixed_zone(zone)
    return parsed.replace(microsecond=micros, tzinfo=tz)


def _fixed_zone(zone: str) -> timezone:
    hours, minutes = int(zone[1:3]), int(zone[4:6])
    delta = timedelta(hours=hours, minutes=minutes)
    return timezone(-delta if zone[0] == "-" else delta)


def type_name(value: Scalar) -> str:
    """Return the sops type name of a leaf value."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, date):
        return "time"
    return "str"


def to_bytes(value: Scalar) -> bytes:
    """Return the byte form sops encrypts and hashes for ``value`` (sops ``ToBytes``)."""
    if value is None:
        return b""
    if isinstance(value, bool):
        return b"True" if value else b"False"
    if isinstance(value, int):
        return str(value).encode("ascii")
    if isinstance(value, float):
        return format_go_float(value).encode("ascii")
    if isinstance(value, date):
        return format_go_time(value).encode("ascii")
    return value.encode("utf-8", "surrogateescape")


def from_bytes(plaintext: bytes, type_: str) -> Scalar:
    """Give decrypted bytes back their type; raise ``ValueError`` for an unknown or bad form."""
    text = plaintext.decode("utf-8", "surrogateescape")
    if type_ in ("str", "bytes", "comment"):
        return text
    if type_ == "int":
        return int(text)
    if type_ == "float":
        return float(text)
    if type_ == "bool":
        return _parse_go_bool(text)
    if type_ == "time":
        return parse_go_time(text)
    raise ValueError(f"unknown value type {type_!r}")


def _parse_go_bool(text: str) -> bool:
    if text in _GO_TRUE:
        return True
    if text in _GO_FALSE:
        return False
    raise ValueError(f"not a boolean: {text!r}")


def encrypt_scalar(
    value: Scalar, key: bytes, aad: str, *, type_: str | None = None, iv: bytes | None = None
) -> str:
    """Encrypt one leaf with AES-256-GCM under ``aad``; empty strings stay empty, as in sops."""
    if value == "":
        return ""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # noqa: PLC0415 - as below

    nonce = iv if iv is not None else os.urandom(IV_SIZE)
    sealed = AESGCM(key).encrypt(nonce, to_bytes(value), aad.encode("utf-8"))
    enc = EncValue(sealed[:-TAG_SIZE], nonce, sealed[-TAG_SIZE:], type_ or type_name(value))
    return enc.render()


def decrypt_scalar(text: str, key: bytes, aad: str) -> tuple[Scalar, str]:
    """Decrypt one ``ENC[...]`` string; return the typed value and its sops type name."""
    if text == "":
        return "", "str"
    # cryptography is loaded by the first encrypted value, not by every start-up
    from cryptography.exceptions import InvalidTag  # noqa: PLC0415
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # noqa: PLC0415

    try:
        enc = EncValue.parse(text)
        plaintext = AESGCM(key).decrypt(enc.iv, enc.data + enc.tag, aad.encode("utf-8"))
        return from_bytes(plaintext, enc.type), enc.type
    except InvalidTag as exc:
        raise SopsDecryptError("authentication tag mismatch") from exc
    except ValueError as exc:
        raise SopsDecryptError(str(exc)) from exc
