"""Go durations without the API models: parse ``1m30s`` / ``1.5h`` / ``500ms``, format ``1m0s``.

Pure functions shared by :mod:`tagpilot.api.duration` (the model fields), the template
functions (``duration``) and commands that must start fast without the models, such as
``tagpilot scan --timeout``.
"""

from __future__ import annotations

import re

__all__ = ["PATTERN", "SHORT_PATTERN", "format_go_duration", "parse_go_duration"]

_NANOS = {"ms": 1_000_000, "s": 1_000_000_000, "m": 60_000_000_000, "h": 3_600_000_000_000}
PATTERN = re.compile(r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$")
"""The Flux CRD duration syntax (``1h30m``, ``1.5s``, ``500ms``)."""
SHORT_PATTERN = re.compile(r"^([0-9]+(\.[0-9]+)?(ms|s|m))+$")
"""The same without hours, for timeouts."""
_COMPONENT = re.compile(r"([0-9]+)(?:\.([0-9]+))?(ms|s|m|h)")


def parse_go_duration(text: str, *, allow_hours: bool = True) -> int:
    """Return the nanoseconds of ``text``, a duration in the Flux CRD syntax.

    Raises ``ValueError`` naming the accepted syntax when ``text`` does not match.
    """
    pattern = PATTERN if allow_hours else SHORT_PATTERN
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
