"""Finding the marked scalars of a YAML file, with their exact offsets in the text.

ruamel.yaml's composer parses the file (so aliases, flow collections and multi-line
scalars are understood by a real parser); this module then looks at the bytes around
each scalar node to read the comment Flux would consult.  ``apply_setters`` calls
``locate_markers``; nothing here changes text.

Comments naming ``$imagepolicy`` that Flux would not act on — broken JSON, or a good
marker where no value scalar consults it — come back as ``StrayMarker``s with the reason.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.constructor import SafeConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.resolver import VersionedResolver

from tagpilot.api.yamlguard import YamlLimitError, YamlTooDeepError, check_yaml_limits
from tagpilot.core.changes import ObjectIdentity
from tagpilot.core.setters._markers import MARKER_KEY, marker_problem, marker_setter

__all__ = ["LIBYAML_PARSER", "LocatedMarkers", "MarkedScalar", "StrayMarker", "locate_markers"]

_NULL_TAG = "tag:yaml.org,2002:null"
_C_PARSER: type | None = YAML(typ="safe").Parser
_HAS_C_PARSER = _C_PARSER is not YAML(typ="safe", pure=True).Parser
LIBYAML_PARSER = _HAS_C_PARSER
"""True when ruamel.yaml's libyaml extension (``ruamel.yaml.clib``) speeds up parsing."""
_BLOCK_STYLES = ("|", ">")
_STRING_TAGS = ("!", "!!str", "!<tag:yaml.org,2002:str>")
_LINE_COMMENT = re.compile(r"[ \t]+(#[^\r\n]*)")
_BLOCK_HEADER = re.compile(r"[|>][0-9+-]*(?:[ \t]+(#[^\r\n]*))?")
_ITEM_PREFIX = re.compile(r"[ \t]*-(?:[ \t]+-)*[ \t]+")
_COMMENT_LINE = re.compile(r"[ \t]*(#[^\r\n]*)")
# Anchored at line starts: unanchored, a search retries from every byte of a long line
# (quadratic on a 10 MB scalar).
_MARKER_LINE = re.compile(
    r"^[^\n]*" + re.escape(MARKER_KEY) + r"[^\n]*", re.IGNORECASE | re.MULTILINE
)
_COMMENT_START = re.compile(r"(?:^|(?<=[ \t]))#", re.MULTILINE)
NOT_CONSULTED = (
    "a marker Flux never reads here: it must end the line holding the value it updates "
    "(or, for a list item, be the one comment line above it)"
)


@dataclass(frozen=True)
class MarkedScalar:
    """A scalar carrying a marker: where its value text lies and what it holds now.

    ``start``/``end`` delimit the value text (anchor and tag excluded; for block
    scalars from the ``|``/``>`` indicator to the end of the content).  When a
    non-string tag must go, the span starts at it and ``kept_properties`` holds the
    anchors after it, to be written again.
    """

    setter: str
    line: int
    value: str
    style: str | None
    start: int
    end: int
    identity: ObjectIdentity
    kept_properties: str = ""


@dataclass(frozen=True)
class StrayMarker:
    """A comment naming ``$imagepolicy`` that updates nothing, and why."""

    line: int
    comment: str
    problem: str


@dataclass(frozen=True)
class LocatedMarkers:
    """The marked scalars of a file in document order, or why the file is a problem file."""

    scalars: tuple[MarkedScalar, ...] = ()
    problem: str | None = None
    stray: tuple[StrayMarker, ...] = ()


def locate_markers(text: str, path: str) -> LocatedMarkers:
    """Parse ``text`` and return its marked scalars; parse errors become a problem."""
    try:
        check_yaml_limits(text, file=path)
        documents = _compose(text)
        return _located(documents, text, path)
    except (RecursionError, YamlTooDeepError):
        return LocatedMarkers(problem=f"{path}: YAML nested too deeply; file left untouched")
    except YamlLimitError as error:
        return LocatedMarkers(problem=f"{error}; file left untouched")
    except YAMLError as error:
        return LocatedMarkers(problem=_parse_problem(error, path))


