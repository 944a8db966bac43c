"""Go durations: the CRD syntax is parsed exactly and rendered like Go's ``Duration.String``."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tagpilot.api.duration import Duration, format_go_duration, parse_go_duration

SECOND = 1_000_000_000


@pytest.mark.parametrize(
    ("text", "nanoseconds"),
    [
        pytest.param("1m", 60 * SECOND, id="minutes"),
        pytest.param("1m30s", 90 * SECOND, id="minutes-and-seconds"),
        pytest.param("1.5h", 5400 * SECOND, id="fractional-hours"),
        pytest.param("500ms", SECOND // 2, id="milliseconds"),
        pytest.param("1h0m0s", 3600 * SECOND, id="go-rendering-reads-back"),
        pytest.param("2h45m", (2 * 3600 + 45 * 60) * SECOND, id="hours-and-minutes"),
        pytest.param("0.25s", SECOND // 4, id="fractional-seconds"),
        pytest.param("10s10s", 20 * SECOND, id="repeated-units-add-up"),
    ],
)
def test_durations_in_crd_syntax_parse_to_exact_nanoseconds(text: str, nanoseconds: int) -> None:
    assert parse_go_duration(text) == nanoseconds


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty"),
        pytest.param("5", id="no-unit"),
        pytest.param("1d", id="days-are-not-go"),
        pytest.param("-1m", id="negative"),
        pytest.param("1us", id="microseconds-not-in-crd-pattern"),
        pytest.param(" 1m", id="leading-space"),
        pytest.param("1.m", id="dot-without-fraction"),
        pytest.param("m", id="unit-only"),
    ],
)
def test_text_outside_the_crd_pattern_is_rejected_with_the_expected_syntax(text: str) -> None:
    with pytest.raises(ValueError, match=r"must be a duration like 30s, 1m or 1m30s"):
        parse_go_duration(text)


def test_hours_are_rejected_where_the_crd_forbids_them() -> None:
    with pytest.raises(ValueError, match=r"no h"):
        parse_go_duration("1h", allow_hours=False)
    assert parse_go_duration("90m", allow_hours=False) == 5400 * SECOND


@pytest.mark.parametrize(
    ("nanoseconds", "rendered"),
    [
        pytest.param(0, "0s", id="zero"),
        pytest.param(60 * SECOND, "1m0s", id="one-minute"),
        pytest.param(600 * SECOND, "10m0s", id="ten-minutes"),
        pytest.param(3600 * SECOND, "1h0m0s", id="one-hour"),
        pytest.param(90 * SECOND, "1m30s", id="ninety-seconds"),
        pytest.param(SECOND + SECOND // 2, "1.5s", id="fraction-of-a-second"),
        pytest.param(SECOND // 2, "500ms", id="below-a-second-in-ms"),
        pytest.param(1_500, "1.5µs", id="microseconds"),
        pytest.param(7, "7ns", id="nanoseconds"),
        pytest.param(26 * 3600 * SECOND + 5 * SECOND, "26h0m5s", id="hours-do-not-roll-into-days"),
        pytest.param(-90 * SECOND, "-1m30s", id="negative"),
    ],
)
def test_durations_render_like_go(nanoseconds: int, rendered: str) -> None:
    assert format_go_duration(nanoseconds) == rendered


def test_a_duration_keeps_its_text_and_offers_seconds_timedelta_and_go_form() -> None:
    duration = Duration.parse("5m")
    assert str(duration) == "5m"
    assert duration.go_string() == "5m0s"
    assert duration.seconds == 300
    assert duration.timedelta == timedelta(minutes=5)


def test_a_duration_built_from_a_number_is_named_the_go_way() -> None:
    assert Duration.of(seconds=90).text == "1m30s"
