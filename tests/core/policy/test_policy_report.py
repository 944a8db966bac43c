"""What an evaluation explains: per-tag verdicts, the JSON document and the warnings."""

from __future__ import annotations

import pytest

import tagpilot.core.policy as policy_package
from tagpilot.core.policy import (
    AlphabeticalRule,
    NumericalRule,
    PolicySpec,
    SemverRule,
    TagFilterSpec,
    compile_policy,
)

BLASTER = PolicySpec(
    NumericalRule("asc"),
    TagFilterSpec(r"^dev-(?P<ts>[0-9]{8}\.[0-9]+)$", "$ts"),
)
BLASTER_TAGS = ["dev-20251115.42", "dev-20251115.51", "dev-20251115.9", "latest"]


def _statuses(spec: PolicySpec, tags: list[str]) -> list[tuple[str, str]]:
    return [(v.tag, v.status) for v in compile_policy(spec).evaluate(tags).verdicts]


def test_blaster_verdicts_name_the_numeric_comparison() -> None:
    evaluation = compile_policy(BLASTER).evaluate(BLASTER_TAGS)
    reasons = {v.tag: (v.status, v.reason, v.value) for v in evaluation.verdicts}
    assert reasons == {
        "latest": ("filtered", r"does not match pattern '^dev-(?P<ts>[0-9]{8}\.[0-9]+)$'", None),
        "dev-20251115.9": ("selected", "chosen by the policy", "20251115.9"),
        "dev-20251115.51": ("candidate", "20251115.51 < 20251115.9 numerically", "20251115.51"),
        "dev-20251115.42": ("candidate", "20251115.42 < 20251115.9 numerically", "20251115.42"),
    }


def test_blaster_json_has_the_cli_shape() -> None:
    document = compile_policy(BLASTER).evaluate(BLASTER_TAGS).to_json()
    assert document["latest"] == "dev-20251115.9"
    assert document["candidates"] == 3
    assert document["rejected"] == [
        {"tag": "latest", "reason": r"does not match pattern '^dev-(?P<ts>[0-9]{8}\.[0-9]+)$'"}
    ]
    warnings = document["warnings"]
    assert isinstance(warnings, list)
    assert len(warnings) == 1


def test_blaster_warning_names_both_tags_and_a_working_fix() -> None:
    (warning,) = compile_policy(BLASTER).evaluate(BLASTER_TAGS).warnings
    assert "20251115.9 > 20251115.51 although 9 < 51" in warning
    assert "tag dev-20251115.9 is preferred over dev-20251115.51" in warning
    assert "Zero-pad the counter" in warning
    suggested = (
        r"pattern '^dev-(?P<day>[0-9]+)\.(?P<build>[0-9]+)$', extract '${day}.${build}.0',"
        " range '>=0.0.0'"
    )
    assert suggested in warning


def test_the_suggested_semver_fix_picks_the_newest_build() -> None:
    fixed = PolicySpec(
        SemverRule(">=0.0.0"),
        TagFilterSpec(r"^dev-(?P<day>[0-9]+)\.(?P<build>[0-9]+)$", "${day}.${build}.0"),
    )
    assert compile_policy(fixed).evaluate(BLASTER_TAGS).latest == "dev-20251115.51"


def test_desc_order_warning_names_the_tag_desc_prefers() -> None:
    spec = PolicySpec(NumericalRule("desc"), BLASTER.filter)
    (warning,) = compile_policy(spec).evaluate(BLASTER_TAGS).warnings
    assert "with order desc tag dev-20251115.51 is preferred over dev-20251115.9" in warning


@pytest.mark.parametrize(
    "tags",
    [
        pytest.param(["dev-20251115.09", "dev-20251115.51"], id="zero-padded-counters"),
        pytest.param(["dev-20251115.5", "dev-20251116.51"], id="different-days"),
        pytest.param(["dev-20251115.9", "dev-20251115.95"], id="longer-is-also-larger"),
    ],
)
def test_consistent_dotted_numbers_give_no_warning(tags: list[str]) -> None:
    assert compile_policy(BLASTER).evaluate(tags).warnings == ()


