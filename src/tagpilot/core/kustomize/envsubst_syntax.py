"""The ``${...}`` expression engine of Flux's envsubst fork: parse, then evaluate.

Pure string work, used by :mod:`tagpilot.core.kustomize.envsubst` (which owns the Flux
semantics around it and documents the operators).  The grammar follows Flux's scanner
closely, quirks included: an operand is either one nested ``${...}`` or one run of text;
``$$`` escapes a dollar; inside replace operands ``\\/`` and ``\\\\`` escape too; ``#``, ``%``
trims use a glob whose ``*`` crosses ``/``; lengths and substring offsets count UTF-8 bytes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

__all__ = ["EnvsubstError", "evaluate"]

_DEFAULT_OPERATORS = frozenset({"-", "+", "=", "?", ":-", ":+", ":=", ":?"})


class EnvsubstError(ValueError):
    """Expansion failed; the message is Flux's phrase (``bad substitution``, ...)."""


class _SyntaxError(Exception):
    """A malformed ``${...}`` expression; the message is the parser's phrase."""


class _UnsetError(Exception):
    """Strict mode met a variable that has no value; carries the variable name."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


# --- the expression tree ---------------------------------------------------------------


@dataclass(frozen=True)
class _Text:
    """Literal text."""

    value: str


@dataclass(frozen=True)
class _Func:
    """``${param<op>args}``: ``op`` is the operator text ("" for a bare reference)."""

    param: str
    op: str
    args: tuple[_Text | _Func, ...] = ()


_Node = _Text | _Func


def _is_ident(ch: str) -> bool:
    # Go's unicode.IsLetter / unicode.IsDigit (category Nd) or underscore.
    return ch.isalpha() or ch.isdecimal() or ch == "_"


class _Parser:
    """A recursive-descent reader of Flux's envsubst grammar over one string."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def peek(self, offset: int = 0) -> str:
        i = self.pos + offset
        return self.text[i] if i < len(self.text) else ""

    def at_expression(self) -> bool:
        return self.text.startswith("${", self.pos)

    def document(self) -> list[_Node]:
        nodes: list[_Node] = []
        out: list[str] = []
        while self.pos < len(self.text):
            if self.at_expression():
                if out:
                    nodes.append(_Text("".join(out)))
                    out = []
                self.pos += 2
                nodes.append(self.expression())
            elif self.text.startswith("$$", self.pos):
                out.append("$")
                self.pos += 2
            else:
                out.append(self.text[self.pos])
                self.pos += 1
        if out:
            nodes.append(_Text("".join(out)))
        return nodes

    def run(self, stop: Callable[[str], bool], *, escapes: bool) -> str:
        """Text up to a stop character, the end, or the start of a nested ``${``."""
        out: list[str] = []
        while self.pos < len(self.text) and not self.at_expression():
            ch = self.text[self.pos]
            if escapes and ch == "$" and self.peek(1) == "$":
                out.append("$")
                self.pos += 2
                continue
            if escapes and ch == "\\" and self.peek(1) in ("/", "\\"):
                out.append(self.peek(1))
                self.pos += 2
                continue
            if stop(ch):
                break
            out.append(ch)
            self.pos += 1
        return "".join(out)

    def param(self, stop: Callable[[str], bool], *, escapes: bool = False) -> _Node:
        """One operand: a nested expression or one run of text (never both)."""
        if self.at_expression():
            self.pos += 2
            return self.expression()
        text = self.run(stop, escapes=escapes)
        if not text:
            raise _SyntaxError("unable to parse substitution within function")
        return _Text(text)

    def close(self) -> None:
        if self.peek() != "}":
            raise _SyntaxError("bad substitution")
        self.pos += 1

    def repeat(self, allowed: str, limit: int) -> str:
        start = self.pos
        while self.pos - start < limit and self.peek() != "" and self.peek() in allowed:
            self.pos += 1
        return self.text[start : self.pos]

    def expression(self) -> _Func:
        """Everything after ``${`` up to and including the matching ``}``."""
        if self.peek() == "#":
            self.pos += 1
            name = self.name(error="bad substitution")
            self.close()
            return _Func(name, "#")
        name = self.name(error="unable to parse variable name")
        nxt = self.peek()
        if nxt == ":":
            if self.peek(1) in ("=", "-", "?", "+") and self.peek(1):
                self.pos += 2
                return self.defaults(name, ":" + self.text[self.pos - 1])
            return self.substring(name)
        if nxt == "=":
            self.pos += 1
            return self.defaults(name, "=")
        if nxt in (",", "^") and nxt:
            op = self.repeat(",^", 2)
            self.close()
            return _Func(name, op)
        if nxt == "/":
            return self.replace(name)
        if nxt in ("#", "%") and nxt:
            op = self.repeat(nxt, 2)
            arg = self.param(lambda ch: ch == "}")
            self.close()
            return _Func(name, op, (arg,))
        if nxt != "}":
            raise _SyntaxError("missing closing brace")
        self.pos += 1
        return _Func(name, "")

    def name(self, *, error: str) -> str:
        start = self.pos
        while self.pos < len(self.text) and _is_ident(self.text[self.pos]):
            self.pos += 1
        if self.pos == start:
            raise _SyntaxError(error)
        return self.text[start : self.pos]

    def defaults(self, name: str, op: str) -> _Func:
        args: list[_Node] = []
        while self.peek() != "}":
            if not self.peek():
                raise _SyntaxError("unable to parse substitution within function")
            args.append(self.param(lambda ch: ch == "}"))
        self.pos += 1
        return _Func(name, op, tuple(args))

    def substring(self, name: str) -> _Func:
        self.pos += 1  # the colon
        args = [self.param(lambda ch: ch in (":", "}"))]
        if self.peek() == "}":
            self.pos += 1
            return _Func(name, ":", tuple(args))
        if self.peek() != ":":
            raise _SyntaxError("bad substitution")
        self.repeat(":", len(self.text))
        args.append(self.param(lambda ch: ch == "}"))
        self.close()
        return _Func(name, ":", tuple(args))

    def replace(self, name: str) -> _Func:
        op = "/" + (
            self.text[self.pos + 1] if self.peek(1) in ("/", "#", "%") and self.peek(1) else ""
        )
        self.pos += len(op)
        args: list[_Node] = []
        if self.peek() == "/":
            args.append(_Text(""))  # an empty pattern: ${v/#/prefix}
        else:
            args.append(self.param(lambda ch: ch == "/", escapes=True))
        if self.peek() != "/":
            raise _SyntaxError("bad substitution")
        self.repeat("/", len(self.text))
        if self.peek() == "}":
            self.pos += 1
            return _Func(name, op, tuple(args))
        args.append(self.param(lambda ch: ch == "}", escapes=True))
        self.close()
        return _Func(name, op, tuple(args))


