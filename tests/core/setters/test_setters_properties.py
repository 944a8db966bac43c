"""Property: rewriting generated marked files yields the new values and touches no other line."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from tagpilot.core.setters import PolicyTarget, apply_setters
from tagpilot.core.setters._render import double_quoted

SETTERS = ["ns:a", "ns:a:tag", "ns:a:name", "ns:a:digest", "ns:b", "ns:gone"]
VALUE_TEXT = st.text(
    alphabet=st.sampled_from("abcxyz019.-_:/@ #'\"\\yesonulTRUE~"), min_size=0, max_size=12
)
AMBIGUOUS = st.sampled_from(["1.10", "20251115", "yes", "null", "~", "", "1e3", "0x1F", "on"])
NEW_VALUE = st.one_of(VALUE_TEXT, AMBIGUOUS)


@dataclass(frozen=True)
class Entry:
    """One ``key: value`` line, maybe marked, in one of three quote styles."""

    key: str
    old: str
    style: str
    setter: str | None
    as_item: bool

    def render(self, indent: str) -> list[str]:
        """The entry's lines: an item with a head-comment marker, or a key with a line comment."""
        quoted = {
            "double": double_quoted(self.old),
            "single": "'" + self.old.replace("'", "''") + "'",
        }
        value = quoted.get(self.style, self.old)
        marker = f'# {{"$imagepolicy": "{self.setter}"}}' if self.setter else "# note"
        if self.as_item:
            return [f"{indent}{self.key}:", f"{indent}{marker}", f"{indent}- {value}"]
        return [f"{indent}{self.key}: {value} {marker}"]


PLAIN_OLD = st.sampled_from(["v1", "1.9", "app:1.0", "localhost:5000/x:1", "dev-1.2", "~"])
QUOTED_ENTRY = st.builds(
    Entry,
    key=st.just(""),
    old=VALUE_TEXT,
    style=st.sampled_from(["double", "single"]),
    setter=st.one_of(st.none(), st.sampled_from(SETTERS)),
    as_item=st.booleans(),
)
PLAIN_ENTRY = st.builds(
    Entry,
    key=st.just(""),
    old=PLAIN_OLD,
    style=st.just("plain"),
    setter=st.one_of(st.none(), st.sampled_from(SETTERS)),
    as_item=st.booleans(),
)
ENTRY = st.one_of(QUOTED_ENTRY, PLAIN_ENTRY)
TARGET = st.builds(PolicyTarget, name=NEW_VALUE, tag=NEW_VALUE, digest=NEW_VALUE)


def document(entries: list[Entry], indent: str, crlf: bool) -> tuple[str, list[Entry], list[int]]:
    """Render ``entries`` under ``root:`` with blank lines and comments between them.

    Returns the text, the entries with their keys, and each entry's value line index.
    """
    keyed = [Entry(f"k{i}", e.old, e.style, e.setter, e.as_item) for i, e in enumerate(entries)]
    lines = ["# generated", "root:"]
    value_lines = []
    for entry in keyed:
        lines += ["", f"{indent}# about {entry.key}", *entry.render(indent)]
        value_lines.append(len(lines) - 1)
    newline = "\r\n" if crlf else "\n"
    return newline.join(lines) + newline, keyed, value_lines


@settings(max_examples=150, deadline=None)
@given(
    entries=st.lists(ENTRY, min_size=1, max_size=6),
    a=TARGET,
    b=TARGET,
    indent=st.sampled_from(["  ", "    "]),
    crlf=st.booleans(),
)
def test_rewrite_then_reparse_gives_new_values_and_keeps_other_lines(
    entries: list[Entry], a: PolicyTarget, b: PolicyTarget, indent: str, crlf: bool
) -> None:
    text, keyed, value_lines = document(entries, indent, crlf)
    table = {"ns:a": a, "ns:b": b}
    expected_values = {"ns:a": a.full, "ns:a:tag": a.tag, "ns:a:name": a.name}
    expected_values |= {"ns:a:digest": a.digest, "ns:b": b.full}
    result = apply_setters(text, "f.yaml", table)
    assert result.problem is None
    loaded = YAML(typ="safe", pure=True).load(result.new_text)["root"]
    before = YAML(typ="safe", pure=True).load(text)["root"]
    changed_lines = set()
    for entry, line in zip(keyed, value_lines, strict=True):
        got, old = (
            (loaded[entry.key][0], before[entry.key][0])
            if entry.as_item
            else (loaded[entry.key], before[entry.key])
        )
        new = expected_values.get(entry.setter or "")
        # Like Flux, compare with the scalar's text: plain `~` stays when the new value is "~".
        changed = new is not None and new != entry.old
        assert got == (new if changed else old)
        if changed:
            changed_lines.add(line)
    old_lines, new_lines = text.splitlines(keepends=True), result.new_text.splitlines(keepends=True)
    assert len(old_lines) == len(new_lines)
    differing = {
        i for i, (old, new) in enumerate(zip(old_lines, new_lines, strict=True)) if old != new
    }
    assert differing == changed_lines
    assert len(result.records) == sum(
        1 for e in keyed if e.setter in expected_values and expected_values[e.setter] != e.old
    )
