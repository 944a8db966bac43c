"""Go durations as Flux writes them: parse ``1m30s`` / ``1.5h`` / ``500ms``, format ``1m0s``.

The API models use :data:`DurationField` (hours allowed) and :data:`ShortDurationField`
(no ``h`` unit: ``ImageRepository.spec.timeout`` and ``GitRepository.spec.timeout``).
A :class:`Duration` keeps the text the user wrote, so dumping a manifest gives it back
unchanged, while the ``--export`` printer renders the Go form (``5m`` becomes ``5m0s``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any

from pydantic import PlainSerializer, PlainValidator, SerializationInfo, WithJsonSchema

from tagpilot.core.goduration import PATTERN, SHORT_PATTERN, format_go_duration, parse_go_duration

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
_SCHEMA = WithJsonSchema({"type": "string", "pattern": PATTERN.pattern})
_SHORT_SCHEMA = WithJsonSchema({"type": "string", "pattern": SHORT_PATTERN.pattern})

DurationField = Annotated[Duration, _validator(True), _SERIALIZER, _SCHEMA]
"""A duration field accepting ``ms``, ``s``, ``m`` and ``h`` components."""

ShortDurationField = Annotated[Duration, _validator(False), _SERIALIZER, _SHORT_SCHEMA]
"""A duration field without the ``h`` unit (CRD pattern of the ``timeout`` fields)."""
