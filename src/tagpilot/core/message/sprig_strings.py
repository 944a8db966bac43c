"""Sprig's hermetic word functions: ``abbrev``, ``initials``, ``wrap``, ``camelcase``...

Sprig takes these from ``Masterminds/goutils`` (abbreviation, initials, wrapping, case
swapping) and ``huandu/xstrings`` (snake, kebab and camel case); the rules here are
theirs, including their byte-oriented quirks (``abbrev`` counts bytes; ``initials``
looks at bytes).  Character classes are Unicode's, as Go's ``unicode`` package has them.
Part of ``functions``.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from functools import lru_cache

from tagpilot.core.message.calls import INT, STRING, CallContext, FuncSpec
from tagpilot.core.message.sprig_text import go_lower, go_upper

__all__ = ["STRING_FUNCS"]

_SPACES = frozenset("\t\n\v\f\r \x85\xa0")


def _is_space(char: str) -> bool:
    return char in _SPACES or (ord(char) > 0xFF and char.isspace())


@lru_cache(maxsize=4096)
def _category(char: str) -> str:
    return unicodedata.category(char)


def _is_upper(char: str) -> bool:
    return _category(char) == "Lu"


def _is_lower(char: str) -> bool:
    return _category(char) == "Ll"


def _text(raw: bytes) -> str:
    return raw.decode(errors="replace")


def _abbreviate(text: str, offset: int, width: int) -> str:
    """goutils' ``AbbreviateFull`` (lengths in bytes); widths below 4 leave ``text`` alone."""
    raw = text.encode()
    if not raw or len(raw) <= width:
        return text
    offset = min(offset, len(raw))
    if len(raw) - offset < width - 3:
        offset = len(raw) - (width - 3)
    if offset <= 4:
        return _text(raw[: width - 3]) + "..."
    if width < 7:
        return ""
    if offset + width - 3 < len(raw):
        return "..." + _abbreviate(_text(raw[offset:]), 0, width - 3)
    return "..." + _text(raw[len(raw) - (width - 3) :])


def _abbrev(ctx: CallContext, width: int, text: str) -> str:
    return text if width < 4 else _abbreviate(text, 0, width)


def _abbrevboth(ctx: CallContext, left: int, right: int, text: str) -> str:
    if right < 4 or (left > 0 and right < 7):
        return text
    return _abbreviate(text, left, right)


def _initials(ctx: CallContext, text: str) -> str:
    # goutils reads the string byte by byte, so a multi-byte letter yields its first byte.
    out, gap = [], True
    for char in (chr(byte) for byte in text.encode()):
        if _is_space(char):
            gap = True
        elif gap:
            out.append(char)
            gap = False
    return "".join(out)


def _untitle(ctx: CallContext, text: str) -> str:
    out, gap = [], True
    for char in text:
        if _is_space(char):
            gap = True
            out.append(char)
        else:
            out.append(go_lower(char) if gap else char)
            gap = False
    return "".join(out)


def _swapped(char: str, gap: bool) -> tuple[str, bool]:
    """goutils' ``SwapCase`` for one rune: (the new rune, whether a gap follows)."""
    if _is_upper(char) or _category(char) == "Lt":
        return go_lower(char), False
    if _is_lower(char):
        title = char.title()
        return (title if gap and len(title) == 1 else go_upper(char)), False
    return char, _is_space(char)


def _swapcase(ctx: CallContext, text: str) -> str:
    out, gap = [], True
    for char in text:
        swapped, gap = _swapped(char, gap)
        out.append(swapped)
    return "".join(out)


def _wrap_plain(ctx: CallContext, width: int, text: str) -> str:
    return _wrap(ctx, width, text)


