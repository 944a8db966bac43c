"""Go's ``time`` package as templates see it: layouts, ``time.Time`` and ``time.Duration``.

Parsing and formatting use Go's reference layouts (``2006-01-02T15:04:05Z07:00``),
with Go's element rules and error messages.  There is no clock and no time zone
database: "local" time is UTC (as in Flux's controller images, which set no ``TZ``);
a parsed numeric offset becomes a fixed zone, an unknown abbreviation a zero-offset
zone of that name, as Go does.  Calendar arithmetic is proleptic Gregorian on day
numbers, so year 0 works as in Go.  Used by ``gotime_parse`` and ``sprig_dates``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

__all__ = [
    "MONTHS",
    "WEEKDAYS",
    "Civil",
    "Zone",
    "chunks",
    "days_from_civil",
    "days_in",
    "format_time",
    "parse_duration",
    "time_quote",
]

MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
WEEKDAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
_NANOS = 1_000_000_000
_INT64_MAX = 2**63 - 1

# Layout elements by first character, longest first (Go's nextStdChunk order).
_ELEMENTS = {
    "J": ("January", "Jan"),
    "M": ("Monday", "Mon", "MST"),
    "0": ("002", "01", "02", "03", "04", "05", "06"),
    "1": ("15", "1"),
    "2": ("2006", "2"),
    "_": ("__2", "_2"),
    "3": ("3",),
    "4": ("4",),
    "5": ("5",),
    "P": ("PM",),
    "p": ("pm",),
    "-": ("-07:00:00", "-070000", "-07:00", "-0700", "-07"),
    "Z": ("Z07:00:00", "Z070000", "Z07:00", "Z0700", "Z07"),
}


@dataclass(frozen=True)
class Zone:
    """A fixed zone: its name (may be empty) and offset east of UTC in seconds."""

    name: str
    offset: int


UTC = Zone("UTC", 0)


@dataclass(frozen=True)
class Civil:
    """Broken-down local time, as Go's ``Date`` takes it."""

    year: int
    month: int
    day: int
    hour: int = 0
    minute: int = 0
    second: int = 0
    nanosecond: int = 0


