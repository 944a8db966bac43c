"""Which comments are ``$imagepolicy`` markers, and which scalars Flux would consult them for."""

from __future__ import annotations

from pathlib import Path

import pytest

from tagpilot.core.changes import ObjectIdentity
from tagpilot.core.setters import (
    PolicyTarget,
    _locate,
    apply_setters,
    marker_setter,
    unknown_hint,
)
from tagpilot.core.setters._markers import marker_problem

TABLE = {"ns:app": PolicyTarget("registry.example.com/app", "v2")}


@pytest.mark.parametrize(
    ("comment", "setter"),
    [
        pytest.param('# {"$imagepolicy": "ns:app"}', "ns:app", id="spaced"),
        pytest.param('#{"$imagepolicy":"ns:app"}', "ns:app", id="no-spaces"),
        pytest.param('### {"$imagepolicy": "ns:app:tag"}', "ns:app:tag", id="many-hashes"),
        pytest.param('#  { "$imagepolicy" : "ns:app" }  ', "ns:app", id="free-spacing"),
        pytest.param('# {"$imagepolicy": "ns:app", "x": "y"}', "ns:app", id="extra-string-keys"),
        pytest.param('# {"$imagepolicy": "ns:app"} bump', None, id="trailing-text"),
        pytest.param("# {'$imagepolicy': 'ns:app'}", None, id="single-quotes"),
        pytest.param('# {"$imagepolicy": "ns:app", "n": 1}', None, id="non-string-value"),
        pytest.param('# {"$imagepolicy": "ns:app", "n": NaN}', None, id="nan-is-not-json"),
        pytest.param('# ["$imagepolicy", "ns:app"]', None, id="array"),
        pytest.param('# {"$imagepolicy": 1}', None, id="setter-not-a-string"),
        pytest.param('# {"policy": "ns:app"}', None, id="other-key"),
        pytest.param("# just a comment", None, id="plain-comment"),
        pytest.param("# {“$imagepolicy”: “ns:app”}", None, id="smart-quotes"),
    ],
)
def test_marker_setter_reads_only_pure_json_objects(comment: str, setter: str | None) -> None:
    assert marker_setter(comment) == setter


def new_text(text: str) -> str:
    """``text`` after the setters ran with ``TABLE``."""
    return apply_setters(text, "f.yaml", TABLE).new_text


MARKER = '# {"$imagepolicy": "ns:app"}'


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            f"a: old {MARKER}\n", f"a: registry.example.com/app:v2 {MARKER}\n", id="value"
        ),
        pytest.param(
            f"l:\n- old {MARKER}\n", f"l:\n- registry.example.com/app:v2 {MARKER}\n", id="item"
        ),
        pytest.param(
            f"l:\n  {MARKER}\n  - old\n",
            f"l:\n  {MARKER}\n  - registry.example.com/app:v2\n",
            id="item-head-comment",
        ),
        pytest.param(f"{MARKER}\na: old\n", f"{MARKER}\na: old\n", id="head-comment-of-key"),
        pytest.param(f"a: # {MARKER}\n  b: old\n", f"a: # {MARKER}\n  b: old\n", id="on-mapping"),
        pytest.param(f"a: {MARKER}\n- old\n", None, id="unparsable"),
        pytest.param(f"a: [old] {MARKER}\n", f"a: [old] {MARKER}\n", id="on-flow-sequence"),
        pytest.param(f"a: &x old\nb: *x {MARKER}\n", f"a: &x old\nb: *x {MARKER}\n", id="on-alias"),
        pytest.param(
            f"a: &x old {MARKER}\nb: *x\n",
            f"a: &x registry.example.com/app:v2 {MARKER}\nb: *x\n",
            id="on-anchor",
        ),
        pytest.param(
            f"l:\n- |\n  {MARKER}\n- old\n",
            f"l:\n- |\n  {MARKER}\n- old\n",
            id="block-content-is-not-a-comment",
        ),
        pytest.param(
            f"l:\n- old # note\n  {MARKER}\n",
            f"l:\n- old # note\n  {MARKER}\n",
            id="line-comment-wins",
        ),
    ],
)
def test_only_scalar_line_comments_and_item_head_comments_are_markers(
    text: str, expected: str | None
) -> None:
    assert new_text(text) == (text if expected is None else expected)