def _wrap(ctx: CallContext, width: int, text: str, newline: str = "\n", long: bool = False) -> str:
    """goutils' ``WrapCustom``: break at the last space within ``width`` bytes."""
    raw, sep = text.encode(), (newline or "\n").encode()
    width = max(width, 1)
    out, offset = bytearray(), 0
    while len(raw) - offset > width:
        ctx.charge(1)
        if raw[offset : offset + 1] == b" ":
            offset += 1
            continue
        space = raw.rfind(b" ", offset, width + offset + 1)
        if space >= offset:
            out += raw[offset:space] + sep
            offset = space + 1
        elif long:
            out += raw[offset : offset + width] + sep
            offset += width
        else:
            space = raw.find(b" ", width + offset)
            if space < 0:
                out += raw[offset:]
                offset = len(raw)
            else:
                out += raw[offset:space] + sep
                offset = space + 1
        ctx.check_size(len(out), "string")
    return _text(bytes(out + raw[offset:]))


@lru_cache(maxsize=4096)
def _is_connector(char: str) -> bool:
    return char in "-_" or _is_space(char)


@lru_cache(maxsize=4096)
def _is_alphabet(char: str) -> bool:
    """xstrings' ``isAlphabet``: a letter that is not a CJK ideograph."""
    code = ord(char)
    if not _category(char).startswith("L"):
        return False
    ideographs = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0x20000, 0x2EBEF), (0x30000, 0x323AF))
    return not any(low <= code <= high for low, high in ideographs)


def _camelcase(ctx: CallContext, text: str) -> str:
    """xstrings' ``ToPascalCase``: connectors (``_``, ``-``, spaces) start upper-case words."""
    chars = list(text)
    out: list[str] = []
    index = 0
    while index < len(chars) and _is_connector(chars[index]):
        out.append(chars[index])
        index += 1
    if index == len(chars):
        return "".join(out)
    first_upper = _is_upper(chars[index])
    current = go_upper(chars[index])
    for char in chars[index + 1 :]:
        previous, current = current, char
        if _is_connector(current) and _is_connector(previous):
            out.append(previous)
            continue
        if _is_connector(previous):
            first_upper = _is_upper(current)
            current = go_upper(current)
        else:
            if first_upper:
                if _is_upper(current):
                    current = go_lower(current)
                else:
                    first_upper = False
            out.append(previous)
    out.append(current)
    return "".join(out)


@lru_cache(maxsize=4096)
def _word_kind(char: str) -> str:
    if _is_connector(char):
        return "connector"
    if _category(char).startswith("P"):
        return "punct"
    if _is_upper(char):
        return "upper"
    if _is_alphabet(char):
        return "alphabet"
    return "number" if _category(char).startswith("N") else "other"


def _run_end(text: str, end: int, keep: Callable[[str], bool]) -> int:
    while end < len(text) and keep(text[end]):
        end += 1
    return end


def _upper_word_end(text: str, end: int) -> int:
    if end < len(text) and _is_upper(text[end]):
        end = _run_end(text, end, _is_upper)
        if end < len(text) and _is_alphabet(text[end]):
            end -= 1  # "HTTPServer": the S starts the next word
        return end
    return _run_end(text, end, lambda c: _is_alphabet(c) and not _is_upper(c))


def _is_other(char: str) -> bool:
    category = _category(char)
    return not (_is_connector(char) or _is_alphabet(char) or category[0] in "NP")


def _words(text: str) -> list[tuple[str, str]]:
    """xstrings' ``nextWord`` applied throughout: (kind, text) of each run."""
    words: list[tuple[str, str]] = []
    index = 0
    while index < len(text):
        kind = _word_kind(text[index])
        if kind == "upper":
            end = _upper_word_end(text, index + 1)
        elif kind == "alphabet":
            end = _run_end(text, index + 1, lambda c: _is_alphabet(c) and not _is_upper(c))
        elif kind == "connector":
            end = _run_end(text, index + 1, _is_connector)
        elif kind == "punct":
            end = _run_end(text, index + 1, lambda c: _category(c).startswith("P"))
        elif kind == "number":
            end = _run_end(text, index + 1, lambda c: _category(c).startswith("N"))
        else:
            end = _run_end(text, index + 1, _is_other)
        words.append((kind, text[index:end]))
        index = end
    return words


