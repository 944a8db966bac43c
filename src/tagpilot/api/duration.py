"""Go durations as Flux writes them: parse ``1m30s`` / ``1.5h`` / ``500ms``, format ``1m0s``.

The API models use :data:`DurationField` (hours allowed) and :data:`ShortDurationField`
(no ``h`` unit: ``ImageRepository.spec.timeout`` and ``GitRepository.spec.timeout``).
A :class:`Duration` keeps the text the user wrote, so dumping a manifest gives it back
unchanged, while the ``--export`` printer renders the Go form (``5m`` becomes ``5m0s``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any

from pydantic import PlainSerializer, PlainValidator, SerializationInfo, WithJsonSchema

__all__ = [
    "GO_FORMAT_CONTEXT",
    "Duration",
    "DurationField",
    "ShortDurationField",
    "format_go_duration",
    "parse_go_duration",
]

GO_FORMAT_CONTEXT = {"duration": "go"}
"""Pass as ``model_dump(context=...)`` to render durations the Go way (``1m0s``)."""

_NANOS = {"ms": 1_000_000, "s": 1_000_000_000, "m": 60_000_000_000, "h": 3_600_000_000_000}
_PATTERN = re.compile(r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$")
_SHORT_PATTERN = re.compile(r"^([0-9]+(\.[0-9]+)?(ms|s|m))+$")
_COMPONENT = re.compile(r"([0-9]+)(?:\.([0-9]+))?(ms|s|m|h)")


def parse_go_duration(text: str, *, allow_hours: bool = True) -> int:
    """Return the nanoseconds of ``text``, a duration in the Flux CRD syntax.

    Raises ``ValueError`` naming the accepted syntax when ``text`` does not match.
    """
    pattern = _PATTERN if allow_hours else _SHORT_PATTERN
    if not isinstance(text, str) or not pattern.match(text):
        units = "ms, s, m, h" if allow_hours else "ms, s, m (no h)"
        raise ValueError(f"must be a duration like 30s, 1m or 1m30s (units {units})")
    total = 0
    for whole, fraction, unit in _COMPONENT.findall(text):
        scale = _NANOS[unit]
        total += int(whole) * scale
        if fraction:
            total += int(fraction) * scale // 10 ** len(fraction)
    return total


def _fraction(value: int, precision: int) -> tuple[str, int]:
    """Split off ``precision`` decimal digits of ``value``, trailing zeros dropped (Go fmtFrac)."""
    digits = ""
    printed = False
    for _ in range(precision):
        digit = value % 10
        printed = printed or digit != 0
        if printed:
            digits = str(digit) + digits
        value //= 10
    return ("." + digits if printed else ""), value


def format_go_duration(nanoseconds: int) -> str:
    """Render ``nanoseconds`` like Go's ``Duration.String`` (``1h0m0s``, ``1.5s``, ``500ms``)."""
    sign = "-" if nanoseconds < 0 else ""
    value = abs(nanoseconds)
    if value == 0:
        return "0s"
    if value < 1_000_000_000:
        unit, precision = (
            ("ns", 0) if value < 1_000 else ("µs", 3) if value < 1_000_000 else ("ms", 6)
        )
        fraction, whole = _fraction(value, precision)
        return f"{sign}{whole}{fraction}{unit}"
    fraction, seconds = _fraction(value, 9)
    text = f"{seconds % 60}{fraction}s"
    minutes = seconds // 60
    if minutes:
        text = f"{minutes % 60}m{text}"
        if minutes // 60:
            text = f"{minutes // 60}h{text}"
    return sign + text


@dataclass(frozen=True)
class Duration:
    """A duration as written in a manifest (``text``) and its exact value in nanoseconds."""

    text: str
    nanoseconds: int

    @classmethod
    def parse(cls, text: str, *, allow_hours: bool = True) -> Duration:
        """Parse Flux CRD duration syntax; ``ValueError`` when it does not match."""
        return cls(text, parse_go_duration(text, allow_hours=allow_hours))

    @classmethod
    def of(cls, *, seconds: float = 0, nanoseconds: int = 0) -> Duration:
        """Build a duration from a number; its text is the Go rendering (``60`` → ``1m0s``)."""
        total = nanoseconds + round(seconds * 1_000_000_000)
        return cls(format_go_duration(total), total)

    @property
    def seconds(self) -> float:
        """The duration in seconds."""
        return self.nanoseconds / 1_000_000_000

    @property
    def timedelta(self) -> timedelta:
        """The duration as a ``datetime.timedelta`` (microsecond precision)."""
        return timedelta(microseconds=self.nanoseconds // 1_000)

    def go_string(self) -> str:
        """The Go rendering (``5m`` → ``5m0s``), as ``flux --export`` prints it."""
        return format_go_duration(self.nanoseconds)

    def __str__(self) -> str:
        return self.text


def _validator(allow_hours: bool) -> PlainValidator:
    def validate(value: Any) -> Duration:
        if isinstance(value, Duration):
            parse_go_duration(value.text, allow_hours=allow_hours)
            return value
        if not isinstance(value, str):
            raise ValueError("must be a duration string like 1m or 30s")
        return Duration.parse(value, allow_hours=allow_hours)

    return PlainValidator(validate)


def _serialize(value: Duration, info: SerializationInfo) -> str:
    context = info.context or {}
    return value.go_string() if context.get("duration") == "go" else value.text


_SERIALIZER = PlainSerializer(_serialize, return_type=str)
_SCHEMA = WithJsonSchema({"type": "string", "pattern": _PATTERN.pattern})
_SHORT_SCHEMA = WithJsonSchema({"type": "string", "pattern": _SHORT_PATTERN.pattern})

DurationField = Annotated[Duration, _validator(True), _SERIALIZER, _SCHEMA]
"""A duration field accepting ``ms``, ``s``, ``m`` and ``h`` components."""

ShortDurationField = Annotated[Duration, _validator(False), _SERIALIZER, _SHORT_SCHEMA]
"""A duration field without the ``h`` unit (CRD pattern of the ``timeout`` fields)."""
