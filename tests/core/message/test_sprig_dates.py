"""Sprig's hermetic date functions and Go's ``time.Time``: layouts, methods, durations.

Local time is UTC (Flux's controller images set no time zone).  Sprig's ``date``,
``now``, ``dateModify`` and ``dateInZone`` read the clock, so the hermetic set Flux
uses does not have them; ``toDate`` plus ``.Format`` is how a template formats a date.
"""

from __future__ import annotations

import pytest
from message_testing import Render

from tagpilot.core.message import TemplateExecutionError, TemplateParseError

P = pytest.param
DAY = 'toDate "2006-01-02" "2017-12-31"'

DATES = [
    P(f"{{{{ {DAY} }}}}", "2017-12-31 00:00:00 +0000 UTC", id="toDate-prints-like-go"),
    P(
        '{{ toDate "2006-01-02" "nope" }}',
        "0001-01-01 00:00:00 +0000 UTC",
        id="toDate-error-is-zero-time",
    ),
    P(
        f'{{{{ ({DAY}).Format "Jan 2, 2006 at 3:04pm (MST)" }}}}',
        "Dec 31, 2017 at 12:00am (UTC)",
        id="Format",
    ),
    P(
        f'{{{{ ({DAY}).Format "Monday 02/01/06 __2 002 _2" }}}}',
        "Sunday 31/12/17 365 365 31",
        id="Format-weekday-and-year-day",
    ),
    P(
        '{{ $t := toDate "2006-01-02T15:04:05.999999999Z07:00" "2024-05-01T10:20:30.5+05:30" }}'
        '{{ $t }}|{{ $t.UTC }}|{{ $t.Format "15:04:05.000 -07:00 Z0700" }}',
        "2024-05-01 10:20:30.5 +0530 +0530|2024-05-01 04:50:30.5 +0000 UTC|"
        "10:20:30.500 +05:30 +0530",
        id="offsets-and-fractions",
    ),
    P(
        '{{ toDate "Jan 2 2006 3:04pm" "Feb 29 2024 11:05pm" }}',
        "2024-02-29 23:05:00 +0000 UTC",
        id="pm-and-leap-day",
    ),
    P(
        '{{ toDate "2006-01-02 15:04:05 MST" "2024-03-05 10:00:00 PST" }}',
        "2024-03-05 10:00:00 +0000 PST",
        id="unknown-zone-keeps-its-name",
    ),
    P(
        '{{ toDate "2006-01-02 15:04:05" "2024-01-01 10:00:00.123" }}',
        "2024-01-01 10:00:00.123 +0000 UTC",
        id="fraction-not-in-layout",
    ),
    P('{{ toDate "2006 002" "2024 060" }}', "2024-02-29 00:00:00 +0000 UTC", id="year-day"),
    P(
        '{{ toDate "2006-01-02T15:04:05Z07:00" "2024-01-01T00:00:00+00:00" }}',
        "2024-01-01 00:00:00 +0000 UTC",
        id="zero-offset-is-utc",
    ),
    P('{{ toDate "15:04:05" "10:00:00,5" }}', "0000-01-01 10:00:00.5 +0000 UTC", id="year-zero"),
    P(
        '{{ mustToDate "2006-01-02" "2017-12-31" | unixEpoch }}',
        "1514678400",
        id="mustToDate-and-unixEpoch",
    ),
    P(
        f"{{{{ ({DAY}).Unix }}}} {{{{ ({DAY}).Year }}}} {{{{ ({DAY}).YearDay }}}}",
        "1514678400 2017 365",
        id="methods",
    ),
    P(
        f'{{{{ (({DAY}).AddDate 0 2 0).Format "2006-01-02" }}}}',
        "2018-03-03",
        id="AddDate-rolls-over",
    ),
    P(
        f'{{{{ ({DAY}).Before (toDate "2006" "2018") }}}} {{{{ ({DAY}).IsZero }}}}',
        "true false",
        id="Before-IsZero",
    ),
    P(
        f'{{{{ mustDateModify "1.5h" ({DAY}) }}}}',
        "2017-12-31 01:30:00 +0000 UTC",
        id="mustDateModify",
    ),
    P(
        f'{{{{ must_date_modify "-24h" ({DAY}) }}}}',
        "2017-12-30 00:00:00 +0000 UTC",
        id="must_date_modify",
    ),
    P(f"{{{{ toJson ({DAY}) }}}}", '"2017-12-31T00:00:00Z"', id="toJson-rfc3339"),
    P(
        '{{ duration "95" }} {{ duration (int64 3700) }} {{ duration 95 }}',
        "1m35s 1h1m40s 0s",
        id="duration-takes-strings-or-int64",
    ),
    P('{{ duration "0" }} {{ duration "x" }}', "0s 0s", id="duration-zero"),
    P(
        '{{ durationRound "2h10m5s" }} {{ durationRound "400h" }} {{ durationRound "9000h" }}',
        "2h 16d 1y",
        id="durationRound",
    ),
    P(
        '{{ durationRound "1000h" }} {{ durationRound "-3m" }} '
        "{{ durationRound (int64 5000000000) }}",
        "1m 3m 5s",
        id="durationRound-months-negative-int64",
    ),
    P('{{ durationRound "1s" }} {{ durationRound 5 }}', "0s 0s", id="durationRound-small-and-int"),
]


