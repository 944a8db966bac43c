"""Go's ``time.ParseInLocation`` with local time = UTC: layout elements, checks, messages.

Each layout element reads its part of the value with Go's widths (``01`` needs two
digits, ``1`` takes one or two); a mismatch or an out-of-range field is a ``ValueError``
carrying Go's ``ParseError`` text.  Used by ``sprig_dates`` (``toDate``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from tagpilot.core.message.gotime import (
    MONTHS,
    UTC,
    WEEKDAYS,
    Zone,
    chunks,
    days_from_civil,
    days_in,
    time_quote,
)

__all__ = ["parse_time"]


class _Bad(Exception):  # noqa: N818 - Go's errBad: "cannot parse"
    pass


class _OutOfRange(Exception):  # noqa: N818 - Go's rangeErrString
    pass


@dataclass
class _Fields:
    year: int = 0
    month: int = -1
    day: int = -1
    yday: int = -1
    hour: int = 0
    minute: int = 0
    second: int = 0
    nanosecond: int = 0
    pm: bool | None = None
    offset: int | None = None
    zone_name: str = ""
    utc: bool = False
    seen: set[str] = field(default_factory=set)


def _getnum(value: str, fixed: bool, width: int = 2) -> tuple[int, str]:
    digits = 0
    while (
        digits < width
        and digits < len(value)
        and value[digits].isascii()
        and value[digits].isdigit()
    ):
        digits += 1
    if digits == 0 or (fixed and digits < width):
        raise _Bad
    return int(value[:digits]), value[digits:]


def _lookup(names: Sequence[str], value: str) -> tuple[int, str]:
    for index, name in enumerate(names):
        if value[: len(name)].lower() == name.lower():
            return index, value[len(name) :]
    raise _Bad


def _ranged(number: int, low: int, high: int, what: str) -> int:
    if not low <= number <= high:
        raise _OutOfRange(what)
    return number


def _nanoseconds(value: str, size: int) -> int:
    digits = value[1 : min(size, 10)]
    if value[:1] not in ".," or not digits.isdigit():
        raise _Bad
    return int(digits.ljust(9, "0")[:9])


def _zone_abbreviation(value: str) -> int:
    """Go's ``parseTimeZone``: how many bytes of ``value`` name a zone (0 if none)."""
    if len(value) < 3:
        return 0
    if value[:4] in ("ChST", "MeST"):
        return 4
    if value.startswith("GMT"):
        sign_end = 3
        while sign_end < len(value) and (value[sign_end] in "+-" or value[sign_end].isdigit()):
            sign_end += 1
        return sign_end
    if value[0] in "+-":
        end = 1
        while end < len(value) and end < 3 and value[end].isdigit():
            end += 1
        return end if end > 1 else 0
    upper = 0
    while upper < len(value) and upper < 6 and "A" <= value[upper] <= "Z":
        upper += 1
    if upper == 3 or (upper == 4 and (value[3] == "T" or value[:4] == "WITA")):
        return upper
    return 5 if upper == 5 and value[4] == "T" else 0


def _numeric_zone(element: str, value: str) -> tuple[int, str]:
    shape = element.lstrip("Z-")
    widths = {"07:00:00": 9, "070000": 7, "07:00": 6, "0700": 5, "07": 3}[shape]
    if len(value) < widths or value[0] not in "+-":
        raise _Bad
    body = value[1:widths].replace(":", "") if ":" in shape else value[1:widths]
    if ":" in shape and any(value[i] != ":" for i in range(3, widths, 3)):
        raise _Bad
    hours, minutes, seconds = int(body[0:2] or 0), int(body[2:4] or 0), int(body[4:6] or 0)
    if not body.isdigit():
        raise _Bad
    offset = (hours * 60 + minutes) * 60 + seconds
    return (-offset if value[0] == "-" else offset), value[widths:]


def _long_year(element: str, value: str, fields: _Fields) -> str:
    if len(value) < 4 or not value[:4].isascii() or not value[:4].isdigit():
        raise _Bad
    fields.year = int(value[:4])
    return value[4:]


def _short_year(element: str, value: str, fields: _Fields) -> str:
    year, value = _getnum(value, True)
    fields.year = year + (1900 if year >= 69 else 2000)
    return value