def test_changes_carry_the_documents_object_identity() -> None:
    text = (
        f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: n\ndata:\n"
        f"  image: old {MARKER}\n---\nimage: old {MARKER}\n"
    )
    records = apply_setters(text, "f.yaml", TABLE).records
    assert [r.object for r in records] == [
        ObjectIdentity("v1", "ConfigMap", "c", "n"),
        ObjectIdentity("", "", "", ""),
    ]


def test_an_unchanged_value_records_nothing_and_keeps_the_text() -> None:
    text = f"image: registry.example.com/app:v2 {MARKER}\n"
    result = apply_setters(text, "f.yaml", TABLE)
    assert (result.new_text, result.records, result.changed) == (text, [], False)


def test_unknown_setters_are_reported_with_their_line() -> None:
    text = 'a: 1\nimage: old # {"$imagepolicy": "ns:gone"}\n'
    result = apply_setters(text, "dir/f.yaml", TABLE)
    assert result.new_text == text
    assert [(m.file, m.line, m.setter) for m in result.unknown] == [("dir/f.yaml", 2, "ns:gone")]


def test_a_list_document_makes_the_whole_file_a_problem() -> None:
    text = f"a: old {MARKER}\n---\n- x\n"
    result = apply_setters(text, "f.yaml", TABLE)
    assert (result.new_text, result.records) == (text, [])
    assert result.problem is not None
    assert result.problem.startswith("f.yaml:3: document is a list")


@pytest.mark.parametrize(
    ("comment", "problem"),
    [
        pytest.param('# {"$imagepolicy": "ns:app"}', None, id="a-marker"),
        pytest.param("# bumped by $imagepolicy markers", None, id="prose"),
        pytest.param("# nothing to see", None, id="plain-comment"),
        pytest.param(
            "# {\u201c$imagepolicy\u201d: \u201cns:app\u201d}",
            'typographic quotes (\u201c \u201d) where JSON needs plain double quotes (")',
            id="typographic-quotes",
        ),
        pytest.param(
            "# {'$imagepolicy': 'ns:app'}",
            'single quotes where JSON needs double quotes (")',
            id="single-quotes",
        ),
        pytest.param(
            '# {"$imagepolicy": "ns:app"',
            "not valid JSON (Expecting ',' delimiter)",
            id="missing-brace",
        ),
        pytest.param(
            '# {"$imagepolicy": "ns:app"} bump',
            "text after the JSON object: bump",
            id="trailing-text",
        ),
        pytest.param(
            '# {"$imagepolicy": 1}',
            "every value of a marker must be a JSON string",
            id="number-value",
        ),
        pytest.param(
            '# {"$ImagePolicy": "ns:app"}',
            'no "$imagepolicy" key (keys are case-sensitive)',
            id="capitalised-key",
        ),
    ],
)
def test_marker_problem_says_why_a_would_be_marker_is_not_one(
    comment: str, problem: str | None
) -> None:
    assert marker_problem(comment) == problem