# --- the operators -----------------------------------------------------------------------


def _glob(pattern: str, text: str) -> bool:
    """Shell-glob match of the whole text; ``*`` and ``?`` also match ``/``.

    Raises ``ValueError`` for a malformed pattern (an unclosed class or a trailing ``\\``).
    """
    out: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "*":
            out.append(".*")
        elif ch == "?":
            out.append(".")
        elif ch == "\\":
            if i + 1 >= len(pattern):
                raise ValueError("bad pattern")
            i += 1
            out.append(re.escape(pattern[i]))
        elif ch == "[":
            end = pattern.find("]", i + 2 if pattern[i + 1 : i + 2] == "^" else i + 1)
            if end < 0:
                raise ValueError("bad pattern")
            body = pattern[i + 1 : end]
            negate = body.startswith("^")
            body = body[1:] if negate else body
            escaped = "".join(c if c == "-" else re.escape(c) for c in body)
            out.append("[" + ("^" if negate else "") + escaped + "]")
            i = end
        else:
            out.append(re.escape(ch))
        i += 1
    try:
        return re.fullmatch("".join(out), text, re.DOTALL) is not None
    except re.error as exc:
        raise ValueError("bad pattern") from exc


def _trim_prefix(value: str, pattern: str, *, longest: bool) -> str:
    # Candidate prefixes run from the whole string down to one character; never empty.
    for size in range(len(value), 0, -1) if longest else range(1, len(value) + 1):
        try:
            matched = _glob(pattern, value[:size])
        except ValueError:
            return value
        if matched:
            return value[size:]
    return value


def _trim_suffix(value: str, pattern: str, *, longest: bool) -> str:
    # Flux reverses the string and the pattern and trims a prefix; kept for fidelity.
    return _trim_prefix(value[::-1], pattern[::-1], longest=longest)[::-1]


def _substring(value: str, args: Sequence[str]) -> str:
    raw = value.encode()
    try:
        pos = int(args[0])
    except ValueError:
        return value
    pos = max(len(raw) + pos, 0) if pos < 0 else pos
    if len(args) == 1:
        return raw[pos:].decode(errors="replace")
    try:
        length = int(args[1])
    except ValueError:
        return value
    if length < 0:
        end = len(raw) + length
        return "" if end < pos else raw[pos:end].decode(errors="replace")
    return raw[pos : pos + length].decode(errors="replace")


def _apply(op: str, value: str, args: Sequence[str]) -> str:
    """What one operator makes of a value and its evaluated arguments."""
    if op == "#" and not args:
        return str(len(value.encode()))
    if op in ("#", "##", "%", "%%"):
        trim = _trim_prefix if op[0] == "#" else _trim_suffix
        return trim(value, args[0], longest=len(op) == 2)
    if op == ":":
        return _substring(value, args)
    if op in ("/", "//"):
        new = args[1] if len(args) > 1 else ""
        return value.replace(args[0], new, 1 if op == "/" else -1)
    if op == "/#":
        if len(args) == 2 and value.startswith(args[0]):
            return args[1] + value[len(args[0]) :]
        return value
    if op == "/%":
        if len(args) == 2 and value.endswith(args[0]):
            return value[: len(value) - len(args[0])] + args[1]
        return value
    casing: dict[str, Callable[[str], str]] = {
        ",": lambda s: s[:1].lower() + s[1:],
        ",,": str.lower,
        "^": lambda s: s[:1].upper() + s[1:],
        "^^": str.upper,
    }
    if op in casing:
        return casing[op](value)
    # Bare references, the default operators and unknown casings: the value, or the
    # concatenated arguments when the value is empty.
    return value if value or not args else "".join(args)


def _evaluate(node: _Node, variables: Mapping[str, str], strict: bool) -> str:
    if isinstance(node, _Text):
        return node.value
    # Arguments first, as Flux does: a missing variable inside a default fails too.
    args = [_evaluate(arg, variables, strict) for arg in node.args]
    if node.param not in variables and strict and node.op not in _DEFAULT_OPERATORS:
        raise _UnsetError(node.param)
    return _apply(node.op, variables.get(node.param, ""), args)


def evaluate(text: str, variables: Mapping[str, str], *, strict: bool) -> str:
    """Expand every ``${...}`` in ``text``, or raise :class:`EnvsubstError`."""
    try:
        nodes = _Parser(text).document()
        return "".join(_evaluate(node, variables, strict) for node in nodes)
    except _SyntaxError as exc:
        raise EnvsubstError(str(exc)) from None
    except _UnsetError as exc:
        raise EnvsubstError(f'variable not set (strict mode): "{exc.name}"') from None
