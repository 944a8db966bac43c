"""Named hostile inputs for the setters' file side: ``update.path`` escaping the repository
and marker comments whose JSON is not a policy name.

``update.path`` comes from an ImageUpdateAutomation and the files from a Git repository,
so both may be written by someone who wants tagpilot to touch files it should not.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from fuzz_support import finishes_within

from tagpilot.adapters.files import FileTreeEditor, confine
from tagpilot.core.errors import InvalidInputError, TagpilotError
from tagpilot.core.setters import PolicyTarget, apply_setters

TABLE = {"apps:app": PolicyTarget("ghcr.io/acme/app", "2.0.0")}
MARKED = 'image: app:1.0 # {"$imagepolicy": "apps:app"}\n'


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A repository with ``deploy/`` inside and a marked file outside it, beside the root."""
    repo = tmp_path / "repo"
    (repo / "deploy").mkdir(parents=True)
    (repo / "deploy" / "app.yaml").write_text(MARKED)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "victim.yaml").write_text(MARKED)
    (repo / "escape").symlink_to(outside)
    (repo / "deploy" / "victim.yaml").symlink_to(outside / "victim.yaml")
    return repo


ESCAPES = [
    pytest.param("..", "leads outside", id="dot-dot"),
    pytest.param("../outside", "leads outside", id="sibling"),
    pytest.param("deploy/../../outside", "leads outside", id="down-then-up"),
    pytest.param("./deploy/../..", "leads outside", id="dotted"),
    pytest.param("escape", "leads outside", id="symlinked-directory"),
    pytest.param("escape/../..", "leads outside", id="through-a-symlink-and-up"),
    pytest.param("/etc", "is absolute", id="absolute"),
    pytest.param("//etc", "is absolute", id="double-slash"),
]


@pytest.mark.parametrize(("path", "why"), ESCAPES)
def test_update_path_leading_out_of_the_repository_is_refused(
    checkout: Path, path: str, why: str
) -> None:
    with pytest.raises(InvalidInputError, match=why) as raised:
        FileTreeEditor().update(checkout, path, TABLE)
    assert raised.value.location is not None
    assert (raised.value.location.field, raised.value.location.value) == ("update.path", path)
    assert (checkout.parent / "outside" / "victim.yaml").read_text() == MARKED


INSIDE = [
    pytest.param("deploy", id="plain"),
    pytest.param("./deploy/", id="dotted"),
    pytest.param("deploy/../deploy", id="up-and-back"),
    pytest.param("", id="empty-means-root"),
    pytest.param(".", id="dot"),
]


@pytest.mark.parametrize("path", INSIDE)
def test_update_path_inside_the_repository_never_writes_through_a_file_symlink(
    checkout: Path, path: str
) -> None:
    result = FileTreeEditor().update(checkout, path, TABLE)
    assert [record.file.rsplit("/", 1)[-1] for record in result.changes.records] == ["app.yaml"]
    assert any("symlink leads outside" in problem.message for problem in result.problems)
    assert (checkout.parent / "outside" / "victim.yaml").read_text() == MARKED


def test_odd_but_harmless_update_paths_stay_inside(checkout: Path) -> None:
    for odd in ("~", "C:\\x", "\\\\server\\share", "x" * 200, "/".join(["a"] * 500)):
        assert checkout.resolve() in confine(checkout, odd).parents


def test_update_path_with_a_nul_byte_is_refused_as_invalid_input(checkout: Path) -> None:
    with pytest.raises(InvalidInputError):
        confine(checkout, "deploy\x00/../..")


def test_update_path_through_a_symlink_loop_is_refused_as_invalid_input(checkout: Path) -> None:
    os.symlink(checkout / "loop", checkout / "loop")
    with pytest.raises(TagpilotError):
        FileTreeEditor().update(checkout, "loop", TABLE)


