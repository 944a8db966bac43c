"""Read YAML documents into sops trees, typed as Go ``yaml.v3`` types them.

Called by ``api`` for ``.yaml``/``.yml`` files.  ruamel.yaml in YAML 1.2 mode gives the same
scalar types as sops' parser (``yes``/``on`` stay strings, ``0x1F`` is an int, unquoted dates are
times).  Comments are placed before the value that follows them, in the innermost collection at
their indentation, which is where sops would see them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from ruamel.yaml.tokens import CommentToken

from tagpilot.adapters.sops.format import INT64_MAX, INT64_MIN
from tagpilot.adapters.sops.tree import Comment, Document, ListNode, MapNode, Node
from tagpilot.api.yamlguard import check_yaml_limits
from tagpilot.core.errors import InvalidInputError, SourceLocation

__all__ = ["load_yaml"]

_CONSTRUCTOR_ERRORS = (
    *(ValueError, ArithmeticError, AssertionError, AttributeError, LookupError, TypeError),
    RecursionError,
)
_Slot = tuple[int, int]  # (id of the ruamel container, index of the item a comment precedes)


@dataclass(frozen=True)
class _Anchor:
    """Where one collection item starts, and which slot a comment before it goes to."""

    line: int
    column: int
    slot: _Slot


@dataclass(frozen=True)
class _CommentLine:
    line: int
    column: int
    text: str
    inline: bool


def load_yaml(text: str, *, file: str) -> list[Document]:
    """Parse every document of ``text``; raise ``InvalidInputError`` naming ``file``."""
    check_yaml_limits(text, file=file)
    yaml = YAML(typ="rt")
    yaml.version = (1, 2)
    try:
        raw_docs = [doc for doc in yaml.load_all(text) if doc is not None]
    except YAMLError as exc:
        raise InvalidInputError(
            f"not valid YAML: {_first_line(exc)}", location=SourceLocation(file)
        ) from exc
    except _CONSTRUCTOR_ERRORS as exc:
        # ruamel's constructors raise these for values their tag cannot hold (``!!int x``).
        raise InvalidInputError(
            f"YAML value cannot be read: {_first_line(exc)}", location=SourceLocation(file)
        ) from None
    if not raw_docs:
        raise InvalidInputError("the file holds no YAML document", location=SourceLocation(file))
    lines = text.splitlines()
    return [_document(doc, lines, file) for doc in raw_docs]


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _document(raw: Any, lines: list[str], file: str) -> Document:
    if not isinstance(raw, CommentedMap):
        raise InvalidInputError(
            "a document must be a mapping at the top level", location=SourceLocation(file)
        )
    anchors: list[_Anchor] = []
    _collect_anchors(raw, anchors)
    placement = _place_comments(_comment_lines(raw, lines), anchors, raw)
    converted = _convert(raw, placement, file, ())
    assert isinstance(converted, MapNode)
    return converted


def _collect_anchors(node: Any, anchors: list[_Anchor]) -> None:
    if isinstance(node, CommentedMap):
        for index, key in enumerate(node):
            line, column = node.lc.key(key)
            anchors.append(_Anchor(line, column, (id(node), index)))
            _collect_anchors(node[key], anchors)
    elif isinstance(node, CommentedSeq):
        for index, item in enumerate(node):
            line, column = node.lc.item(index)
            anchors.append(_Anchor(line, column, (id(node), index)))
            _collect_anchors(item, anchors)


def _tokens(obj: Any) -> list[CommentToken]:
    if isinstance(obj, CommentToken):
        return [obj]
    if isinstance(obj, list | tuple):
        return [token for part in obj for token in _tokens(part)]
    return []


def _all_tokens(node: Any, found: dict[int, CommentToken]) -> None:
    ca = getattr(node, "ca", None)
    if ca is not None:
        for token in _tokens([ca.comment, list(ca.items.values()), ca.end]):
            found[id(token)] = token
    children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
    for child in children:
        _all_tokens(child, found)


def _comment_lines(root: Any, lines: list[str]) -> list[_CommentLine]:
    found: dict[int, CommentToken] = {}
    _all_tokens(root, found)
    result: dict[int, _CommentLine] = {}
    for token in found.values():
        for comment in _split_token(token, lines):
            result[comment.line] = comment
    return [result[line] for line in sorted(result)]


def _split_token(token: CommentToken, lines: list[str]) -> list[_CommentLine]:
    """Turn one ruamel comment token (possibly many lines) into located comment lines."""
    value: str = token.value
    start = token.start_mark.line - (1 if value.startswith("\n") else 0)
    found = []
    for offset, part in enumerate(value.split("\n")):
        stripped = part.strip()
        if not stripped.startswith("#"):
            continue
        line = _locate(lines, start + offset, stripped)
        column = lines[line].rindex(stripped) if line < len(lines) else 0
        inline = bool(lines[line][:column].strip()) if line < len(lines) else False
        found.append(_CommentLine(line, column, stripped[1:], inline))
    return found


def _locate(lines: list[str], guess: int, stripped: str) -> int:
    for line in (guess, guess - 1, guess + 1, guess - 2, guess + 2):
        if 0 <= line < len(lines) and lines[line].rstrip().endswith(stripped):
            return line
    return guess


def _place_comments(
    comments: list[_CommentLine], anchors: list[_Anchor], root: Any
) -> dict[_Slot, list[str]]:
    ordered = sorted(anchors, key=lambda a: (a.line, a.column))
    placement: dict[_Slot, list[str]] = {}
    for comment in comments:
        placement.setdefault(_slot_for(comment, ordered, root), []).append(comment.text)
    return placement


def _slot_for(comment: _CommentLine, ordered: list[_Anchor], root: Any) -> _Slot:
    """Pick the item a comment precedes; sops moves inline comments before their own line."""
    if comment.inline:
        same_line = [a for a in ordered if a.line == comment.line and a.column < comment.column]
        if same_line:
            return same_line[-1].slot
    following = [a for a in ordered if a.line > comment.line]
    if following and following[0].column <= comment.column:
        return following[0].slot
    previous = [a for a in ordered if a.line < comment.line and a.column == comment.column]
    if previous:
        container, index = previous[-1].slot
        return (container, index + 1)
    return following[0].slot if following else (id(root), len(root))


def _convert(
    node: Any, placement: dict[_Slot, list[str]], file: str, path: tuple[str, ...]
) -> Node:
    if isinstance(node, CommentedMap):
        return _convert_map(node, placement, file, path)
    if isinstance(node, CommentedSeq):
        items: list[Node | Comment] = []
        for index, item in enumerate(node):
            items.extend(Comment(t) for t in placement.get((id(node), index), ()))
            items.append(_convert(item, placement, file, path))
        items.extend(Comment(t) for t in placement.get((id(node), len(node)), ()))
        return ListNode(tuple(items))
    return _scalar(node, file, path)


def _convert_map(
    node: CommentedMap, placement: dict[_Slot, list[str]], file: str, path: tuple[str, ...]
) -> MapNode:
    items: list[tuple[str, Node] | Comment] = []
    for index, key in enumerate(node):
        items.extend(Comment(t) for t in placement.get((id(node), index), ()))
        if not isinstance(key, str):
            line = node.lc.key(key)[0] + 1
            raise InvalidInputError(
                "sops supports only string mapping keys",
                location=SourceLocation(file, line, ".".join(path), repr(key)),
            )
        items.append((key, _convert(node[key], placement, file, (*path, key))))
    items.extend(Comment(t) for t in placement.get((id(node), len(node)), ()))
    return MapNode(tuple(items))


def _scalar(value: Any, file: str, path: tuple[str, ...]) -> Node:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        if not INT64_MIN <= value <= INT64_MAX:
            raise InvalidInputError(
                "integer does not fit in 64 bits (sops cannot encrypt it); quote it to keep "
                "it a string",
                location=SourceLocation(file, None, ".".join(path), _int_text(value)),
            )
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, datetime):
        plain = datetime.fromisoformat(value.isoformat())
        return plain if plain.tzinfo else plain.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, str):
        return str(value)
    raise InvalidInputError(
        f"unsupported YAML value of type {type(value).__name__}",
        location=SourceLocation(file, None, ".".join(path)),
    )


def _int_text(value: int) -> str:
    try:
        return str(value)
    except ValueError:  # past Python's 4300-digit limit for int to text
        return f"<a {value.bit_length()}-bit integer>"