def _located(documents: list[Node], text: str, path: str) -> LocatedMarkers:
    found: list[MarkedScalar] = []
    consulted: set[int] = set()
    for root in documents:
        if _is_empty_document(root):
            continue
        if not isinstance(root, MappingNode):
            return LocatedMarkers(problem=_not_a_mapping(root, path))
        identity = _identity(root)
        found.extend(_marked(root, text, identity, consulted))
    odd = next((scalar for scalar in found if not _is_unicode(scalar.value)), None)
    if odd is not None:
        # ruamel's pure parser reads a "\ud800" escape as a lone surrogate; libyaml and
        # Go's parser refuse it, and no image reference can hold one.
        return LocatedMarkers(
            problem=f"{path}:{odd.line}: invalid Unicode escape (a lone surrogate) in a marked "
            "value; file left untouched"
        )
    stray = _stray_markers(documents, text, consulted)
    return LocatedMarkers(scalars=tuple(found), stray=tuple(stray))


def _stray_markers(documents: list[Node], text: str, consulted: set[int]) -> list[StrayMarker]:
    """Comments naming ``$imagepolicy`` that no scalar consulted, with what is wrong."""
    spans: list[tuple[int, int]] | None = None
    stray: list[StrayMarker] = []
    for line in _MARKER_LINE.finditer(text):
        if spans is None:
            spans = _scalar_spans(documents)
        start = _comment_start(text, line.start(), line.end(), spans)
        if start is None or start in consulted:
            continue
        comment = text[start : line.end()].rstrip("\r").rstrip()
        problem = marker_problem(comment)
        if problem is None and marker_setter(comment) is not None:
            problem = NOT_CONSULTED
        if problem is not None:
            stray.append(StrayMarker(text.count("\n", 0, start) + 1, comment, problem))
    return stray


def _comment_start(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> int | None:
    """Where the comment on ``text[start:end]`` begins: the first ``#`` outside a scalar."""
    for match in _COMMENT_START.finditer(text, start, end):
        if not any(low <= match.start() < high for low, high in spans):
            return match.start()
    return None


def _scalar_spans(documents: list[Node]) -> list[tuple[int, int]]:
    """(start, end) of every scalar, keys included: a ``#`` inside one is not a comment."""
    spans: list[tuple[int, int]] = []
    seen: set[int] = set()
    pending: list[Node] = list(documents)
    while pending:
        node = pending.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, ScalarNode):
            spans.append((int(node.start_mark.index), int(node.end_mark.index)))
        elif isinstance(node, MappingNode):
            pending.extend(item for pair in node.value for item in pair)
        elif isinstance(node, SequenceNode):
            pending.extend(node.value)
    return spans


def _is_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _compose(text: str) -> list[Node]:
    """Compose every document; the pure-Python parser is the reference.

    ruamel.yaml's libyaml parser, when installed, is about 20x faster; its marks count
    characters like the pure one (checked by tests) except that it does not count a
    leading byte-order mark, so such files go to the reference parser.  Whatever the C
    parser rejects is re-parsed by the reference parser, which decides, so verdicts and
    messages do not depend on whether the C extension is present.
    """
    if _HAS_C_PARSER and not text.startswith("\ufeff"):
        try:
            return _c_compose_all(text)
        except (YAMLError, UnicodeEncodeError):
            # libyaml takes UTF-8 bytes: lone surrogates fail there, the reference words it.
            pass
    return list(YAML(typ="safe", pure=True).compose_all(text))


def _c_compose_all(text: str) -> list[Node]:
    """What ``YAML(typ="safe").compose_all`` does with libyaml, without its set-up cost.

    A ``YAML()`` instance globs for plug-ins and builds a loader class on every call,
    which costs as much as composing a whole manifest; the class is built once here from
    the same parts (libyaml parser, safe constructor, versioned resolver).
    """
    loader = _c_loader_class()(text)
    try:
        documents = []
        while loader.check_node():
            documents.append(loader.get_node())
        return documents
    finally:
        loader.dispose()