DEEP_JSON = "[" * 100_000 + "]" * 100_000
NOT_POLICY_NAMES = [
    pytest.param('{"$imagepolicy": 5}', id="number"),
    pytest.param('{"$imagepolicy": null}', id="null"),
    pytest.param('{"$imagepolicy": true}', id="boolean"),
    pytest.param('{"$imagepolicy": ["apps:app"]}', id="list"),
    pytest.param('{"$imagepolicy": {"name": "apps:app"}}', id="nested-object"),
    pytest.param('{"x": {"$imagepolicy": "apps:app"}}', id="marker-one-level-down"),
    pytest.param('{"$imagepolicy": "apps:app", "n": 1}', id="non-string-sibling"),
    pytest.param('{"$imagepolicy": NaN}', id="nan"),
    pytest.param('{"$imagepolicy": "apps:app"} trailing', id="trailing-text"),
    pytest.param("{'$imagepolicy': 'apps:app'}", id="single-quotes"),
    pytest.param('["$imagepolicy", "apps:app"]', id="array"),
    pytest.param('{"$imagepolicy": "apps:app"', id="unclosed"),
    pytest.param('{"$imagepolicy": "apps:app", "deep": ' + DEEP_JSON + "}", id="deep-json"),
]  # fmt: skip


@pytest.mark.parametrize("marker", NOT_POLICY_NAMES)
def test_marker_json_that_is_not_a_policy_name_is_an_ordinary_comment(marker: str) -> None:
    text = f"image: app:1.0 # {marker}\n"
    with finishes_within(1.0):
        result = apply_setters(text, "odd.yaml", TABLE)
    assert (result.new_text, result.unknown, result.problem) == (text, [], None)


UNKNOWN_NAMES = [
    pytest.param("apps:" + "a" * (1 << 20), id="megabyte-name"),
    pytest.param("apps:app:nofield", id="unknown-field"),
    pytest.param("other:app", id="other-namespace"),
    pytest.param("", id="empty"),
    pytest.param("apps:app\u0000", id="nul-escaped"),
]


@pytest.mark.parametrize("name", UNKNOWN_NAMES)
def test_marker_naming_no_known_policy_is_reported_and_changes_nothing(name: str) -> None:
    text = f"image: app:1.0 # {json.dumps({'$imagepolicy': name})}\n"
    with finishes_within(1.0):
        result = apply_setters(text, "odd.yaml", TABLE)
    assert result.new_text == text and not result.changed
    assert [(marker.line, marker.setter) for marker in result.unknown] == [(1, name)]


def test_the_last_of_duplicate_marker_keys_wins_as_in_go() -> None:
    text = 'image: app:1.0 # {"$imagepolicy": "apps:nope", "$imagepolicy": "apps:app"}\n'
    result = apply_setters(text, "dup.yaml", TABLE)
    assert result.new_text.startswith("image: ghcr.io/acme/app:2.0.0 #")


def test_a_lone_surrogate_escape_in_a_marker_becomes_a_replacement_character_as_in_go() -> None:
    text = 'image: app:1.0 # {"$imagepolicy": "apps:\\ud800"}\n'
    result = apply_setters(text, "odd.yaml", TABLE)
    assert [marker.setter for marker in result.unknown] == ["apps:\ufffd"]


EMPTY_VALUES = [
    pytest.param("tag:  # M\n", "tag: 2.0.0  # M\n", id="two-spaces-before-the-comment"),
    pytest.param("tag: # M\nnext: 1\n", "tag: 2.0.0 # M\nnext: 1\n", id="one-space"),
    pytest.param("tag: &t # M\n", "tag: &t 2.0.0 # M\n", id="anchored"),
    pytest.param("l:\n- # M\n- x\n", "l:\n- 2.0.0 # M\n- x\n", id="list-item"),
    pytest.param("a:\n  n 1.0:  # M\n", "a:\n  n 1.0: 2.0.0  # M\n", id="key-with-a-space"),
]


@pytest.mark.parametrize(("text", "expected"), EMPTY_VALUES)
def test_a_marker_on_an_empty_value_writes_the_value_after_the_colon(
    text: str, expected: str
) -> None:
    marker = '{"$imagepolicy": "apps:app:tag"}'
    result = apply_setters(text.replace("M", marker), "empty.yaml", TABLE)
    assert result.new_text == expected.replace("M", marker)