@pytest.mark.parametrize(
    ("spec", "tags", "expected"),
    [
        pytest.param(
            PolicySpec(SemverRule("7.8.x")),
            ["7.8.1", "v7.8.1", "7.9.0", "1.2", "latest"],
            [
                ("v7.8.1", "selected"),
                ("latest", "not-a-version"),
                ("7.9.0", "out-of-range"),
                ("7.8.1", "candidate"),
                ("1.2", "not-a-version"),
            ],
            id="semver-statuses",
        ),
        pytest.param(
            PolicySpec(NumericalRule("asc"), TagFilterSpec(r"^(?P<n>[0-9]+)-", "$n")),
            ["9-a", "12-b", "12-a", "x"],
            [("x", "filtered"), ("9-a", "candidate"), ("12-b", "superseded"), ("12-a", "selected")],
            id="numerical-statuses",
        ),
        pytest.param(
            PolicySpec(NumericalRule("asc")),
            ["2", "latest"],
            [("latest", "not-a-number"), ("2", "candidate")],
            id="numerical-failure-statuses",
        ),
        pytest.param(
            PolicySpec(AlphabeticalRule("desc")),
            ["b", "a"],
            [("b", "candidate"), ("a", "selected")],
            id="alphabetical-statuses",
        ),
    ],
)
def test_every_tag_gets_one_verdict_in_storage_order(
    spec: PolicySpec, tags: list[str], expected: list[tuple[str, str]]
) -> None:
    assert _statuses(spec, tags) == expected


@pytest.mark.parametrize(
    ("spec", "tags", "tag", "reason"),
    [
        pytest.param(
            PolicySpec(SemverRule(">=1.0.0")), ["1.2", "1.0.0"], "1.2",
            "'1.2' has only one dot: Flux needs major.minor.patch", id="one-dot",
        ),
        pytest.param(
            PolicySpec(SemverRule(">=1.0.0")), ["1.0.0", "1.0.0.1"], "1.0.0.1",
            "not a semantic version", id="four-parts",
        ),
        pytest.param(
            PolicySpec(SemverRule(">=1.0 <2")), ["1.0.0", "2.0.0"], "2.0.0",
            "2.0.0 is outside range '>=1.0 <2'", id="out-of-range",
        ),
        pytest.param(
            PolicySpec(SemverRule(">=1.0.0")), ["1.0.0", "1.1.0-rc.1"], "1.1.0-rc.1",
            "such as '-0'", id="prerelease-hint",
        ),
        pytest.param(
            PolicySpec(SemverRule(">=1.0.0")), ["1.0.0", "v1.0.0"], "1.0.0",
            "1.0.0 ranks equal to v1.0.0; the first one seen wins", id="semver-tie",
        ),
        pytest.param(
            PolicySpec(NumericalRule("asc")), ["1.0", "1"], "1.0",
            "1.0 equals 1 numerically; the last one seen wins", id="numerical-tie",
        ),
        pytest.param(
            PolicySpec(NumericalRule("desc")), ["1", "2"], "2",
            "2 > 1 numerically", id="numerical-desc",
        ),
        pytest.param(
            PolicySpec(NumericalRule("asc")), ["1", "latest"], "latest",
            "'latest' is not valid Go float syntax (Go strconv.ParseFloat)", id="not-a-number",
        ),
        pytest.param(
            PolicySpec(NumericalRule("asc")), ["1", "1e999"], "1e999",
            "'1e999' is out of the float64 range", id="number-out-of-range",
        ),
        pytest.param(
            PolicySpec(AlphabeticalRule("asc")), ["b", "a"], "a",
            "'a' sorts before 'b' byte by byte", id="alphabetical",
        ),
    ],
)  # fmt: skip
def test_verdict_reasons_explain_the_decision(
    spec: PolicySpec, tags: list[str], tag: str, reason: str
) -> None:
    verdicts = {v.tag: v for v in compile_policy(spec).evaluate(tags).verdicts}
    assert reason in verdicts[tag].reason


