"""Read and write JSON sops files (also used for the binary store's JSON envelope).

Called by ``api``.  As in sops, every JSON number is a float, and output is tab-indented with
the ``sops`` object last.
"""

from __future__ import annotations

import json
import math
from datetime import date
from typing import Any

from tagpilot.adapters.sops.format import format_go_float, format_go_time
from tagpilot.adapters.sops.tree import Comment, Document, ListNode, MapNode, Node
from tagpilot.core.errors import InvalidInputError, SourceLocation

__all__ = ["emit_json", "load_json"]


def load_json(text: str, *, file: str) -> Document:
    """Parse a JSON object; numbers become floats, key order is kept."""
    try:
        parsed = json.loads(text, object_pairs_hook=_pairs, parse_int=float, parse_float=float)
    except json.JSONDecodeError as exc:
        raise InvalidInputError(
            f"not valid JSON: {exc.msg}", location=SourceLocation(file, exc.lineno)
        ) from exc
    except RecursionError:
        raise InvalidInputError(
            "JSON nested too deeply; expected an ordinary sops file", location=SourceLocation(file)
        ) from None
    if not isinstance(parsed, MapNode):
        raise InvalidInputError(
            "the JSON document must be an object", location=SourceLocation(file)
        )
    return parsed


def _pairs(pairs: list[tuple[str, Any]]) -> MapNode:
    return MapNode(tuple((key, _node(value)) for key, value in pairs))


def _node(value: Any) -> Node:
    if isinstance(value, list):
        return ListNode(tuple(_node(v) for v in value))
    return value  # type: ignore[no-any-return]


def emit_json(document: Document) -> str:
    """Render tab-indented like sops, ending with a newline."""
    return _render(document, 0) + "\n"


def _render(node: Node, depth: int) -> str:
    if isinstance(node, MapNode):
        entries = [i for i in node.items if not isinstance(i, Comment)]
        parts = [
            f"{json.dumps(k, ensure_ascii=False)}: {_render(v, depth + 1)}" for k, v in entries
        ]
        return _wrap("{", "}", parts, depth)
    if isinstance(node, ListNode):
        parts = [_render(v, depth + 1) for v in node.items if not isinstance(v, Comment)]
        return _wrap("[", "]", parts, depth)
    return _scalar(node)


def _wrap(open_: str, close: str, parts: list[str], depth: int) -> str:
    if not parts:
        return open_ + close
    inner = "\t" * (depth + 1)
    return open_ + "\n" + ",\n".join(inner + p for p in parts) + "\n" + "\t" * depth + close


def _scalar(value: Node) -> str:
    if isinstance(value, bool) or value is None or isinstance(value, int | str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise ValueError("JSON cannot hold NaN or infinity")
        if value != 0 and not 1e-6 <= abs(value) < 1e21:
            return repr(value)
        return format_go_float(value)
    if isinstance(value, date):
        return json.dumps(format_go_time(value))
    raise TypeError(f"cannot write {type(value).__name__} as JSON")