def _lowered(kind: str, word: str, connector: str) -> str:
    if kind not in ("upper", "connector"):
        return word
    return "".join(connector if _is_connector(c) else go_lower(c) for c in word)


class _WordWriter:
    """xstrings' ``camelCaseToLowerCase`` state: the pending word and the output."""

    def __init__(self, text: str, connector: str) -> None:
        self.words = _words(text)
        self.position = 0
        self.connector = connector
        self.out: list[str] = []
        self.kind, self.word = self.advance()

    def advance(self) -> tuple[str, str]:
        if self.position >= len(self.words):
            return "invalid", ""
        self.position += 1
        return self.words[self.position - 1]

    def remaining(self) -> bool:
        return self.position < len(self.words)

    def write(self, kind: str, word: str) -> None:
        self.out.append(_lowered(kind, word, self.connector))

    def separate_unless(self, *kinds: str) -> None:
        if self.kind not in kinds:
            self.out.append(self.connector)

    def write_alphanumerics(self) -> None:
        while self.kind in ("alphabet", "number"):
            self.write(self.kind, self.word)
            self.kind, self.word = self.advance()

    def run(self) -> str:
        while self.remaining():
            if self.kind != "connector":
                self.write(self.kind, self.word)
            previous, last = self.kind, self.word
            self.kind, self.word = self.advance()
            if previous == "number":
                self.write_alphanumerics()
                self.separate_unless("invalid", "punct", "connector")
            elif previous == "connector":
                self.write(previous, last)
            elif previous != "punct":
                self.after_word()
        self.write(self.kind, self.word)
        return "".join(self.out)

    def after_word(self) -> None:
        if self.kind != "number":
            self.separate_unless("connector", "punct")
            return
        if not self.remaining():
            return
        number = self.word
        self.kind, self.word = self.advance()
        if self.kind != "alphabet":  # "Bld4Floor": the number belongs to the word
            self.write("number", number)
            self.separate_unless("connector", "punct")
            return
        self.out.append(self.connector)  # "HTTP2xx": the number starts a word
        self.write("number", number)
        self.write_alphanumerics()
        self.separate_unless("invalid", "connector", "punct")


def _lower_case_words(text: str, connector: str) -> str:
    return _WordWriter(text, connector).run() if text else ""


def _costly(steps_per_char: int, function: Callable[..., str]) -> Callable[..., str]:
    """Charge for rune-by-rune work up front (the text is the last argument)."""

    def call(ctx: CallContext, *args: object) -> str:
        text = args[-1]
        ctx.charge(steps_per_char * len(text) if isinstance(text, str) else 1)
        return function(ctx, *args)

    return call


def _snakecase(ctx: CallContext, text: str) -> str:
    return _lower_case_words(text, "_")


def _kebabcase(ctx: CallContext, text: str) -> str:
    return _lower_case_words(text, "-")


def _plural(ctx: CallContext, one: str, many: str, count: int) -> str:
    return one if count == 1 else many


STRING_FUNCS: tuple[FuncSpec, ...] = (
    FuncSpec("plural", _plural, (STRING, STRING, INT)),
    FuncSpec("abbrev", _abbrev, (INT, STRING)),
    FuncSpec("abbrevboth", _abbrevboth, (INT, INT, STRING)),
    FuncSpec("initials", _initials, (STRING,)),
    FuncSpec("untitle", _costly(1, _untitle), (STRING,)),
    FuncSpec("swapcase", _costly(2, _swapcase), (STRING,)),
    FuncSpec("wrap", _wrap_plain, (INT, STRING)),
    FuncSpec(
        "wrapWith",
        lambda ctx, width, sep, text: _wrap(ctx, width, text, sep, long=True),
        (INT, STRING, STRING),
    ),
    FuncSpec("camelcase", _costly(2, _camelcase), (STRING,)),
    FuncSpec("snakecase", _costly(4, _snakecase), (STRING,)),
    FuncSpec("kebabcase", _costly(4, _kebabcase), (STRING,)),
)
