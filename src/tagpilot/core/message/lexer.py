"""Lexer for Go ``text/template`` source, used by the template parser.

Produces the token stream Go's lexer would: text between actions, then the tokens of
each action (spaces are tokens, because ``.A .B`` and ``.A.B`` differ).  Trim markers
(``{{- `` and `` -}}``) remove the adjacent whitespace of the neighbouring text here,
and comments are dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from tagpilot.core.message.failures import EngineSyntaxError

__all__ = ["KEYWORDS", "Kind", "Token", "tokenize"]

LEFT = "{{"
RIGHT = "}}"
SPACE_CHARS = " \t\r\n"
KEYWORDS = frozenset(
    {"block", "break", "continue", "define", "else", "end", "if", "range", "template", "with"}
)


class Kind(Enum):
    """Token kinds of the template language."""

    TEXT = "text"
    LEFT = "{{"
    RIGHT = "}}"
    SPACE = "space"
    IDENTIFIER = "identifier"
    KEYWORD = "keyword"
    FIELD = "field"
    VARIABLE = "variable"
    DOT = "."
    STRING = "string"
    RAW_STRING = "raw string"
    CHAR_CONSTANT = "char constant"
    NUMBER = "number"
    BOOL = "bool"
    NIL = "nil"
    DECLARE = ":="
    ASSIGN = "="
    PIPE = "|"
    LEFT_PAREN = "("
    RIGHT_PAREN = ")"
    CHAR = "char"
    EOF = "EOF"


@dataclass(frozen=True)
class Token:
    """One lexeme: its kind, its source text and its offset in the template."""

    kind: Kind
    value: str
    pos: int


def _is_alnum(char: str) -> bool:
    return char == "_" or char.isalpha() or char.isdigit()


class _Lexer:
    def __init__(self, source: str) -> None:
        self.src = source
        self.pos = 0
        self.tokens: list[Token] = []
        self.paren_depth = 0

    def fail(self, message: str, pos: int | None = None) -> EngineSyntaxError:
        at = self.pos if pos is None else pos
        return EngineSyntaxError(message, self.src.count("\n", 0, at) + 1)

    def emit(self, kind: Kind, start: int) -> None:
        self.tokens.append(Token(kind, self.src[start : self.pos], start))

    def run(self) -> list[Token]:
        trim_next_text = False
        while True:
            start = self.pos
            found = self.src.find(LEFT, self.pos)
            end = len(self.src) if found < 0 else found
            if trim_next_text:
                while start < end and self.src[start] in SPACE_CHARS:
                    start += 1
            trim_left = found >= 0 and self._has_left_trim(found + len(LEFT))
            text_end = end
            if trim_left:
                while text_end > start and self.src[text_end - 1] in SPACE_CHARS:
                    text_end -= 1
            if text_end > start:
                self.tokens.append(Token(Kind.TEXT, self.src[start:text_end], start))
            if found < 0:
                self.tokens.append(Token(Kind.EOF, "", len(self.src)))
                return self.tokens
            trim_next_text = self._action(found, trim_left)

    def _has_left_trim(self, at: int) -> bool:
        return self.src[at : at + 1] == "-" and self.src[at + 1 : at + 2] in tuple(SPACE_CHARS)

    def _at_right(self) -> tuple[bool, bool]:
        rest = self.src[self.pos :]
        if len(rest) >= 2 and rest[0] in SPACE_CHARS and rest[1:].startswith("-" + RIGHT):
            return True, True
        return rest.startswith(RIGHT), False

    def _action(self, start: int, trim_left: bool) -> bool:
        self.pos = start + len(LEFT) + (2 if trim_left else 0)
        if self.src.startswith("/*", self.pos):
            return self._comment(start)
        self.tokens.append(Token(Kind.LEFT, LEFT, start))
        self.paren_depth = 0
        while True:
            at_right, trim = self._at_right()
            if at_right and self.paren_depth == 0:
                right_start = self.pos
                self.pos += len(RIGHT) + (2 if trim else 0)
                self.tokens.append(Token(Kind.RIGHT, RIGHT, right_start))
                return trim
            if at_right:
                raise self.fail("unclosed left paren")
            self._inside_action()

    def _comment(self, start: int) -> bool:
        close = self.src.find("*/", self.pos + 2)
        if close < 0:
            raise self.fail("unclosed comment", start)
        self.pos = close + 2
        at_right, trim = self._at_right()
        if not at_right:
            raise self.fail("comment ends before closing delimiter", start)
        self.pos += len(RIGHT) + (2 if trim else 0)
        return trim

    def _inside_action(self) -> None:
        start = self.pos
        if self.pos >= len(self.src):
            raise self.fail("unclosed action")
        char = self.src[self.pos]
        if char in SPACE_CHARS:
            self._skip_while(lambda c: c in SPACE_CHARS and not self._space_before_right())
            self.emit(Kind.SPACE, start)
        elif char == "=":
            self.pos += 1
            self.emit(Kind.ASSIGN, start)
        elif char == ":":
            if not self.src.startswith(":=", self.pos):
                raise self.fail("expected :=")
            self.pos += 2
            self.emit(Kind.DECLARE, start)
        elif char == "|":
            self.pos += 1
            self.emit(Kind.PIPE, start)
        else:
            self._operand_token(char, start)

    def _space_before_right(self) -> bool:
        rest = self.src[self.pos :]
        return len(rest) >= 2 and rest[1] == "-" and rest[2:].startswith(RIGHT)

    def _operand_token(self, char: str, start: int) -> None:
        nxt = self.src[self.pos + 1 : self.pos + 2]
        if char == '"':
            self._quoted('"', Kind.STRING, "unterminated quoted string")
        elif char == "`":
            self._raw_string()
        elif char == "'":
            self._quoted("'", Kind.CHAR_CONSTANT, "unterminated character constant")
        elif char == "$":
            self.pos += 1
            self._skip_while(_is_alnum)
            self._emit_checked(Kind.VARIABLE, start)
        elif char == "." and nxt.isdigit():
            self._number(start)
        elif char == ".":
            self._field(start)
        elif char in "+-" or char.isdigit():
            self._number(start)
        elif _is_alnum(char):
            self._identifier(start)
        else:
            self._punctuation(char, start)

    def _punctuation(self, char: str, start: int) -> None:
        self.pos += 1
        if char == "(":
            self.paren_depth += 1
            self.emit(Kind.LEFT_PAREN, start)
        elif char == ")":
            self.paren_depth -= 1
            if self.paren_depth < 0:
                raise self.fail("unexpected right paren")
            self.emit(Kind.RIGHT_PAREN, start)
        elif char.isascii() and char.isprintable():
            self.emit(Kind.CHAR, start)
        else:
            raise self.fail(f"unrecognized character in action: U+{ord(char):04X}")

    def _skip_while(self, keep: Callable[[str], bool]) -> None:
        while self.pos < len(self.src) and keep(self.src[self.pos]):
            self.pos += 1

    def _emit_checked(self, kind: Kind, start: int) -> None:
        if self.pos < len(self.src) and not self._at_terminator():
            raise self.fail(f"bad character U+{ord(self.src[self.pos]):04X}")
        self.emit(kind, start)

    def _at_terminator(self) -> bool:
        char = self.src[self.pos]
        if char in SPACE_CHARS or char in ".,|:)(=":
            return True
        return self.src.startswith(RIGHT, self.pos)

    def _field(self, start: int) -> None:
        self.pos += 1
        if self.pos >= len(self.src) or not _is_alnum(self.src[self.pos]):
            self._emit_checked(Kind.DOT, start)
            return
        self._skip_while(_is_alnum)
        self._emit_checked(Kind.FIELD, start)

    def _identifier(self, start: int) -> None:
        self._skip_while(_is_alnum)
        word = self.src[start : self.pos]
        if word in KEYWORDS:
            kind = Kind.KEYWORD
        elif word in ("true", "false"):
            kind = Kind.BOOL
        elif word == "nil":
            kind = Kind.NIL
        else:
            kind = Kind.IDENTIFIER
        self._emit_checked(kind, start)

    def _number(self, start: int) -> None:
        """Go's ``lexNumber``: one number, or a complex ``1+2i`` written without spaces."""
        if not self._scan_number():
            raise self.fail(f"bad number syntax: {self.src[start : self.pos]!r}")
        complex_part = self.src[self.pos : self.pos + 1] in ("+", "-")
        if complex_part and (not self._scan_number() or self.src[self.pos - 1] != "i"):
            raise self.fail(f"bad number syntax: {self.src[start : self.pos]!r}")
        self.emit(Kind.NUMBER, start)

    def _accept(self, chars: str) -> bool:
        if self.pos < len(self.src) and self.src[self.pos] in chars:
            self.pos += 1
            return True
        return False

    def _accept_run(self, chars: str) -> None:
        self._skip_while(lambda c: c in chars)

    def _scan_number(self) -> bool:
        """Go's ``scanNumber``: sign, base prefix, digits, fraction, exponent, ``i``."""
        self._accept("+-")
        digits, exponent = "0123456789_", "eE"
        if self._accept("0"):
            if self._accept("xX"):
                digits, exponent = "0123456789abcdefABCDEF_", "pP"
            elif self._accept("oO"):
                digits = "01234567_"
            elif self._accept("bB"):
                digits = "01_"
        self._accept_run(digits)
        if self._accept("."):
            self._accept_run(digits)
        if self._accept(exponent):
            self._accept("+-")
            self._accept_run("0123456789_")
        self._accept("i")
        if self.pos < len(self.src) and _is_alnum(self.src[self.pos]):
            self.pos += 1
            return False
        return True

    def _quoted(self, quote: str, kind: Kind, unterminated: str) -> None:
        start = self.pos
        self.pos += 1
        while True:
            if self.pos >= len(self.src) or self.src[self.pos] == "\n":
                raise self.fail(unterminated)
            char = self.src[self.pos]
            self.pos += 2 if char == "\\" else 1
            if char == quote:
                break
        self.emit(kind, start)

    def _raw_string(self) -> None:
        start = self.pos
        close = self.src.find("`", self.pos + 1)
        if close < 0:
            raise self.fail("unterminated raw quoted string")
        self.pos = close + 1
        self.emit(Kind.RAW_STRING, start)


def tokenize(source: str) -> list[Token]:
    """Split ``source`` into tokens; raises ``EngineSyntaxError`` on malformed input."""
    return _Lexer(source).run()
