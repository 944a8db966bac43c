"""Refuse hostile YAML before a recursive loader sees it: deep nesting and alias bombs.

ruamel.yaml's round-trip loader composes recursively (a few hundred levels of ``[[[...``
end in ``RecursionError``), its pure-Python scanner slows down with every open flow level,
and an alias is shared by the loader but copied by every converter after it, so nine
aliases per level for nine levels ("billion laughs") expand to ~400 million nodes.
:func:`check_yaml_limits` walks the parse events (libyaml's fast parser when installed,
no composition, no recursion) and raises :class:`YamlLimitError` when nesting passes
:data:`MAX_NESTING_DEPTH` or aliases would expand to more than :data:`MAX_ALIASED_NODES`
nodes.  Go's yaml parser (what Flux uses) refuses both too.  Syntax errors are left to the
caller's own parser, which words them.

Called by :func:`tagpilot.api.loader.load_text` and the SOPS YAML store before they load.
Pure: text in, nothing or an error out.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from ruamel.yaml.events import (
    AliasEvent,
    CollectionEndEvent,
    CollectionStartEvent,
    DocumentStartEvent,
    Event,
    ScalarEvent,
)

from tagpilot.core.errors import InvalidInputError, SourceLocation

try:
    from ruamel.yaml import cyaml

    _CParser: Any = getattr(cyaml, "CParser", None)
except ImportError:  # ruamel.yaml.clib is optional off CPython
    _CParser = None

__all__ = [
    "MAX_ALIASED_NODES",
    "MAX_NESTING_DEPTH",
    "YamlAliasBombError",
    "YamlLimitError",
    "YamlTooDeepError",
    "check_yaml_limits",
]

MAX_NESTING_DEPTH = 100
"""Deepest collection nesting accepted; Kubernetes objects stay far below 30."""

MAX_ALIASED_NODES = 100_000
"""Most nodes that aliases of one text may stand for once expanded."""


class YamlLimitError(InvalidInputError):
    """A YAML text nests too deeply or its aliases expand too far."""


class YamlTooDeepError(YamlLimitError):
    """Collections nest deeper than :data:`MAX_NESTING_DEPTH`."""


class YamlAliasBombError(YamlLimitError):
    """Aliases would expand to more than :data:`MAX_ALIASED_NODES` nodes."""


@dataclass
class _Frame:
    """One open collection: its anchor and how many nodes it holds so far (itself included)."""

    anchor: str | None
    size: int = 1


@dataclass
class _Tally:
    """Running state of the walk over one text's events."""

    file: str | None
    anchors: dict[str, int] = field(default_factory=dict)
    open: list[_Frame] = field(default_factory=list)
    aliased: int = 0

    def enter(self, event: CollectionStartEvent) -> None:
        self.open.append(_Frame(event.anchor))
        if len(self.open) > MAX_NESTING_DEPTH:
            raise YamlTooDeepError(
                f"YAML nested more than {MAX_NESTING_DEPTH} levels deep; "
                "expected an ordinary manifest",
                location=SourceLocation(self.file, event.start_mark.line + 1),
            )

    def leave(self) -> None:
        if self.open:
            frame = self.open.pop()
            self.add(frame.anchor, frame.size)

    def alias(self, event: AliasEvent) -> None:
        size = self.anchors.get(str(event.anchor), 1)
        self.aliased += size
        if self.aliased > MAX_ALIASED_NODES:
            raise YamlAliasBombError(
                f"YAML aliases expand to more than {MAX_ALIASED_NODES} nodes "
                "(an alias bomb?); expected aliases to be used sparingly",
                location=SourceLocation(self.file, event.start_mark.line + 1),
            )
        self.add(None, size)

    def add(self, anchor: str | None, size: int) -> None:
        if anchor is not None:
            self.anchors[anchor] = size
        if self.open:
            self.open[-1].size += size


def _events(text: str) -> Iterator[Event]:
    """Parse events of ``text`` (libyaml's parser when present); stop at the first error."""
    try:
        if _CParser is None:
            yield from YAML(typ="safe", pure=True).parse(text)
            return
        parser = _CParser(text)  # directly: a YAML() instance costs more than the parse
        try:
            while parser.check_event():
                yield parser.get_event()
        finally:
            parser.dispose()
    except (YAMLError, UnicodeError):
        return


def check_yaml_limits(text: str, *, file: str | None = None) -> None:
    """Raise :class:`YamlLimitError` (naming ``file`` and the line) for hostile ``text``.

    Text that does not parse passes as far as it parses; the caller's parser reports it.
    """
    tally = _Tally(file)
    for event in _events(text):
        if isinstance(event, CollectionStartEvent):
            tally.enter(event)
        elif isinstance(event, CollectionEndEvent):
            tally.leave()
        elif isinstance(event, AliasEvent):
            tally.alias(event)
        elif isinstance(event, ScalarEvent):
            tally.add(event.anchor, 1)
        elif isinstance(event, DocumentStartEvent):
            tally.anchors.clear()
