"""RFC 3339 the Kubernetes way: UTC, whole seconds, a ``Z``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from tagpilot.core.timefmt import rfc3339


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        pytest.param(
            datetime(2026, 11, 21, 12, 0, 5, 999, tzinfo=UTC),
            "2026-11-21T12:00:05Z",
            id="utc-drops-fractions",
        ),
        pytest.param(
            datetime(2026, 11, 21, 13, 0, tzinfo=timezone(timedelta(hours=1))),
            "2026-11-21T12:00:00Z",
            id="offset-converted-to-utc",
        ),
        pytest.param(
            datetime(2026, 11, 21, 12, 0), "2026-11-21T12:00:00Z", id="naive-taken-as-utc"
        ),
    ],
)
def test_times_are_written_in_utc_with_whole_seconds(moment: datetime, text: str) -> None:
    assert rfc3339(moment) == text