def _month_name(element: str, value: str, fields: _Fields) -> str:
    names = MONTHS if element == "January" else tuple(name[:3] for name in MONTHS)
    index, value = _lookup(names, value)
    fields.month = index + 1
    return value


def _weekday_name(element: str, value: str, fields: _Fields) -> str:
    names = WEEKDAYS if element == "Monday" else tuple(name[:3] for name in WEEKDAYS)
    return _lookup(names, value)[1]


def _month_number(element: str, value: str, fields: _Fields) -> str:
    month, value = _getnum(value, element == "01")
    fields.month = _ranged(month, 1, 12, "month")
    return value


def _day(element: str, value: str, fields: _Fields) -> str:
    if element == "_2" and value[:1] == " ":
        value = value[1:]
    fields.day, value = _getnum(value, element == "02")
    return value


def _year_day(element: str, value: str, fields: _Fields) -> str:
    if element == "__2":
        value = value[2:] if value.startswith("  ") else value.removeprefix(" ")
    yday, value = _getnum(value, element == "002", 3)
    fields.yday = _ranged(yday, 1, 366, "day-of-year")
    return value


def _hour(element: str, value: str, fields: _Fields) -> str:
    hour, value = _getnum(value, element == "03")
    fields.hour = _ranged(hour, 0, 23 if element == "15" else 12, "hour")
    return value


def _minute(element: str, value: str, fields: _Fields) -> str:
    minute, value = _getnum(value, element == "04")
    fields.minute = _ranged(minute, 0, 59, "minute")
    return value


def _second(element: str, value: str, fields: _Fields) -> str:
    second, value = _getnum(value, element == "05")
    fields.second = _ranged(second, 0, 59, "second")
    return value


def _meridiem(element: str, value: str, fields: _Fields) -> str:
    marker = value[:2]
    if marker not in (("PM", "AM") if element == "PM" else ("pm", "am")):
        raise _Bad
    fields.pm = marker.upper() == "PM"
    return value[2:]


def _offset(element: str, value: str, fields: _Fields) -> str:
    if element[0] == "Z" and value[:1] == "Z":
        fields.utc = True
        return value[1:]
    fields.offset, value = _numeric_zone(element, value)
    return value


_READERS: dict[str, Callable[[str, str, _Fields], str]] = {
    "2006": _long_year,
    "06": _short_year,
    "January": _month_name,
    "Jan": _month_name,
    "Monday": _weekday_name,
    "Mon": _weekday_name,
    "1": _month_number,
    "01": _month_number,
    "2": _day,
    "_2": _day,
    "02": _day,
    "__2": _year_day,
    "002": _year_day,
    "15": _hour,
    "3": _hour,
    "03": _hour,
    "4": _minute,
    "04": _minute,
    "5": _second,
    "05": _second,
    "PM": _meridiem,
    "pm": _meridiem,
}


def _element(element: str, value: str, layout_rest: str, fields: _Fields) -> str:
    """Read ``element`` from the start of ``value`` into ``fields``; return the rest."""
    reader = _READERS.get(element)
    if reader is not None:
        value = reader(element, value, fields)
        if element in ("5", "05"):
            value = _implicit_fraction(value, layout_rest, fields)
        return value
    if element == "MST":
        return _zone_name(value, fields)
    if element[0] in ".,":
        return _fraction(element, value, fields)
    return _offset(element, value, fields)


def _implicit_fraction(value: str, layout_rest: str, fields: _Fields) -> str:
    """Seconds followed by ``.123`` though the layout has no fraction: Go reads it anyway."""
    if len(value) < 2 or value[0] not in ".," or not value[1].isdigit():
        return value
    if next(chunks(layout_rest))[1][:1] in (".", ","):
        return value  # the layout's own fraction element reads it
    size = 2
    while size < len(value) and value[size].isdigit():
        size += 1
    fields.nanosecond = _nanoseconds(value, size)
    return value[size:]


