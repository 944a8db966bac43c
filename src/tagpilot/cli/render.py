"""Text the flux-style commands print: tablewriter tables and the ✚ ► ✔ ◎ ✗ lines.

``format_table`` reproduces the table the Flux CLI prints through ``tablewriter`` (left
aligned, cells padded to the column width, a tab between header cells and a tab after every
data cell), so scripts written against ``flux get`` read ``tagpilot get`` unchanged.
Also the small readers of a status every command shares: the Ready condition, RFC 3339 times,
Kubernetes' human durations (``LAST SEEN``), the events table and the line Flux prints after
a successful reconcile.
Used by :mod:`tagpilot.cli.get` and :mod:`tagpilot.cli.actions`.  Pure: values in, text out.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from datetime import UTC, datetime

from tagpilot.api.image import ImagePolicyStatus, ImageRepositoryStatus
from tagpilot.api.kustomization import KustomizationStatus
from tagpilot.api.meta import Condition
from tagpilot.api.source import GitRepositoryStatus
from tagpilot.core.timefmt import rfc3339 as format_rfc3339
from tagpilot.ports import RecordedEvent

__all__ = [
    "ACTION",
    "FAILURE",
    "GENERATE",
    "SUCCESS",
    "WAITING",
    "condition",
    "display_width",
    "events_table",
    "format_table",
    "human_duration",
    "ready_and_message",
    "requested_at",
    "rfc3339",
    "success_line",
]

GENERATE = "✚"
ACTION = "►"
SUCCESS = "✔"
WAITING = "◎"
FAILURE = "✗"

_COLUMN_GAP = "\t"
_NOT_RECONCILED = ("False", "waiting to be reconciled")


def display_width(text: str) -> int:
    """Terminal columns ``text`` takes: wide and full-width characters count twice."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - display_width(text))


def _column_widths(lines: Sequence[Sequence[list[str]]]) -> list[int]:
    count = max(len(row) for row in lines)
    widths = [0] * count
    for row in lines:
        for index, cell in enumerate(row):
            widths[index] = max([widths[index], *(display_width(part) for part in cell)])
    return widths


def _physical_lines(row: Sequence[list[str]], widths: Sequence[int]) -> list[list[str]]:
    """A row whose cells hold several lines prints as several lines, cell by cell."""
    height = max((len(cell) for cell in row), default=1)
    return [
        [_pad(cell[i] if i < len(cell) else "", widths[col]) for col, cell in enumerate(row)]
        for i in range(height)
    ]


def format_table(header: Sequence[str] | None, rows: Sequence[Sequence[str]]) -> str:
    """The table as Flux prints it; ``header`` None leaves the header line out (``--no-header``)."""
    split_rows = [[cell.split("\n") for cell in row] for row in rows]
    split_header = [[title] for title in header] if header else None
    everything = ([split_header] if split_header else []) + split_rows
    if not everything:
        return ""
    widths = _column_widths(everything)
    out: list[str] = []
    if split_header:
        out.append(_COLUMN_GAP.join(_physical_lines(split_header, widths)[0]) + "\n")
    for row in split_rows:
        for line in _physical_lines(row, widths):
            out.append("".join(cell + _COLUMN_GAP for cell in line) + "\n")
    return "".join(out)


def condition(status: object, kind: str) -> Condition | None:
    """The condition of type ``kind`` of a typed status (case-insensitive, the last one wins)."""
    found = None
    for item in getattr(status, "conditions", None) or ():
        if item.type.lower() == kind.lower():
            found = item
    return found


def ready_and_message(status: object) -> tuple[str, str]:
    """READY and MESSAGE: the Ready condition, else ``False``, "waiting to be reconciled"."""
    ready = condition(status, "Ready")
    if ready is None:
        return _NOT_RECONCILED
    return ready.status, ready.message


def rfc3339(value: object) -> str:
    """A stored time as Go's ``time.RFC3339`` at seconds precision; empty when unset.

    Text that does not parse as a time is shown as it is rather than hidden.
    """
    if not value:
        return ""
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if moment.tzinfo is None or moment.utcoffset() == UTC.utcoffset(None):
        return format_rfc3339(moment)
    return moment.replace(microsecond=0).isoformat()


def _days_and_years(hours: int) -> str:
    if hours < 24 * 8:
        days, rest = divmod(hours, 24)
        return f"{days}d" if rest == 0 else f"{days}d{rest}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    years, days = divmod(hours // 24, 365)
    if hours < 24 * 365 * 8 and days:
        return f"{years}y{days}d"
    return f"{years}y"


def human_duration(seconds: float) -> str:
    """An age the way kubectl prints ``LAST SEEN`` (``45s``, ``3m20s``, ``5h``, ``2d3h``)."""
    whole = int(seconds)
    if whole < -1:
        return "<invalid>"
    if whole < 0:
        return "0s"
    if whole < 120:
        return f"{whole}s"
    minutes = whole // 60
    if minutes < 10:
        return f"{minutes}m" if whole % 60 == 0 else f"{minutes}m{whole % 60}s"
    if minutes < 180:
        return f"{minutes}m"
    hours = minutes // 60
    if hours < 8:
        return f"{hours}h" if minutes % 60 == 0 else f"{hours}h{minutes % 60}m"
    if hours < 48:
        return f"{hours}h"
    return _days_and_years(hours)


def requested_at(now: datetime) -> str:
    """``now`` as Go's RFC3339Nano in UTC (trailing zeros of the fraction dropped)."""
    text = now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f").rstrip("0").rstrip(".")
    return text + "Z"


def success_line(status: object) -> str:
    """What Flux prints after a successful reconcile, from the kind's typed status."""
    if isinstance(status, ImageRepositoryStatus):
        scan = status.last_scan_result
        return f"scan fetched {scan.tag_count if scan else 0} tags"
    if isinstance(status, ImagePolicyStatus):
        ref = status.latest_ref
        if ref is None:
            return "selected ref :"
        digest = f"@{ref.digest}" if ref.digest else ""
        return f"selected ref {ref.name}:{ref.tag}{digest}"
    if isinstance(status, KustomizationStatus) and status.last_applied_revision:
        return f"applied revision {status.last_applied_revision}"
    artifact = status.artifact if isinstance(status, GitRepositoryStatus) else None
    if artifact is not None and (revision := artifact.revision):
        return f"fetched revision {revision}"
    ready = condition(status, "Ready")
    if ready is not None and ready.message:
        return ready.message
    last_run = getattr(status, "last_automation_run_time", None)
    if last_run:
        return f"last run {rfc3339(last_run)}"
    return "automation not yet run"


def events_table(events: Sequence[RecordedEvent], now: datetime, *, with_namespace: bool) -> str:
    """Flux's events table: LAST SEEN, TYPE, REASON, OBJECT, MESSAGE (NAMESPACE first with -A)."""
    header = ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    rows = [
        [
            human_duration((now - event.time).total_seconds()),
            event.type,
            event.reason,
            f"{event.key.kind}/{event.key.name}",
            event.message.strip(),
        ]
        for event in events
    ]
    if with_namespace:
        header = ["NAMESPACE", *header]
        rows = [[event.key.namespace, *row] for event, row in zip(events, rows, strict=True)]
    return format_table(header, rows)