def test_superseded_reason_names_extract_value_and_winner() -> None:
    spec = PolicySpec(NumericalRule("asc"), TagFilterSpec(r"^(?P<n>[0-9]+)-", "$n"))
    rejected = compile_policy(spec).evaluate(["12-b", "12-a"]).rejected()
    assert rejected == [
        (
            "12-b",
            "extract '$n' gave '12' — duplicate of 12-a, which comes later in storage order"
            " and wins",
        )
    ]


@pytest.mark.parametrize(
    ("spec", "tags", "fragments"),
    [
        pytest.param(
            PolicySpec(SemverRule(">=3.0.0")), ["1.0.0", "2.0.0", "latest"],
            ["semver range '>=3.0.0' matches none of the 2 version(s)", "highest: 2.0.0"],
            id="range-matches-nothing",
        ),
        pytest.param(
            PolicySpec(SemverRule(">=1.0.0")), ["1.0.0", "1.2", "v2.0"],
            ["2 candidate(s) such as 'v2.0' have only one dot"],
            id="one-dot-versions-ignored",
        ),
        pytest.param(
            PolicySpec(SemverRule(">=1.0.0 <2.0.0")), ["1.4.0", "1.5.0-rc.1"],
            ["1 prerelease version(s) such as '1.5.0-rc.1' are skipped", "add '-0'"],
            id="prereleases-skipped",
        ),
        pytest.param(
            PolicySpec(NumericalRule("asc"), TagFilterSpec(r"-(?P<ts>[0-9]+)$", "$1x")),
            ["main-a-1", "main-b-2"],
            [
                "extract '$1x' refers to group '1x'",
                "write '${1}x'",
                "extract '$1x' gave an empty string for 2 tag(s)",
            ],
            id="extract-unknown-group-and-empty",
        ),
    ],
)  # fmt: skip
def test_suspicious_policies_get_warnings(
    spec: PolicySpec, tags: list[str], fragments: list[str]
) -> None:
    text = "\n".join(compile_policy(spec).evaluate(tags).warnings)
    for fragment in fragments:
        assert fragment in text


@pytest.mark.parametrize(
    ("spec", "tags"),
    [
        pytest.param(PolicySpec(SemverRule(">=1.0.0-0")), ["1.0.0", "1.1.0-rc.1"], id="dash-0"),
        pytest.param(PolicySpec(SemverRule("<2.0.0")), ["1.0.0", "2.0.0-rc.1"], id="above-range"),
        pytest.param(PolicySpec(SemverRule(">=1.0.0")), ["1.0.0", "1.1.0"], id="plain-versions"),
        pytest.param(PolicySpec(AlphabeticalRule("asc")), ["a", "b"], id="alphabetical"),
    ],
)
def test_sound_policies_get_no_warnings(spec: PolicySpec, tags: list[str]) -> None:
    assert compile_policy(spec).evaluate(tags).warnings == ()


def test_verdicts_are_built_only_when_asked_for() -> None:
    evaluation = compile_policy(BLASTER).evaluate(BLASTER_TAGS)
    assert "verdicts" not in vars(evaluation)
    assert "warnings" not in vars(evaluation)
    assert evaluation.verdicts is evaluation.verdicts


def test_package_exports_exactly_the_promised_names() -> None:
    assert sorted(policy_package.__all__) == [
        "AlphabeticalRule",
        "CompiledPolicy",
        "EmptyCandidatesError",
        "Evaluation",
        "GoFloatError",
        "InvalidNumberError",
        "InvalidPolicyError",
        "NoVersionInRangeError",
        "NumericalRule",
        "Order",
        "PolicyFailedError",
        "PolicySpec",
        "Rule",
        "SemverRule",
        "TagFilterSpec",
        "TagVerdict",
        "VerdictStatus",
        "compile_policy",
        "go_expand",
        "parse_go_float",
    ]
