"""Sprig's hermetic date functions and Go's ``time.Time`` value with its methods.

``toDate`` parses with a Go layout (local time is UTC); the value prints as Go's
``Time.String`` and offers ``Format``, ``Unix``, ``UTC``, ``Year``... so a template can
format it (Flux has no ``date``: it reads the clock for non-time inputs, so Sprig's
hermetic set leaves it out, and so do we).  ``duration`` and ``durationRound`` use
Go's ``Duration`` rules; ``ago`` and ``durationRound`` of a time need the current time,
which a commit template must not depend on.  Part of ``functions``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from tagpilot.core.goduration import format_go_duration
from tagpilot.core.message.calls import ANY, INT, STRING, CallContext, FuncError, FuncSpec
from tagpilot.core.message.data import GoStruct, Int64
from tagpilot.core.message.gotime import UTC, Zone, format_time, parse_duration
from tagpilot.core.message.gotime import days_from_civil as _days
from tagpilot.core.message.gotime_parse import parse_time
from tagpilot.core.message.sprig_math import wrap64

__all__ = ["DATE_FUNCS", "GoTime"]

_TIME = "time.Time"
_STRING_LAYOUT = "2006-01-02 15:04:05.999999999 -0700 MST"
_RFC3339_NANO = "2006-01-02T15:04:05.999999999Z07:00"
_ZERO_UNIX = _days(1, 1, 1) * 86400  # Go's zero Time: January 1, year 1, 00:00:00 UTC
_NANOS = 1_000_000_000


class GoTime(GoStruct):
    """Go's ``time.Time``: an instant (Unix seconds and nanoseconds) seen in a fixed zone."""

    GO_TYPE = _TIME
    GO_METHODS: ClassVar[Mapping[str, str]] = {
        "Format": "format",
        "String": "go_string",
        "Unix": "unix_seconds",
        "UnixMilli": "unix_milli",
        "UnixNano": "unix_nano",
        "UTC": "utc",
        "IsZero": "is_zero",
        "Year": "year",
        "Day": "day",
        "Hour": "hour",
        "Minute": "minute",
        "Second": "second",
        "Nanosecond": "nanosecond",
        "YearDay": "year_day",
        "Before": "before",
        "After": "after",
        "Equal": "equal",
        "AddDate": "add_date",
    }
    GO_METHOD_PARAMS: ClassVar[Mapping[str, tuple[str, ...]]] = {
        "Format": (STRING,),
        "Before": (_TIME,),
        "After": (_TIME,),
        "Equal": (_TIME,),
        "AddDate": (INT, INT, INT),
    }

    def __init__(self, unix: int, nanos: int = 0, zone: Zone = UTC) -> None:
        self.unix = unix
        self.nanos = nanos
        self.zone = zone

    def field_values(self) -> tuple[object, ...]:
        """The instant and zone (Go's fields are unexported; this serves ``==``)."""
        return (self.unix, self.nanos, self.zone)

    def format(self, layout: str) -> str:
        """Go's ``Time.Format``."""
        return format_time(layout, self.unix, self.nanos, self.zone)

    def go_string(self) -> str:
        """Go's ``Time.String``."""
        return self.format(_STRING_LAYOUT)

    def marshal_text(self) -> str:
        """Go's ``Time.MarshalJSON``: RFC 3339 with nanoseconds."""
        return self.format(_RFC3339_NANO)

    def unix_seconds(self) -> Int64:
        """Go's ``Time.Unix``."""
        return Int64(self.unix)

    def unix_milli(self) -> Int64:
        """Go's ``Time.UnixMilli``."""
        return Int64(self.unix * 1000 + self.nanos // 1_000_000)

    def unix_nano(self) -> Int64:
        """Go's ``Time.UnixNano`` (wrapping like Go outside 1678-2262)."""
        return Int64(wrap64(self.unix * _NANOS + self.nanos))

    def utc(self) -> GoTime:
        """Go's ``Time.UTC``."""
        return GoTime(self.unix, self.nanos, UTC)

    def is_zero(self) -> bool:
        """Go's ``Time.IsZero``."""
        return self.unix == _ZERO_UNIX and self.nanos == 0

    def _field(self, layout: str) -> int:
        return int(self.format(layout))

    def year(self) -> int:
        """Go's ``Time.Year``."""
        return self._field("2006")

    def day(self) -> int:
        """Go's ``Time.Day``."""
        return self._field("2")

    def hour(self) -> int:
        """Go's ``Time.Hour``."""
        return self._field("15")

    def minute(self) -> int:
        """Go's ``Time.Minute``."""
        return self._field("4")

    def second(self) -> int:
        """Go's ``Time.Second``."""
        return self._field("5")

    def nanosecond(self) -> int:
        """Go's ``Time.Nanosecond``."""
        return self.nanos

    def year_day(self) -> int:
        """Go's ``Time.YearDay``."""
        return self._field("002")

    def before(self, other: GoTime) -> bool:
        """Go's ``Time.Before``."""
        return (self.unix, self.nanos) < (other.unix, other.nanos)

    def after(self, other: GoTime) -> bool:
        """Go's ``Time.After``."""
        return (self.unix, self.nanos) > (other.unix, other.nanos)

    def equal(self, other: GoTime) -> bool:
        """Go's ``Time.Equal``: the same instant, whatever the zone."""
        return (self.unix, self.nanos) == (other.unix, other.nanos)

    def add_date(self, years: int, months: int, days: int) -> GoTime:
        """Go's ``Time.AddDate``: calendar arithmetic, overflowing days roll forward."""
        local = self.unix + self.zone.offset
        seconds = local % 86400
        year, month, day = (int(part) for part in self.format("2006 1 2").split())
        number = _days(year + years, month + months, 1) + day - 1 + days
        return GoTime(number * 86400 + seconds - self.zone.offset, self.nanos, self.zone)

    def add(self, nanoseconds: int) -> GoTime:
        """Go's ``Time.Add``."""
        seconds, nanos = divmod(self.nanos + nanoseconds, _NANOS)
        return GoTime(self.unix + seconds, nanos, self.zone)


def _must_to_date(ctx: CallContext, layout: str, text: str) -> GoTime:
    try:
        unix, nanos, zone = parse_time(layout, text)
    except ValueError as error:
        raise FuncError(str(error)) from None
    return GoTime(unix, nanos, zone)


def _to_date(ctx: CallContext, layout: str, text: str) -> GoTime:
    try:
        return _must_to_date(ctx, layout, text)
    except FuncError:
        return GoTime(_ZERO_UNIX)


def _must_date_modify(ctx: CallContext, change: str, date: GoTime) -> GoTime:
    try:
        return date.add(parse_duration(change))
    except ValueError as error:
        raise FuncError(str(error)) from None


def _duration(ctx: CallContext, seconds: object) -> str:
    count = 0
    if isinstance(seconds, str):
        body = seconds[1:] if seconds[:1] in "+-" else seconds
        count = int(seconds) if body.isascii() and body.isdigit() else 0
    elif isinstance(seconds, Int64):
        count = int(seconds)
    return format_go_duration(wrap64(count * _NANOS))


_ROUND_UNITS = (
    (365 * 86400 * _NANOS, "y"),
    (30 * 86400 * _NANOS, "m"),  # sic: Sprig spells months "m" too
    (86400 * _NANOS, "d"),
    (3600 * _NANOS, "h"),
    (60 * _NANOS, "m"),
    (_NANOS, "s"),
)


def _duration_round(ctx: CallContext, value: object) -> str:
    nanoseconds = 0
    if isinstance(value, str):
        try:
            nanoseconds = parse_duration(value)
        except ValueError:
            nanoseconds = 0
    elif isinstance(value, Int64):
        nanoseconds = int(value)
    elif isinstance(value, GoTime):
        raise FuncError("durationRound of a time needs the current time; templates have none")
    magnitude = abs(nanoseconds)
    for unit, suffix in _ROUND_UNITS:
        if magnitude > unit:
            return f"{magnitude // unit}{suffix}"
    return "0s"


DATE_FUNCS: tuple[FuncSpec, ...] = (
    FuncSpec("toDate", _to_date, (STRING, STRING)),
    FuncSpec("mustToDate", _must_to_date, (STRING, STRING)),
    FuncSpec("mustDateModify", _must_date_modify, (STRING, _TIME)),
    FuncSpec("must_date_modify", _must_date_modify, (STRING, _TIME)),
    FuncSpec("unixEpoch", lambda ctx, date: str(date.unix), (_TIME,)),
    FuncSpec("duration", _duration, (ANY,)),
    FuncSpec("durationRound", _duration_round, (ANY,)),
)