@pytest.mark.parametrize(("template", "expected"), DATES)
def test_date_functions_give_gos_results(render: Render, template: str, expected: str) -> None:
    assert render(template) == expected


@pytest.mark.parametrize(
    ("template", "detail"),
    [
        P(
            '{{ mustToDate "2006-01-02" "x" }}',
            'parsing time "x" as "2006-01-02": cannot parse "x" as "2006"',
            id="cannot-parse",
        ),
        P(
            '{{ mustToDate "2006-01-02" "2017-13-01" }}',
            'parsing time "2017-13-01": month out of range',
            id="month",
        ),
        P(
            '{{ mustToDate "2006-01-02" "2017-02-30" }}',
            'parsing time "2017-02-30": day out of range',
            id="day",
        ),
        P(
            '{{ mustToDate "2006-01-02" "2017-01-01x" }}',
            'parsing time "2017-01-01x": extra text: "x"',
            id="extra-text",
        ),
        P('{{ mustToDate "15:04" "25:00" }}', 'parsing time "25:00": hour out of range', id="hour"),
        P(
            f'{{{{ mustDateModify "1d" ({DAY}) }}}}',
            'time: unknown unit "d" in duration "1d"',
            id="duration-unit",
        ),
        P(
            f'{{{{ mustDateModify "5" ({DAY}) }}}}',
            'time: missing unit in duration "5"',
            id="duration-missing-unit",
        ),
        P(
            '{{ "2017-12-31" | unixEpoch }}',
            "wrong type for value; expected time.Time; got string",
            id="unixEpoch-needs-a-time",
        ),
        P(
            '{{ unixEpoch "2017-12-31" }}',
            'can\'t handle "2017-12-31" for arg of type time.Time',
            id="a-constant-is-no-time",
        ),
        P(
            f"{{{{ durationRound ({DAY}) }}}}",
            "needs the current time",
            id="durationRound-of-a-time",
        ),
    ],
)
def test_date_errors_read_as_gos(render: Render, template: str, detail: str) -> None:
    with pytest.raises(TemplateExecutionError) as caught:
        render(template)
    assert detail in str(caught.value)


@pytest.mark.parametrize(
    "name",
    [
        "now",
        "date",
        "dateInZone",
        "date_in_zone",
        "dateModify",
        "date_modify",
        "htmlDate",
        "htmlDateInZone",
        "ago",
    ],
)
def test_clock_functions_are_not_defined(render: Render, name: str) -> None:
    with pytest.raises(TemplateParseError, match=f'function "{name}" not defined'):
        render(f"{{{{ {name} }}}}")