@pytest.mark.parametrize(
    ("text", "lines"),
    [
        pytest.param(f"a: old {MARKER}\n", [], id="a-working-marker"),
        pytest.param(
            "a: old # {\u201c$imagepolicy\u201d: \u201cns:app\u201d}\n", [1], id="typographic"
        ),
        pytest.param(f"a:\n  {MARKER}\n  b: old\n", [2], id="marker-above-a-key"),
        pytest.param(f"a: |\n  {MARKER}\nb: old\n", [], id="inside-a-block-scalar"),
        pytest.param(f'a: "x {MARKER}"\n', [], id="inside-a-quoted-scalar"),
        pytest.param("# {'$imagepolicy': 'ns:app'}\n---\na: old\n", [1], id="own-line"),
    ],
)
def test_comments_that_look_like_markers_but_update_nothing_are_reported(
    text: str, lines: list[int]
) -> None:
    result = apply_setters(text, "f.yaml", TABLE)
    assert result.new_text == text or result.changed
    assert [m.line for m in result.malformed] == lines


def test_a_file_with_only_typographic_quote_markers_is_still_read() -> None:
    text = "image: old # {\u201c$imagepolicy\u201d: \u201cns:app\u201d}\n"
    (found,) = apply_setters(text, "deploy.yaml", TABLE).malformed
    assert found.describe() == (
        "deploy.yaml:1: typographic quotes (\u201c \u201d) where JSON needs plain double "
        'quotes ("): # {\u201c$imagepolicy\u201d: \u201cns:app\u201d}'
    )


@pytest.mark.parametrize(
    ("setter", "hint"),
    [
        pytest.param("ns:ap", "did you mean 'ns:app'?", id="typo"),
        pytest.param(
            "other:app",
            "the policy is known as 'ns:app': an automation updates only markers of policies"
            " in its own namespace",
            id="wrong-namespace",
        ),
        pytest.param(
            "app",
            "a marker names NAMESPACE:NAME[:tag|:name|:digest], e.g. flux-system:app",
            id="no-namespace",
        ),
        pytest.param(
            "ns:app:tags", "unknown field 'tags': use :tag, :name, :digest or none", id="bad-field"
        ),
        pytest.param("ns:zzz", "known policies: ns:app", id="nothing-close"),
    ],
)
def test_an_unknown_marker_comes_with_a_hint(setter: str, hint: str) -> None:
    assert unknown_hint(setter, TABLE) == hint


def test_with_no_policies_the_hint_says_so() -> None:
    assert unknown_hint("ns:app", {}) == (
        "no policy is known (a policy without a latest image is not known yet)"
    )


GOLDEN_FILES = sorted(
    path
    for path in (Path(__file__).resolve().parents[2] / "testdata" / "setters").glob(
        "*/original/**/*"
    )
    if path.is_file()
)


@pytest.mark.parametrize(
    "path", [pytest.param(p, id=f"{p.parents[1].name}/{p.name}") for p in GOLDEN_FILES]
)
def test_the_libyaml_parser_locates_exactly_what_the_reference_parser_does(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The optional C parser is only a speed-up: same scalars, offsets and problems."""
    assert _locate._HAS_C_PARSER, "ruamel.yaml.clib is a dependency: make setup installs it"
    text = path.read_bytes().decode("utf-8", errors="replace")
    fast = _locate.locate_markers(text, "f.yaml")
    monkeypatch.setattr(_locate, "_HAS_C_PARSER", False)
    assert fast == _locate.locate_markers(text, "f.yaml")


def test_a_pathologically_nested_file_is_a_problem_not_a_crash() -> None:
    text = "a: " + "[" * 5000 + "]" * 5000 + ' # {"$imagepolicy": "ns:app"}\n'
    result = apply_setters(text, "deep.yaml", TABLE)
    assert result.new_text == text
    assert result.problem == "deep.yaml: YAML nested too deeply; file left untouched"


def test_an_unknown_marker_describes_itself_with_file_line_and_hint() -> None:
    text = 'a: 1\nimage: old # {"$imagepolicy": "ns:ap"}\n'
    (marker,) = apply_setters(text, "k8s/app.yaml", TABLE).unknown
    assert marker.describe() == (
        "k8s/app.yaml:2: marker names 'ns:ap', which matches no policy with a latest image; "
        "did you mean 'ns:app'?"
    )
