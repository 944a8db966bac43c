"""Write sops trees as YAML the way sops does: 4-space indent, comments on their own lines.

Called by ``api`` for encrypted output and for decrypted plaintext.  Scalars are written so that
both Go ``yaml.v3`` and ruamel.yaml read back the same type and value: strings that could be
mistaken for another type are double-quoted, multi-line strings become literal blocks, times are
RFC 3339.
"""

from __future__ import annotations

import math
import re
from datetime import date

from tagpilot.adapters.sops.format import Scalar, format_go_time
from tagpilot.adapters.sops.tree import Comment, Document, ListNode, MapNode, Node

__all__ = ["emit_yaml", "yaml_scalar"]

INDENT = 4
_NOT_A_PLAIN_STRING = re.compile(
    r"""[-?:,\[\]{}#&*!|>'"%@`].*|.*(?::\s|\s\#|:$).*|[+]?\.(?i:inf|nan)|~|<<|="""
    r"|(?i:null|true|false|y|yes|n|no|on|off)"
)
# Anything YAML 1.1, YAML 1.2 or Go yaml.v3 might read as a number or a time gets quoted.
_NUMBER_OR_TIME = re.compile(
    r"[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?0[xX][0-9a-fA-F_]+|[-+]?0[oObB]?[0-9_]+|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?"
    r"|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt ].*)?"
    # ruamel reads these as numbers it then cannot build ("+_", "0x_", "._"): quote them too.
    r"|[-+][0-9_]*|[-+]?0[xXoObB][0-9a-fA-F_]*|[-+]?\.[0-9_]*"
)
_PLAIN_CHARS = re.compile(r"[^\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff\ud800-\udfff]+")
_ESCAPES = {"\n": "\\n", "\t": "\\t", "\r": "\\r", '"': '\\"', "\\": "\\\\"}


def emit_yaml(documents: list[Document]) -> str:
    """Render documents separated by ``---``, each ending with a newline."""
    return "---\n".join("\n".join(_map_lines(doc, 0)) + "\n" for doc in documents)


def _map_lines(node: MapNode, indent: int, nested: int | None = None) -> list[str]:
    """Lines of a mapping whose keys start at ``indent``; children go to ``nested``.

    Go yaml.v3 indents a mapping inside a sequence item relative to the dash, not to its keys,
    so ``nested`` differs from ``indent + INDENT`` there.
    """
    pad = " " * indent
    child = indent + INDENT if nested is None else nested
    lines: list[str] = []
    for item in node.items:
        if isinstance(item, Comment):
            lines.append(f"{pad}#{item.text}")
            continue
        key, value = item
        lines.extend(_entry_lines(f"{pad}{yaml_scalar(key, key=True)}:", value, child))
    return lines


def _entry_lines(head: str, value: Node, child: int) -> list[str]:
    if isinstance(value, MapNode) and value.items:
        return [head, *_map_lines(value, child)]
    if isinstance(value, ListNode) and value.items:
        return [head, *_list_lines(value, child)]
    if isinstance(value, MapNode | ListNode):
        return [f"{head} {'{}' if isinstance(value, MapNode) else '[]'}"]
    block = _literal_block(value, child)
    return [f"{head} {block[0]}", *block[1:]] if block else [f"{head} {yaml_scalar(value)}"]


def _list_lines(node: ListNode, indent: int) -> list[str]:
    pad = " " * indent
    lines: list[str] = []
    for item in node.items:
        if isinstance(item, Comment):
            lines.append(f"{pad}#{item.text}")
        elif isinstance(item, MapNode | ListNode) and item.items:
            lines.extend(_nested_item_lines(item, indent))
        else:
            lines.extend(_entry_lines(f"{pad}-", item, indent + INDENT))
    return lines


def _nested_item_lines(item: MapNode | ListNode, indent: int) -> list[str]:
    inner = indent + 2
    if isinstance(item, MapNode):
        nested = _map_lines(item, inner, indent + INDENT)
    else:
        nested = _list_lines(item, inner)
    first = nested[0][inner:]
    if first.startswith("#"):
        return [" " * indent + "-", *nested]
    return [" " * indent + "- " + first, *nested[1:]]


def _literal_block(value: Scalar, indent: int) -> list[str] | None:
    """Return a literal block (header, then lines) for a multi-line string, if one can hold it."""
    if not isinstance(value, str) or "\n" not in value or "\r" in value:
        return None
    body = value.rstrip("\n")
    if not body or not _PLAIN_CHARS.fullmatch(body.replace("\n", "").replace("\t", "") or "x"):
        return None
    first_text = next(line for line in body.split("\n") if line.strip())
    if first_text[0] in " \t":
        return None
    trailing = len(value) - len(body)
    chomp = "-" if trailing == 0 else "" if trailing == 1 else "+"
    lines = body.split("\n") + [""] * max(trailing - 1, 0)
    pad = " " * indent
    return ["|" + chomp, *[(pad + line) if line else "" for line in lines]]


def yaml_scalar(value: Scalar, *, key: bool = False) -> str:
    """Render one scalar on a single line so that it reads back with the same type."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _float_text(value)
    if isinstance(value, date):
        return format_go_time(value)
    if _is_plain(value):
        return value
    return _double_quoted(value)


def _float_text(value: float) -> str:
    if math.isnan(value):
        return ".nan"
    if math.isinf(value):
        return ".inf" if value > 0 else "-.inf"
    return repr(value)


def _is_plain(text: str) -> bool:
    return (
        bool(text)
        and text == text.strip()
        and _PLAIN_CHARS.fullmatch(text) is not None
        and _NOT_A_PLAIN_STRING.fullmatch(text) is None
        and _NUMBER_OR_TIME.fullmatch(text) is None
    )


def _double_quoted(text: str) -> str:
    out = []
    for char in text:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif _PLAIN_CHARS.fullmatch(char) is None:
            code = ord(char)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'