def days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (normalising month overflow)."""
    year += (month - 1) // 12
    month = (month - 1) % 12 + 1
    year -= month <= 2
    era = year // 400
    year_of_era = year - era * 400
    day_of_year = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return era * 146097 + day_of_era - 719468


def civil_from_days(days: int) -> tuple[int, int, int]:
    """(year, month, day) of a day number since 1970-01-01."""
    days += 719468
    era = days // 146097
    day_of_era = days - era * 146097
    year_of_era = (
        day_of_era - day_of_era // 1460 + day_of_era // 36524 - day_of_era // 146096
    ) // 365
    day_of_year = day_of_era - (365 * year_of_era + year_of_era // 4 - year_of_era // 100)
    month_index = (5 * day_of_year + 2) // 153
    day = day_of_year - (153 * month_index + 2) // 5 + 1
    month = month_index + (3 if month_index < 10 else -9)
    return year_of_era + era * 400 + (month <= 2), month, day


def days_in(month: int, year: int) -> int:
    """Days in ``month`` of ``year``."""
    if month == 2:
        leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
        return 29 if leap else 28
    return 30 if month in (4, 6, 9, 11) else 31


def _fraction_element(layout: str, index: int) -> str | None:
    if index + 1 < len(layout) and layout[index + 1] in "09":
        end = index + 1
        while end < len(layout) and layout[end] == layout[index + 1]:
            end += 1
        if not (end < len(layout) and layout[end].isdigit()):
            return layout[index:end]
    return None


def _element_at(layout: str, index: int) -> str | None:
    char = layout[index]
    if char in ".,":
        return _fraction_element(layout, index)
    rest = layout[index:]
    for element in _ELEMENTS.get(char, ()):
        if not rest.startswith(element):
            continue
        if element in ("Jan", "Mon") and rest[3:4].islower():
            continue  # "Janet", "Month" are text
        return element
    return None


def chunks(layout: str) -> Iterator[tuple[str, str]]:
    """Split a layout into (literal text, element) pairs; the last element may be empty."""
    start = index = 0
    while index < len(layout):
        if layout.startswith("_2006", index):
            index += 1  # "_2006" is a literal underscore and a year
        element = _element_at(layout, index)
        if element is None:
            index += 1
            continue
        yield layout[start:index], element
        index += len(element)
        start = index
    yield layout[start:], ""


def _pad(number: int, width: int, fill: str = "0") -> str:
    text = str(abs(number)).rjust(width, fill)
    return "-" + text if number < 0 else text


def _offset_text(element: str, offset: int) -> str:
    if element.startswith("Z") and offset == 0:
        return "Z"
    sign = "-" if offset < 0 else "+"
    hours, rest = divmod(abs(offset), 3600)
    minutes, seconds = divmod(rest, 60)
    colon = ":" if ":" in element else ""
    text = f"{sign}{hours:02d}"
    if element.lstrip("Z-") != "07":
        text += f"{colon}{minutes:02d}"
    if element.lstrip("Z-").replace(":", "") == "070000":
        text += f"{colon}{seconds:02d}"
    return text


def _fraction_text(element: str, nanosecond: int) -> str:
    digits = f"{nanosecond:09d}"[: len(element) - 1]
    if element[1] == "9":
        digits = digits.rstrip("0")
        return element[0] + digits if digits else ""
    return element[0] + digits


def _element_text(element: str, civil: Civil, zone: Zone, weekday: int, yday: int) -> str:
    simple: dict[str, Callable[[], str]] = {
        "2006": lambda: _pad(civil.year, 4),
        "06": lambda: _pad(civil.year % 100, 2),
        "January": lambda: MONTHS[civil.month - 1],
        "Jan": lambda: MONTHS[civil.month - 1][:3],
        "1": lambda: str(civil.month),
        "01": lambda: _pad(civil.month, 2),
        "Monday": lambda: WEEKDAYS[weekday],
        "Mon": lambda: WEEKDAYS[weekday][:3],
        "2": lambda: str(civil.day),
        "_2": lambda: _pad(civil.day, 2, " "),
        "02": lambda: _pad(civil.day, 2),
        "__2": lambda: _pad(yday, 3, " "),
        "002": lambda: _pad(yday, 3),
        "15": lambda: _pad(civil.hour, 2),
        "3": lambda: str(civil.hour % 12 or 12),
        "03": lambda: _pad(civil.hour % 12 or 12, 2),
        "4": lambda: str(civil.minute),
        "04": lambda: _pad(civil.minute, 2),
        "5": lambda: str(civil.second),
        "05": lambda: _pad(civil.second, 2),
        "PM": lambda: "PM" if civil.hour >= 12 else "AM",
        "pm": lambda: "pm" if civil.hour >= 12 else "am",
        "MST": lambda: zone.name or _offset_text("-0700", zone.offset),
    }
    if element in simple:
        return simple[element]()
    if element[0] in ".,":
        return _fraction_text(element, civil.nanosecond)
    return _offset_text(element, zone.offset)


def format_time(layout: str, unix: int, nanosecond: int, zone: Zone) -> str:
    """Go's ``Time.Format`` for an instant (Unix seconds, nanoseconds) seen in ``zone``."""
    local = unix + zone.offset
    days, seconds = divmod(local, 86400)
    year, month, day = civil_from_days(days)
    hour, rest = divmod(seconds, 3600)
    civil = Civil(year, month, day, hour, rest // 60, rest % 60, nanosecond)
    weekday = (days + 4) % 7
    yday = days - days_from_civil(year, 1, 1) + 1
    parts: list[str] = []
    for literal, element in chunks(layout):
        parts.append(literal)
        if element:
            parts.append(_element_text(element, civil, zone, weekday, yday))
    return "".join(parts)


_UNITS = {
    "ns": 1,
    "us": 1_000,
    "\u00b5s": 1_000,
    "\u03bcs": 1_000,
    "ms": 1_000_000,
    "s": _NANOS,
    "m": 60 * _NANOS,
    "h": 3600 * _NANOS,
}


def time_quote(text: str) -> str:
    """``text`` in double quotes as Go's time errors show it (``"`` and ``\\`` escaped)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _duration_term(text: str, original: str) -> tuple[float, str]:
    """One ``[0-9]*(.[0-9]*)?unit`` term of a duration: (nanoseconds, rest of the text)."""
    invalid = ValueError(f"time: invalid duration {time_quote(original)}")
    index = 0
    while index < len(text) and text[index].isascii() and text[index].isdigit():
        index += 1
    whole, fraction, rest = text[:index], "", text[index:]
    if rest.startswith("."):
        index = 1
        while index < len(rest) and rest[index].isascii() and rest[index].isdigit():
            index += 1
        fraction, rest = rest[1:index], rest[index:]
    if not whole and not fraction:
        raise invalid
    index = 0
    while index < len(rest) and not (rest[index] == "." or rest[index].isdigit()):
        index += 1
    unit, rest = rest[:index], rest[index:]
    if not unit:
        raise ValueError(f"time: missing unit in duration {time_quote(original)}")
    if unit not in _UNITS:
        raise ValueError(
            f"time: unknown unit {time_quote(unit)} in duration {time_quote(original)}"
        )
    scale = _UNITS[unit]
    value = int(whole or "0") * scale
    if fraction:
        value += int(int(fraction[:18]) * (scale / 10 ** len(fraction[:18])))
    if value > 2**63:
        raise invalid
    return value, rest


def parse_duration(text: str) -> int:
    """Go's ``time.ParseDuration`` (nanoseconds); raises ``ValueError`` with Go's message."""
    original, negative = text, text[:1] == "-"
    if text[:1] in ("-", "+"):
        text = text[1:]
    if text == "0":
        return 0
    if not text:
        raise ValueError(f"time: invalid duration {time_quote(original)}")
    total = 0
    while text:
        if not (text[0] == "." or (text[0].isascii() and text[0].isdigit())):
            raise ValueError(f"time: invalid duration {time_quote(original)}")
        value, text = _duration_term(text, original)
        total += int(value)
        if total > 2**63:
            raise ValueError(f"time: invalid duration {time_quote(original)}")
    if negative:
        return -total
    if total > _INT64_MAX:
        raise ValueError(f"time: invalid duration {time_quote(original)}")
    return total