def _fraction(element: str, value: str, fields: _Fields) -> str:
    if element[1] == "0":
        size = len(element)
        if len(value) < size:
            raise _Bad
        fields.nanosecond = _nanoseconds(value, size)
        return value[size:]
    if len(value) < 2 or value[0] not in ".," or not value[1].isdigit():
        return value  # an omitted optional fraction
    size = 2
    while size < len(value) and value[size].isdigit():
        size += 1
    fields.nanosecond = _nanoseconds(value, size)
    return value[size:]


def _zone_name(value: str, fields: _Fields) -> str:
    if value.startswith("UTC"):
        fields.utc = True
        return value[3:]
    size = _zone_abbreviation(value)
    if size == 0:
        raise _Bad
    fields.zone_name = value[:size]
    return value[size:]


def _date_fields(fields: _Fields, layout: str, original: str) -> tuple[int, int]:
    """(month, day) after the checks Go makes once every element is read."""
    month, day = fields.month, fields.day
    if fields.yday >= 0:
        if month < 0 and day < 0:
            days = days_from_civil(fields.year, 1, 1) + fields.yday - 1
            month, day = _month_day(fields.year, days)
        elif (
            month >= 0
            and day >= 0
            and days_from_civil(fields.year, month, day)
            != (days_from_civil(fields.year, 1, 1) + fields.yday - 1)
        ):
            raise ValueError(f"parsing time {time_quote(original)}: day-of-year does not match day")
    month = 1 if month < 0 else month
    day = 1 if day < 0 else day
    if not 1 <= day <= days_in(month, fields.year):
        raise ValueError(f"parsing time {time_quote(original)}: day out of range")
    return month, day


def _month_day(year: int, days: int) -> tuple[int, int]:
    month = 1
    while month < 12 and days_from_civil(year, month + 1, 1) <= days:
        month += 1
    return month, days - days_from_civil(year, month, 1) + 1


def parse_time(layout: str, original: str) -> tuple[int, int, Zone]:
    """(Unix seconds, nanoseconds, zone) of ``original`` read with Go ``layout``."""
    fields, value, rest = _Fields(), original, layout
    for literal, element in chunks(layout):
        rest = rest[len(literal) + len(element) :]
        value = _skip(literal, value, layout, original)
        if not element:
            break
        try:
            value = _element(element, value, rest, fields)
        except _OutOfRange as error:
            raise ValueError(f"parsing time {time_quote(original)}: {error} out of range") from None
        except _Bad:
            raise ValueError(_cannot_parse(layout, original, value, element)) from None
    if value:
        raise ValueError(f"parsing time {time_quote(original)}: extra text: {time_quote(value)}")
    if fields.pm is True and fields.hour < 12:
        fields.hour += 12
    elif fields.pm is False and fields.hour == 12:
        fields.hour = 0
    month, day = _date_fields(fields, layout, original)
    days = days_from_civil(fields.year, month, day)
    local = days * 86400 + fields.hour * 3600 + fields.minute * 60 + fields.second
    zone = _zone(fields)
    return local - zone.offset, fields.nanosecond, zone


def _zone(fields: _Fields) -> Zone:
    if fields.utc:
        return UTC
    if fields.offset is not None:
        return UTC if fields.offset == 0 and not fields.zone_name else Zone("", fields.offset)
    if fields.zone_name:
        offset = 0
        if fields.zone_name.startswith("GMT") and len(fields.zone_name) > 3:
            offset = int(fields.zone_name[3:]) * 3600
        return Zone(fields.zone_name, offset)
    return UTC


def _skip(literal: str, value: str, layout: str, original: str) -> str:
    """Go's ``skip``: match the literal text, a run of spaces matching any run of spaces."""
    rest = literal
    while rest:
        if rest[0] == " ":
            if value and value[0] != " ":
                raise ValueError(_cannot_parse(layout, original, value, literal))
            rest, value = rest.lstrip(" "), value.lstrip(" ")
            continue
        if not value or value[0] != rest[0]:
            raise ValueError(_cannot_parse(layout, original, value, literal))
        rest, value = rest[1:], value[1:]
    return value


def _cannot_parse(layout: str, original: str, value: str, element: str) -> str:
    return (
        f"parsing time {time_quote(original)} as {time_quote(layout)}: "
        f"cannot parse {time_quote(value)} as {time_quote(element)}"
    )
