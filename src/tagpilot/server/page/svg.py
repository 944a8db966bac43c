"""The timeline as an inline SVG drawn on the server: no script is needed to see it.

One lane per image; along a shared time axis each tag is a circle where a policy first
picked it (the scan that found it in the registry) joined by a line to a square where an
automation committed it.  Every text is escaped; each mark carries a ``<title>`` tooltip.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from html import escape

from tagpilot.core.tagtimeline import TimelineEntry

__all__ = ["timeline_svg"]

_WIDTH, _LEFT, _RIGHT, _LANE, _TOP = 900, 220, 30, 56, 34


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _latency(seconds: float | None) -> str:
    if seconds is None:
        return "not committed yet"
    if seconds < 120:
        return f"committed {seconds:.1f} s later"
    return f"committed {seconds / 60:.1f} min later"


def timeline_svg(entries: list[TimelineEntry]) -> str:
    """The SVG markup for ``entries`` (an explanatory text when there are none)."""
    if not entries:
        return '<p class="empty">No tag has been picked by a policy yet.</p>'
    moments = [_when(e.seen) for e in entries]
    moments += [_when(e.committed) for e in entries if e.committed]
    start, end = min(moments), max(moments)
    span = max((end - start).total_seconds(), 1.0)
    usable = _WIDTH - _LEFT - _RIGHT

    def x(text: str) -> float:
        return _LEFT + usable * (_when(text) - start).total_seconds() / span

    images = sorted({e.image for e in entries})
    height = _TOP + _LANE * len(images) + 10
    parts = [
        f'<svg class="timeline" xmlns="http://www.w3.org/2000/svg" role="img" '
        f'viewBox="0 0 {_WIDTH} {height}" width="{_WIDTH}" height="{height}">',
        "<title>When each tag was picked and when it was committed</title>",
        f'<text class="axis" x="{_LEFT}" y="14">{escape(_short(start))}</text>',
        f'<text class="axis" x="{_WIDTH - _RIGHT}" y="14" text-anchor="end">'
        f"{escape(_short(end))}</text>",
    ]
    for lane, image in enumerate(images):
        y = _TOP + _LANE * lane + _LANE / 2
        parts.append(
            f'<line class="lane" x1="{_LEFT}" y1="{y}" x2="{_WIDTH - _RIGHT}" y2="{y}"/>'
            f'<text class="image" x="{_LEFT - 10}" y="{y + 4}" text-anchor="end">'
            f"{escape(_tail(image))}<title>{escape(image)}</title></text>"
        )
        for index, entry in enumerate(e for e in entries if e.image == image):
            parts.append(_mark(entry, x, y, below=index % 2 == 1))
    parts.append("</svg>")
    return "".join(parts)


def _mark(entry: TimelineEntry, x: Callable[[str], float], y: float, *, below: bool) -> str:
    seen_x = x(entry.seen)
    tip = escape(f"{entry.tag}: picked {entry.seen}; {_latency(entry.latency_seconds)}")
    label_y = y + 20 if below else y - 10
    # Labels right of the middle end at their mark, so none runs off the drawing.
    anchor = "end" if seen_x > _LEFT + (_WIDTH - _LEFT - _RIGHT) / 2 else "start"
    out = [
        f'<g class="tag" data-tag="{escape(entry.tag)}"><title>{tip}</title>',
        f'<circle class="seen" cx="{seen_x:.1f}" cy="{y}" r="5"/>',
    ]
    if entry.committed is not None:
        done_x = x(entry.committed)
        out.append(
            f'<line class="latency" x1="{seen_x:.1f}" y1="{y}" x2="{done_x:.1f}" y2="{y}"/>'
            f'<rect class="committed" x="{done_x - 5:.1f}" y="{y - 5}" width="10" height="10"/>'
        )
    out.append(
        f'<text class="tagname" x="{seen_x:.1f}" y="{label_y}" text-anchor="{anchor}">'
        f"{escape(entry.tag)}</text>"
    )
    out.append("</g>")
    return "".join(out)


def _short(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def _tail(image: str) -> str:
    """The image's last two path parts: lanes stay readable for long registry names."""
    return "/".join(image.split("/")[-2:])