@functools.cache
def _c_loader_class() -> type[Any]:
    parser: Any = _C_PARSER

    class _CLoader(parser, SafeConstructor, VersionedResolver):  # type: ignore[misc]
        def __init__(self, stream: str) -> None:
            parser.__init__(self, stream)
            self._parser = self._composer = self
            SafeConstructor.__init__(self, loader=self)
            self.allow_duplicate_keys = False
            VersionedResolver.__init__(self, version=None, loadumper=self)

        @property
        def processing_version(self) -> Any:
            return version

    # ruamel works the version out per scalar through two caught AttributeErrors (a libyaml
    # loader has no scanner to carry a %YAML directive): ask it once, answer it ever after.
    probe = _CLoader("")
    version = VersionedResolver.processing_version.fget(probe)  # type: ignore[attr-defined]
    probe.dispose()
    return _CLoader


def _parse_problem(error: YAMLError, path: str) -> str:
    if isinstance(error, MarkedYAMLError) and error.problem_mark is not None:
        line = error.problem_mark.line + 1
        return f"{path}:{line}: cannot parse YAML ({error.problem}); file left untouched"
    return f"{path}: cannot parse YAML ({error}); file left untouched"


def _not_a_mapping(root: Node, path: str) -> str:
    kind = "a list" if isinstance(root, SequenceNode) else "a scalar"
    return (
        f"{path}:{root.start_mark.line + 1}: document is {kind}, not a mapping; "
        "files with such documents are never updated (as in Flux); file left untouched"
    )


def _is_empty_document(root: Node) -> bool:
    return isinstance(root, ScalarNode) and root.tag == _NULL_TAG and root.value == ""


def _identity(root: MappingNode) -> ObjectIdentity:
    fields = _scalar_fields(root)
    metadata = next((v for k, v in root.value if k.value == "metadata"), None)
    meta = _scalar_fields(metadata) if isinstance(metadata, MappingNode) else {}
    return ObjectIdentity(
        api_version=fields.get("apiVersion", ""),
        kind=fields.get("kind", ""),
        name=meta.get("name", ""),
        namespace=meta.get("namespace", ""),
    )


def _scalar_fields(mapping: MappingNode) -> dict[str, str]:
    return {
        str(key.value): str(value.value)
        for key, value in mapping.value
        if isinstance(key, ScalarNode) and isinstance(value, ScalarNode)
    }


def _marked(
    root: Node, text: str, identity: ObjectIdentity, consulted: set[int]
) -> Iterator[MarkedScalar]:
    for node, item_floor in _scalars(root, set()):
        comment = _comment_of(node, text, item_floor)
        if comment is None:
            continue
        setter = marker_setter(comment[1])
        if setter is not None:
            consulted.add(comment[0])
            start, kept_properties = _splice_start(text, node)
            yield MarkedScalar(
                setter=setter,
                line=node.start_mark.line + 1,
                value=_logical_value(node),
                style=node.style or None,
                start=start,
                end=node.end_mark.index,
                kept_properties=kept_properties,
                identity=identity,
            )


_Found = Iterator[tuple[ScalarNode, int | None]]


def _scalars(node: Node, seen: set[int]) -> _Found:
    """Yield value scalars once each, with (for block-sequence items) where the item's
    head comment may begin: after the previous item.  An alias revisits its anchor's
    node, which is skipped.
    """
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, MappingNode):
        for key, value in node.value:
            seen.add(id(key))
            yield from _child_scalars(value, seen, None)
    elif isinstance(node, SequenceNode):
        floor = 0
        for item in node.value:
            yield from _child_scalars(item, seen, None if node.flow_style else floor)
            floor = _content_end(item)


def _content_end(node: Node) -> int:
    """Where a node's own text ends (collection end marks run on to the next token)."""
    while isinstance(node, MappingNode | SequenceNode) and node.value:
        last = node.value[-1]
        node = last[1] if isinstance(node, MappingNode) else last
    return int(node.end_mark.index) if isinstance(node, ScalarNode) else 0


def _child_scalars(node: Node, seen: set[int], item_floor: int | None) -> _Found:
    if not isinstance(node, ScalarNode):
        yield from _scalars(node, seen)
    elif id(node) not in seen:
        seen.add(id(node))
        yield node, item_floor


