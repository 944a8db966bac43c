"""Named hostile YAML inputs for every YAML reader: alias bombs, deep nesting, huge scalars,
invalid UTF-8, NUL bytes, BOM and CRLF mixes, and values YAML cannot construct.

Readers: the manifest loader (``load_text`` and ``load_paths``), the setters
(``apply_setters`` and ``update_tree``) and the SOPS stores (``decrypt_text``).  Each must
answer with a typed error or a problem naming the file, quickly, and never crash.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fuzz_support import finishes_within

from tagpilot.adapters.files import update_tree
from tagpilot.adapters.manifests import load_paths
from tagpilot.adapters.sops import AgeIdentities, decrypt_text
from tagpilot.api import yamlguard
from tagpilot.api.loader import ManifestError, load_text
from tagpilot.api.yamlguard import (
    MAX_NESTING_DEPTH,
    YamlAliasBombError,
    YamlLimitError,
    YamlTooDeepError,
    check_yaml_limits,
)
from tagpilot.core.errors import InvalidInputError
from tagpilot.core.setters import PolicyTarget, apply_setters

TABLE = {"apps:app": PolicyTarget("ghcr.io/acme/app", "2.0.0")}
MARKER = ' # {"$imagepolicy": "apps:app"}'
POLICY_HEAD = (
    "apiVersion: image.toolkit.fluxcd.io/v1beta2\nkind: ImagePolicy\n"
    "metadata: {name: app, namespace: apps}\n"
)


def billion_laughs(levels: int = 9) -> str:
    """The classic: nine aliases per level, nine levels (~387 million nodes expanded)."""
    lines = ['lol0: &lol0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, levels):
        aliases = ", ".join([f"*lol{level - 1}"] * 9)
        lines.append(f"lol{level}: &lol{level} [{aliases}]")
    lines.append(f"spec: {{imageRepositoryRef: {{name: *lol{levels - 1}}}}}")
    return POLICY_HEAD + "\n".join(lines) + "\n"


def merge_bomb(levels: int = 30) -> str:
    """Merge keys (``<<``) that double at every level."""
    lines = ["m0: &m0 {a: 1}"]
    for level in range(1, levels):
        lines.append(
            f"m{level}: &m{level} {{<<: *m{level - 1}, l: [*m{level - 1}, *m{level - 1}]}}"
        )
    return POLICY_HEAD + "\n".join(lines) + "\n"


BOMBS = [
    pytest.param(billion_laughs(), id="billion-laughs"),
    pytest.param(merge_bomb(), id="merge-key-doubling"),
]


@pytest.mark.parametrize("text", BOMBS)
def test_loader_refuses_alias_bombs_within_a_second(text: str) -> None:
    with finishes_within(1.0), pytest.raises(ManifestError) as raised:
        load_text(text, file="bomb.yaml")
    assert "aliases expand to more than" in str(raised.value)
    assert str(raised.value).startswith("bomb.yaml:")


@pytest.mark.parametrize("text", BOMBS)
def test_setters_leave_alias_bomb_files_untouched_within_a_second(text: str) -> None:
    with finishes_within(1.0):
        result = apply_setters(text + "image: app:1.0" + MARKER + "\n", "bomb.yaml", TABLE)
    assert result.problem is not None and "aliases expand" in result.problem
    assert not result.changed


def test_sops_refuses_an_alias_bomb_before_decrypting() -> None:
    with finishes_within(1.0), pytest.raises(InvalidInputError, match="aliases expand"):
        decrypt_text(billion_laughs(), file="bomb.yaml", identities=AgeIdentities())


def test_a_few_aliases_still_load() -> None:
    text = POLICY_HEAD + (
        "spec:\n  imageRepositoryRef: &ref {name: app}\n  policy: {semver: {range: '>=1'}}\n"
        "---\n" + POLICY_HEAD.replace("name: app,", "name: other,") + "spec:\n"
        "  imageRepositoryRef: {name: app}\n  policy: {semver: {range: '>=1'}}\n"
    )
    assert [loaded.name for loaded in load_text(text).objects] == ["app", "other"]


DEPTH = 10_000
BLOCK_MAPPINGS = "".join(" " * i + "a:\n" for i in range(2_000)) + " " * 2_000 + "b\n"
DEEP = [
    pytest.param("a: " + "[" * DEPTH + "]" * DEPTH + "\n", id="flow-sequences"),
    pytest.param("a: " + "{a: " * DEPTH + "1" + "}" * DEPTH + "\n", id="flow-mappings"),
    pytest.param("- " * DEPTH + "x\n", id="block-sequences-on-one-line"),
    pytest.param(BLOCK_MAPPINGS, id="block-mappings"),
    pytest.param(POLICY_HEAD + "spec: " + "[" * DEPTH + "]" * DEPTH + "\n", id="inside-a-policy"),
    pytest.param("[" * DEPTH + "\n", id="unclosed"),
    pytest.param("\ufeff" + "[" * DEPTH + "]" * DEPTH + "\n", id="after-a-bom"),
]  # fmt: skip


@pytest.mark.parametrize("text", DEEP)
def test_loader_refuses_ten_thousand_levels_of_nesting_quickly(text: str) -> None:
    with finishes_within(2.0), pytest.raises(ManifestError) as raised:
        load_text(text, file="deep.yaml")
    assert "deep.yaml" in str(raised.value)


@pytest.mark.parametrize("text", DEEP)
def test_setters_leave_deeply_nested_files_untouched_quickly(text: str) -> None:
    with finishes_within(2.0):
        result = apply_setters(text + "image: app:1.0" + MARKER + "\n", "deep.yaml", TABLE)
    assert result.problem is not None and result.problem.startswith("deep.yaml")


@pytest.mark.parametrize("text", DEEP)
def test_sops_refuses_deeply_nested_yaml_quickly(text: str) -> None:
    with finishes_within(2.0), pytest.raises(InvalidInputError):
        decrypt_text(text, file="deep.yaml", identities=AgeIdentities())


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("[" * DEPTH + "]" * DEPTH, id="arrays"),
        pytest.param('{"a":' * DEPTH + "1" + "}" * DEPTH, id="objects"),
    ],
)
def test_sops_refuses_deeply_nested_json_quickly(text: str) -> None:
    with finishes_within(2.0), pytest.raises(InvalidInputError, match="nested too deeply"):
        decrypt_text(text, file="deep.json", identities=AgeIdentities())


def test_nesting_up_to_the_limit_is_accepted() -> None:
    check_yaml_limits("a: " + "[" * (MAX_NESTING_DEPTH - 1) + "]" * (MAX_NESTING_DEPTH - 1))
    with pytest.raises(YamlLimitError, match=f"more than {MAX_NESTING_DEPTH} levels"):
        check_yaml_limits("a: " + "[" * MAX_NESTING_DEPTH + "]" * MAX_NESTING_DEPTH)


MEGABYTE = 1 << 20


def test_setters_handle_a_ten_megabyte_scalar() -> None:
    text = "blob: " + "x" * (10 * MEGABYTE) + "\nimage: app:1.0" + MARKER + "\n"
    with finishes_within(10.0):
        result = apply_setters(text, "huge.yaml", TABLE)
    assert result.problem is None
    assert result.new_text.endswith(
        'image: ghcr.io/acme/app:2.0.0 # {"$imagepolicy": "apps:app"}\n'
    )


def test_loader_reports_a_one_megabyte_value_without_echoing_it() -> None:
    text = POLICY_HEAD + "spec:\n  imageRepositoryRef: {name: app}\n"
    text += "  policy: {numerical: {order: " + "n" * MEGABYTE + "}}\n"
    with finishes_within(10.0), pytest.raises(ManifestError) as raised:
        load_text(text, file="huge.yaml")
    assert len(str(raised.value)) < 2_000
    assert f"({MEGABYTE} characters)" in str(raised.value)


@pytest.mark.slow
def test_loader_reads_a_ten_megabyte_scalar_in_bounded_time() -> None:
    text = POLICY_HEAD + "spec:\n  blob: " + "x" * (10 * MEGABYTE) + "\n"
    with finishes_within(90.0), pytest.raises(ManifestError, match=r"huge\.yaml"):
        load_text(text, file="huge.yaml")


UNCONSTRUCTIBLE = [
    pytest.param("a: !!int xyz", id="int-tag-on-text"),
    pytest.param("a: !!float xyz", id="float-tag-on-text"),
    pytest.param("a: 2001-13-45", id="month-13"),
    pytest.param("a: 2001-02-30 10:00:00", id="february-30"),
    pytest.param("a: " + "9" * 5000, id="integer-of-5000-digits"),
    pytest.param("a: !!omap [{a: 1}, {a: 2}]", id="omap-with-two-keys"),
    pytest.param("a: !!omap [a]", id="omap-of-scalars"),
    pytest.param("!!set a: b", id="set-tag-on-a-scalar"),
    pytest.param("a: !!int ", id="empty-int"),
    pytest.param("a: !!bool x", id="bool-tag-on-text"),
]


@pytest.mark.parametrize("text", UNCONSTRUCTIBLE)
def test_loader_names_the_file_for_values_yaml_cannot_construct(text: str) -> None:
    with pytest.raises(ManifestError, match=r"^values\.yaml"):
        load_text(text, file="values.yaml")


@pytest.mark.parametrize("text", UNCONSTRUCTIBLE)
def test_sops_names_the_file_for_values_yaml_cannot_construct(text: str) -> None:
    with pytest.raises(InvalidInputError, match=r"^values\.yaml"):
        decrypt_text(text, file="values.yaml", identities=AgeIdentities())


def test_a_bad_value_merged_in_with_a_merge_key_is_reported_with_a_line() -> None:
    text = (
        "base: &base\n  nterval: 1m\n  image: ghcr.io/acme/app\n"
        "apiVersion: image.toolkit.fluxcd.io/v1beta2\nkind: ImageRepository\n"
        "metadata: {name: app, namespace: apps}\nspec:\n  <<: *base\n"
    )
    with pytest.raises(ManifestError) as raised:
        load_text(text, file="merged.yaml")
    assert "merged.yaml:7: spec.interval: is required" in str(raised.value)


INVALID_UTF8 = b"apiVersion: v1\nkind: ConfigMap\ndata: {a: \xff\xfe\xc3}\n"


def test_load_paths_reports_a_file_that_is_not_utf8(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_bytes(INVALID_UTF8)
    with pytest.raises(ManifestError, match=r"bad\.yaml: cannot read"):
        load_paths([tmp_path])


def test_update_tree_leaves_a_marked_file_that_is_not_utf8_untouched(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_bytes(INVALID_UTF8 + b"image: app:1.0" + MARKER.encode() + b"\n")
    result = update_tree(tmp_path, TABLE)
    at = INVALID_UTF8.index(b"\xff")
    assert [problem.message for problem in result.problems] == [
        f"bad.yaml: not UTF-8 (byte {at}); file left untouched"
    ]
    assert (tmp_path / "bad.yaml").read_bytes().startswith(INVALID_UTF8)


def test_sops_reports_invalid_utf8_bytes_as_not_yaml() -> None:
    with pytest.raises(InvalidInputError, match=r"^bad\.yaml"):
        decrypt_text(INVALID_UTF8, file="bad.yaml", identities=AgeIdentities())


NUL_AND_ODD_CHARACTERS = [
    pytest.param("a: b\x00c\n", id="nul-in-a-value"),
    pytest.param("\x00", id="only-nul"),
    pytest.param("a: \udcff\n", id="lone-surrogate"),
    pytest.param("a: \x07bell\n", id="control-character"),
]


@pytest.mark.parametrize("text", NUL_AND_ODD_CHARACTERS)
def test_loader_and_setters_refuse_nul_and_control_characters(text: str) -> None:
    with pytest.raises(ManifestError, match="unacceptable character"):
        load_text(text, file="odd.yaml")
    result = apply_setters(text + "image: app:1.0" + MARKER + "\n", "odd.yaml", TABLE)
    assert result.problem is not None and "unacceptable character" in result.problem


BOM_CRLF = [
    pytest.param("\ufeff", "\r\n", id="bom-and-crlf"),
    pytest.param("", "\r\n", id="crlf"),
    pytest.param("\ufeff", "\n", id="bom-and-lf"),
    pytest.param("\ufeff", "\r", id="bom-and-bare-cr"),
]


@pytest.mark.parametrize(("bom", "newline"), BOM_CRLF)
def test_loader_reads_bom_and_any_line_ending_with_the_right_lines(bom: str, newline: str) -> None:
    text = bom + newline.join(
        [
            "# a comment",
            *POLICY_HEAD.splitlines(),
            "spec:",
            "  imageRepositoryRef: {name: 5}",
            "  policy: {semver: {range: '>=1'}}",
            "",
        ]
    )
    with pytest.raises(ManifestError, match=r"^mixed\.yaml:6: spec\.imageRepositoryRef\.name"):
        load_text(text, file="mixed.yaml")


@pytest.mark.parametrize(("bom", "newline"), BOM_CRLF)
def test_setters_keep_bom_and_line_endings_byte_for_byte(bom: str, newline: str) -> None:
    text = bom + newline.join(["# c", "image: app:1.0" + MARKER, "other: x", ""])
    result = apply_setters(text, "mixed.yaml", TABLE)
    assert result.problem is None
    assert result.new_text == text.replace("app:1.0", "ghcr.io/acme/app:2.0.0")


def test_loader_refuses_a_lone_surrogate_escape_as_go_does() -> None:
    text = POLICY_HEAD + 'spec:\n  imageRepositoryRef: {name: "app\\ud800"}\n'
    with pytest.raises(ManifestError, match=r"^escape\.yaml: invalid Unicode escape"):
        load_text(text, file="escape.yaml")


def test_setters_leave_a_marked_value_with_a_lone_surrogate_escape_untouched() -> None:
    text = 'image: "app\\ud800"' + MARKER + "\n"
    result = apply_setters(text, "escape.yaml", TABLE)
    assert result.problem == (
        "escape.yaml:1: invalid Unicode escape (a lone surrogate) in a marked value; "
        "file left untouched"
    )


MALFORMED_DOTENV_METADATA = [
    pytest.param("sops_age__list_ENC[0__map_enc=x", id="index-not-a-number"),
    pytest.param("sops_age__list_99999999999__map_enc=x", id="index-of-a-hundred-billion"),
    pytest.param("sops_age__list_-1__map_enc=x", id="negative-index"),
    pytest.param("sops_age=x\nsops_age__list_0__map_enc=y", id="scalar-then-list"),
]


@pytest.mark.parametrize("metadata", MALFORMED_DOTENV_METADATA)
def test_sops_dotenv_with_malformed_metadata_keys_is_refused_quickly(metadata: str) -> None:
    with finishes_within(1.0), pytest.raises(InvalidInputError, match="malformed sops metadata"):
        decrypt_text(f"A=1\n{metadata}\n", file="app.env", identities=AgeIdentities())


@pytest.mark.filterwarnings("ignore::ruamel.yaml.error.ReusedAnchorWarning")
def test_merge_keys_at_two_levels_with_a_reused_anchor_give_problems_not_a_crash() -> None:
    text = (
        "base: &base\n base: &base\n  interval: 1m\n"
        "apiVersion: image.toolkit.fluxcd.io/v1beta2\nkind: ImageRepository\n"
        "metadata: {name: app, namespace: apps}\nspec:\n  <<: *base\n<<: *base\n"
    )
    with pytest.raises(ManifestError, match="unknown field 'interval'"):
        load_text(text, file="merged.yaml")


ODD_BREAKS_IN_BLOCKS = [
    pytest.param("\r", "\r", id="bare-cr-lines"),
    pytest.param("\n\x85", "\n", id="nel-before-the-content"),
    pytest.param("\n", "\u2028\n", id="line-separator-after-the-content"),
    pytest.param("\n", "\u2029\n", id="paragraph-separator-after-the-content"),
]


@pytest.mark.parametrize(("before", "after"), ODD_BREAKS_IN_BLOCKS)
def test_block_scalars_with_unusual_line_breaks_get_exactly_the_new_value(
    before: str, after: str
) -> None:
    text = f"block: |-{MARKER}{before}  app:1.0{after}next: x{after}"
    result = apply_setters(text, "odd.yaml", TABLE)
    assert result.problem is None and result.changed
    again = apply_setters(result.new_text, "odd.yaml", TABLE)
    assert again.problem is None and not again.changed, again.records
    assert result.new_text.startswith('block: "ghcr.io/acme/app:2.0.0" # {"$imagepolicy"')


@pytest.mark.parametrize(
    ("text", "error"),
    [
        pytest.param(billion_laughs(), YamlAliasBombError, id="alias-bomb"),
        pytest.param("a: " + "[" * 200 + "]" * 200, YamlTooDeepError, id="deep"),
    ],
)
def test_limits_hold_without_the_libyaml_parser(
    monkeypatch: pytest.MonkeyPatch, text: str, error: type[Exception]
) -> None:
    monkeypatch.setattr(yamlguard, "_CParser", None)
    with finishes_within(2.0), pytest.raises(error):
        check_yaml_limits(text)


@pytest.mark.filterwarnings("ignore::ruamel.yaml.error.ReusedAnchorWarning")
def test_a_redefined_anchor_counts_with_its_latest_size() -> None:
    small_then_big = "a: &x 1\nb: *x\na2: &x [" + ", ".join(["1"] * 1000) + "]\n"
    check_yaml_limits(small_then_big + "c: [" + ", ".join(["*x"] * 99) + "]\n")
    with pytest.raises(YamlAliasBombError):
        check_yaml_limits(small_then_big + "c: [" + ", ".join(["*x"] * 101) + "]\n")
