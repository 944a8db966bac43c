"""Go ``Regexp.Expand`` templates, as Flux uses them for ``filterTags.extract``.

The template is parsed once into literal text and group references, so expanding it for
each matching tag is only slicing and joining.  Go's rules (``regexp.go``, ``expand`` and
``extract``), reproduced exactly:

* ``$name`` or ``${name}``; unbraced, the name is the *longest* run of letters, digits and
  ``_`` (Unicode letters and decimal digits count), so ``$1x`` is group "1x", never group 1
  followed by ``x``;
* a name made only of ASCII digits, without a leading zero and below 10^8 in value, is a
  group number (``$0`` is the whole match, ``$10`` is group 10); ``$01`` is a *name*;
* a reference to a group that does not exist or did not take part in the match is empty;
* ``$$`` is one ``$``; a malformed reference (``$-``, ``${1``, ``${}``, ``$}``, a trailing
  ``$``) copies the ``$`` literally and goes on after it.

Called by :mod:`tagpilot.core.policy.tagfilter`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

__all__ = ["ExpandTemplate", "GroupRef", "go_expand"]

_MAX_GROUP_NUMBER = 100_000_000


@dataclass(frozen=True)
class GroupRef:
    """A ``$name``/``${name}`` reference: its text and the group indices it may expand to."""

    name: str
    indices: tuple[int, ...]
    """Candidate group indices, first participating one wins (Go scans names in order)."""


@dataclass(frozen=True)
class ExpandTemplate:
    """A parsed template: literal strings interleaved with :class:`GroupRef` items."""

    template: str
    parts: tuple[str | GroupRef, ...]

    @classmethod
    def compile(cls, template: str, group_names: Sequence[str]) -> ExpandTemplate:
        """Parse ``template`` against a regex whose group ``i`` is named ``group_names[i]``.

        ``group_names[0]`` is the whole match ("" like every unnamed group).
        """
        parts: list[str | GroupRef] = []
        for item in _tokens(template):
            if isinstance(item, str):
                parts.append(item)
            else:
                parts.append(GroupRef(item[0], _resolve(item[0], group_names)))
        return cls(template, _merge_literals(parts))

    def unknown_names(self) -> tuple[str, ...]:
        """The referenced names that no group of the regex carries (they expand to "")."""
        return tuple(p.name for p in self.parts if isinstance(p, GroupRef) and not p.indices)

    def expand(self, text: str, span: Callable[[int], tuple[int, int]]) -> str:
        """Expand for one match of ``text``; ``span(i)`` is group ``i``'s span or (-1, -1).

        ``span`` is typically a match object's ``span`` method.
        """
        out: list[str] = []
        for part in self.parts:
            if isinstance(part, str):
                out.append(part)
                continue
            for index in part.indices:
                start, end = span(index)
                if start >= 0:
                    out.append(text[start:end])
                    break
        return "".join(out)


def go_expand(
    template: str, text: str, spans: Sequence[tuple[int, int]], names: Mapping[str, int]
) -> str:
    """Expand ``template`` once: a convenience for callers without a compiled regex.

    ``spans`` lists every group's span (index 0 the whole match, (-1, -1) when a group did
    not participate); ``names`` maps group names to indices.
    """
    group_names = [""] * len(spans)
    for name, index in names.items():
        group_names[index] = name
    return ExpandTemplate.compile(template, group_names).expand(text, spans.__getitem__)


def _tokens(template: str) -> list[str | tuple[str]]:
    """Split into literal strings and 1-tuples holding a reference name."""
    tokens: list[str | tuple[str]] = []
    rest = template
    while True:
        before, dollar, after = rest.partition("$")
        tokens.append(before)
        if not dollar:
            return tokens
        if after.startswith("$"):
            tokens.append("$")
            rest = after[1:]
            continue
        name, consumed = _reference(after)
        if name is None:
            tokens.append("$")
            rest = after
            continue
        tokens.append((name,))
        rest = after[consumed:]


def _reference(text: str) -> tuple[str | None, int]:
    """Go ``extract``: the leading name (braced or not) and how many characters it used."""
    braced = text.startswith("{")
    start = 1 if braced else 0
    end = start
    while end < len(text) and _is_name_char(text[end]):
        end += 1
    if end == start:
        return None, 0
    if braced:
        if end >= len(text) or text[end] != "}":
            return None, 0
        return text[start:end], end + 1
    return text[start:end], end


def _is_name_char(char: str) -> bool:
    # Go: unicode.IsLetter (category L*) or unicode.IsDigit (category Nd) or '_'.
    return char == "_" or char.isalpha() or char.isdecimal()


def _group_number(name: str) -> int:
    """Go's number rule: -1 unless ASCII digits, no leading zero, value below 10^8."""
    number = 0
    for char in name:
        if not ("0" <= char <= "9") or number >= _MAX_GROUP_NUMBER:
            return -1
        number = number * 10 + ord(char) - ord("0")
    if name[0] == "0" and len(name) > 1:
        return -1
    return number


def _resolve(name: str, group_names: Sequence[str]) -> tuple[int, ...]:
    number = _group_number(name)
    if number >= 0:
        return (number,) if number < len(group_names) else ()
    return tuple(i for i, group in enumerate(group_names) if group == name)


def _merge_literals(parts: list[str | GroupRef]) -> tuple[str | GroupRef, ...]:
    merged: list[str | GroupRef] = []
    for part in parts:
        if isinstance(part, str):
            if not part:
                continue
            if merged and isinstance(merged[-1], str):
                merged[-1] += part
                continue
        merged.append(part)
    return tuple(merged)