_Comment = tuple[int, str]
"""A comment's offset in the text and its text."""


def _comment_of(node: ScalarNode, text: str, item_floor: int | None) -> _Comment | None:
    """Flux consults the line comment, else (list items) the head comment: the first found."""
    comment = _line_comment(node, text)
    if comment is None and item_floor is not None:
        comment = _head_comment(text, node.start_mark.index, item_floor)
    return comment


def _line_comment(node: ScalarNode, text: str) -> _Comment | None:
    if node.style in _BLOCK_STYLES:
        header = _BLOCK_HEADER.match(text, _value_start(text, node.start_mark.index))
        return (header.start(1), header.group(1)) if header and header.group(1) else None
    match = _LINE_COMMENT.match(text, node.end_mark.index)
    return (match.start(1), match.group(1).rstrip()) if match else None


def _head_comment(text: str, start: int, floor: int) -> _Comment | None:
    """The single comment line directly above a block-sequence item, if that is all there is.

    go-yaml joins a multi-line head comment with newlines, which never parses as one
    JSON object, so only a lone comment line can be a marker.
    """
    line_start = text.rfind("\n", 0, start) + 1
    if not _ITEM_PREFIX.fullmatch(text, line_start, start) or line_start == 0:
        return None
    above_start = text.rfind("\n", 0, line_start - 1) + 1
    if above_start < floor:
        return None
    above = _COMMENT_LINE.fullmatch(text[above_start : line_start - 1].rstrip("\r"))
    if above is None:
        return None
    if above_start > 0:
        before_start = text.rfind("\n", 0, above_start - 1) + 1
        if _COMMENT_LINE.fullmatch(text[before_start : above_start - 1].rstrip("\r")):
            return None
    return above_start + above.start(1), above.group(1).rstrip()


def _value_start(text: str, index: int) -> int:
    """Skip an anchor (``&a``) and a tag (``!!str``) to where the value text begins."""
    return _properties(text, index)[-1][0]


def _splice_start(text: str, node: ScalarNode) -> tuple[int, str]:
    """Where the new value's text starts, and the properties to write again before it.

    The new value is always a string, so a non-string tag goes: ``tag: !!int 1`` becomes
    ``tag: v2`` (Flux would write ``!!int v2``, which no longer loads); anchors stay.
    """
    *properties, (value_start, _) = _properties(text, _properties_start(text, node))
    foreign = [i for i, (_, token) in enumerate(properties) if _is_foreign_tag(token)]
    if node.style in _BLOCK_STYLES or not foreign:
        return value_start, ""
    kept = [token for _, token in properties[foreign[0] :] if not _is_foreign_tag(token)]
    return properties[foreign[0]][0], "".join(f"{token} " for token in kept)


def _is_foreign_tag(token: str) -> bool:
    return token.startswith("!") and token not in _STRING_TAGS


def _properties_start(text: str, node: ScalarNode) -> int:
    """Where a node's anchor and tag begin on its line.

    The parsers disagree on whether the start mark of ``!!tag &anchor value`` covers
    the tag, so look back over any ``!``/``&`` tokens just before it.
    """
    index = int(node.start_mark.index)
    line_start = text.rfind("\n", 0, index) + 1
    while True:
        before = text[line_start:index].rstrip(" \t")
        token_start = max(before.rfind(" "), before.rfind("\t")) + 1
        token = before[token_start:]
        if not token.startswith(("!", "&")):
            return index
        index = line_start + token_start


def _properties(text: str, index: int) -> list[tuple[int, str]]:
    """(offset, token) of each anchor/tag before a node's value, then (value offset, "")."""
    found: list[tuple[int, str]] = []
    while index < len(text) and text[index] in "&!":
        start = index
        while index < len(text) and not text[index].isspace():
            index += 1
        found.append((start, text[start:index]))
        while index < len(text) and text[index].isspace():
            index += 1
    return [*found, (index, "")]


def _logical_value(node: ScalarNode) -> str:
    # A block scalar's final line break is chomping, not part of the image reference.
    return str(node.value).rstrip("\n") if node.style in _BLOCK_STYLES else str(node.value)
