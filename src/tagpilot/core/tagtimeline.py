"""The tag timeline: per image, when a policy first picked each tag and when it was committed.

Pure, like :mod:`tagpilot.core.statusview`: the picks come from the ImagePolicies' events
(``Latest image tag for IMAGE resolved to TAG``, recorded when the scan that found the tag
made the policy choose it), the commits from the automations' recorded pushes.  The
difference is the push-to-deploy latency users care about.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from tagpilot.core.statusview import EventLike, RunLike, camel, iso

__all__ = ["TimelineEntry", "timeline"]

_RESOLVED = re.compile(r"^Latest image tag for (?P<image>\S+) resolved to (?P<tag>\S+)")


@dataclass(frozen=True)
class TimelineEntry:
    """One tag of one image: when tagpilot first picked it and when it committed it."""

    image: str
    tag: str
    seen: str
    """When a policy first resolved to the tag (the scan that found it in the registry)."""
    committed: str | None
    latency_seconds: float | None

    def document(self) -> dict[str, Any]:
        """The JSON form."""
        return camel(asdict(self))


def timeline(policy_events: Iterable[EventLike], runs: Iterable[RunLike]) -> list[TimelineEntry]:
    """Per image and tag, seen (policy events) and committed (the first push setting it)."""
    seen: dict[tuple[str, str], datetime] = {}
    for event in policy_events:
        match = _RESOLVED.match(event.message)
        if match is None:
            continue
        key = (match["image"], match["tag"])
        if key not in seen or event.time < seen[key]:
            seen[key] = event.time
    committed: dict[tuple[str, str], datetime] = {}
    for run in runs:
        for change in run.changes:
            for key in _set_by(change.get("new", ""), seen):
                if key not in committed or run.time < committed[key]:
                    committed[key] = run.time
    entries = []
    for (image, tag), when in seen.items():
        done = committed.get((image, tag))
        latency = (done - when).total_seconds() if done is not None else None
        entries.append(TimelineEntry(image, tag, iso(when), iso(done) if done else None, latency))
    return sorted(entries, key=lambda e: (e.image, e.seen, e.tag))


def _set_by(value: str, seen: Mapping[tuple[str, str], datetime]) -> list[tuple[str, str]]:
    """The (image, tag) pairs a new value sets: ``image:tag``, or the bare tag."""
    return [
        (image, tag)
        for image, tag in seen
        if value == f"{image}:{tag}" or value.startswith(f"{image}:{tag}@") or value == tag
    ]
