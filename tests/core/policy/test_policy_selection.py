"""Which tag each policy picks: Flux's tag selection algorithm, edge case by edge case.

Tags are given in any order; evaluation puts them in storage order (descending bytes,
de-duplicated) first, which decides ties exactly as Flux does without a filter.
"""

from __future__ import annotations

import pytest

from tagpilot.core.errors import InvalidInputError, RetryableError, StalledError
from tagpilot.core.policy import (
    AlphabeticalRule,
    EmptyCandidatesError,
    InvalidNumberError,
    InvalidPolicyError,
    NoVersionInRangeError,
    NumericalRule,
    PolicySpec,
    Rule,
    SemverRule,
    TagFilterSpec,
    compile_policy,
)


def _latest(rule: Rule, tags: list[str], tag_filter: TagFilterSpec | None = None) -> str | None:
    return compile_policy(PolicySpec(rule, tag_filter)).evaluate(tags).latest


@pytest.mark.parametrize(
    ("version_range", "tags", "latest"),
    [
        pytest.param("7.8.x", ["7.8.1", "7.8.10", "7.9.0", "7.7.99"], "7.8.10", id="seed-7.8.x"),
        pytest.param("^1.2.0", ["1.1.9", "1.2.0", "1.9.3", "2.0.0"], "1.9.3", id="seed-caret"),
        pytest.param(">=1.0.0", ["1.2.3", "v1.2.3"], "v1.2.3", id="tie-v-prefix-first-seen"),
        pytest.param(">=1.0.0", ["1.2.3+a", "1.2.3+b"], "1.2.3+b", id="tie-metadata-first-seen"),
        pytest.param(">=1.0.0", ["1.2", "v1.3", "1.0.0"], "1.0.0", id="one-dot-tags-ignored"),
        pytest.param(">=1.0.0", ["1.0.0", "V2.0.0"], "1.0.0", id="uppercase-v-not-a-version"),
        pytest.param(">=1.0.0", ["1.0.0", "1.2.3.4"], "1.0.0", id="four-parts-not-a-version"),
        pytest.param("*", ["2025.02.03", "2025.1.9"], "2025.02.03", id="leading-zeros-kept"),
        pytest.param(">=1.0.0", ["1.0.0", "latest", "sha-abc"], "1.0.0", id="junk-ignored"),
        pytest.param(">=1.0.0", ["1.0.0", "2.0.0-rc.1"], "1.0.0", id="prerelease-not-admitted"),
        pytest.param(
            ">=1.0.0-0", ["1.0.0", "2.0.0-rc.1"], "2.0.0-rc.1", id="prerelease-admitted-by-dash-0"
        ),
        pytest.param(
            ">=1.0.0-0 <2.0.0", ["1.4.0", "1.5.0-rc.1"], "1.5.0-rc.1", id="prerelease-in-and-group"
        ),
        pytest.param("<2.0.0", ["1.9.0", "2.0.0-rc.1"], "1.9.0", id="upper-bound-no-prerelease"),
        pytest.param(
            ">=1.0.0-0", ["1.0.0-rc2", "1.0.0-rc10"], "1.0.0-rc2", id="alnum-prerelease-byte-order"
        ),
        pytest.param(
            ">=1.0.0-0", ["1.0.0-rc.2", "1.0.0-rc.10"], "1.0.0-rc.10", id="numeric-prerelease-ids"
        ),
        pytest.param("*", ["1.2-rc.1", "1.1.0"], "1.1.0", id="dots-in-prerelease-count"),
        pytest.param(">=1.0.0-0", ["1.2-rc.1", "1.1.0"], "1.2-rc.1", id="1.2-rc.1-is-1.2.0-rc.1"),
    ],
)
def test_semver_picks_highest_version_in_range(
    version_range: str, tags: list[str], latest: str
) -> None:
    assert _latest(SemverRule(version_range), tags) == latest


@pytest.mark.parametrize(
    ("order", "tags", "latest"),
    [
        pytest.param("asc", ["1", "10", "9"], "10", id="asc-is-maximum"),
        pytest.param("desc", ["1", "10", "9"], "1", id="desc-is-minimum"),
        pytest.param("asc", ["1.10", "1.9"], "1.9", id="floats-not-versions"),
        pytest.param("asc", ["1e3", "999"], "1e3", id="exponent"),
        pytest.param("asc", ["1_000", "999"], "1_000", id="underscore-digits"),
        pytest.param("asc", ["inf", "1e308"], "inf", id="infinity"),
        pytest.param("asc", ["0x1p4", "15"], "0x1p4", id="hex-float"),
        pytest.param("asc", ["-1", "+0"], "+0", id="signs"),
        pytest.param("asc", ["1", "1.0", "01"], "01", id="tie-last-in-storage-order-wins"),
        pytest.param("desc", ["2", "2.0", "02"], "02", id="desc-tie-last-wins"),
        pytest.param("asc", ["inf", "NaN"], "NaN", id="nan-replaces-any-pick"),
        pytest.param("asc", ["nan", "5", "1"], "5", id="nan-is-replaced-by-next"),
    ],
)
def test_numerical_compares_go_floats(order: str, tags: list[str], latest: str) -> None:
    assert _latest(NumericalRule(order), tags) == latest  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("order", "tags", "latest"),
    [
        pytest.param("asc", ["9", "10", "100"], "9", id="digits-compare-as-bytes"),
        pytest.param("asc", ["1.0.0", "latest"], "latest", id="latest-beats-versions"),
        pytest.param("asc", ["a", "B", "0"], "a", id="lowercase-after-uppercase"),
        pytest.param("asc", ["z", "~", "é"], "é", id="non-ascii-after-tilde"),
        pytest.param("desc", ["b", "a", "C"], "C", id="desc-smallest"),
        pytest.param("desc", ["a", ""], "", id="empty-string-sorts-first"),
    ],
)
def test_alphabetical_uses_byte_order(order: str, tags: list[str], latest: str) -> None:
    assert _latest(AlphabeticalRule(order), tags) == latest  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("rule", "tag_filter", "tags", "latest"),
    [
        pytest.param(
            NumericalRule("asc"),
            TagFilterSpec(r"^dev-(?P<ts>[0-9]{8}\.[0-9]+)$", "$ts"),
            ["dev-20251115.42", "dev-20251115.51", "dev-20251115.9", "latest"],
            "dev-20251115.9",
            id="seed-blaster-dotted-timestamp",
        ),
        pytest.param(
            NumericalRule("asc"),
            TagFilterSpec(r"^(?P<num>[0-9]+)-[a-f0-9]+$", "$num"),
            ["41-abc123", "42-def456", "7-fff000", "main"],
            "42-def456",
            id="seed-build-number-and-sha",
        ),
        pytest.param(
            NumericalRule("asc"),
            TagFilterSpec(r"^main-[a-f0-9]+-(?P<ts>[0-9]+)", "$ts"),
            ["main-abc-1700000000", "main-def-1700000500", "pr-1-1800000000"],
            "main-def-1700000500",
            id="seed-main-sha-timestamp",
        ),
        pytest.param(
            SemverRule(">=1.0.0"),
            TagFilterSpec(r"^v?(?P<v>.*)-alpine$", "$v"),
            ["1.2.3-alpine", "v1.2.3-alpine", "1.2.3"],
            "1.2.3-alpine",
            id="semver-duplicate-candidate-later-tag-wins",
        ),
        pytest.param(
            AlphabeticalRule("asc"),
            TagFilterSpec("^main-", "$nope"),
            ["main-b", "main-a"],
            "main-a",
            id="empty-extract-is-a-candidate",
        ),
        pytest.param(
            SemverRule("*"),
            TagFilterSpec(r"^dev-(?P<day>[0-9]+)\.(?P<build>[0-9]+)$", "${day}.${build}.0"),
            ["dev-20251115.42", "dev-20251115.51", "dev-20251115.9"],
            "dev-20251115.51",
            id="semver-extract-orders-build-counters",
        ),
        pytest.param(
            SemverRule("*"),
            TagFilterSpec(),
            ["1.0.0", "1.0.0", "0.9.0"],
            "1.0.0",
            id="empty-filter-keeps-everything",
        ),
    ],
)
def test_filtered_policies_report_the_original_tag(
    rule: Rule, tag_filter: TagFilterSpec, tags: list[str], latest: str
) -> None:
    assert _latest(rule, tags, tag_filter) == latest


@pytest.mark.parametrize(
    ("rule", "tag_filter", "tags", "error_type", "message"),
    [
        pytest.param(
            SemverRule("*"), None, [], EmptyCandidatesError,
            "version list argument cannot be empty", id="no-tags",
        ),
        pytest.param(
            NumericalRule("asc"), TagFilterSpec("^x"), ["a", "b"], EmptyCandidatesError,
            "version list argument cannot be empty", id="filter-leaves-nothing",
        ),
        pytest.param(
            SemverRule(">=2.0.0"), None, ["1.0.0", "latest"], NoVersionInRangeError,
            "unable to determine latest version from provided list", id="nothing-in-range",
        ),
        pytest.param(
            NumericalRule("asc"), None, ["1", "2", "latest"], InvalidNumberError,
            "failed to parse invalid numeric value 'latest'", id="stray-latest-tag",
        ),
        pytest.param(
            NumericalRule("desc"), None, ["0x10", "1"], InvalidNumberError,
            "failed to parse invalid numeric value '0x10'", id="hex-without-exponent",
        ),
        pytest.param(
            NumericalRule("asc"), None, ["1e400", "1"], InvalidNumberError,
            "failed to parse invalid numeric value '1e400'", id="out-of-range-number",
        ),
        pytest.param(
            NumericalRule("asc"), TagFilterSpec("^main-", "$nope"), ["main-a"],
            InvalidNumberError, "failed to parse invalid numeric value ''", id="empty-extract",
        ),
    ],
)  # fmt: skip
def test_policy_failures_are_retryable_with_flux_messages(
    rule: Rule,
    tag_filter: TagFilterSpec | None,
    tags: list[str],
    error_type: type[Exception],
    message: str,
) -> None:
    evaluation = compile_policy(PolicySpec(rule, tag_filter)).evaluate(tags)
    assert evaluation.latest is None
    assert isinstance(evaluation.error, error_type)
    assert isinstance(evaluation.error, RetryableError)
    assert evaluation.error.reason == "Failure"
    assert str(evaluation.error) == message
    with pytest.raises(error_type):
        evaluation.require_latest()


@pytest.mark.parametrize(
    ("spec", "message", "field"),
    [
        pytest.param(
            PolicySpec(SemverRule("")), "invalid policy: ", "spec.policy.semver.range",
            id="empty-range",
        ),
        pytest.param(
            PolicySpec(SemverRule("1x")), "invalid policy: ", "spec.policy.semver.range",
            id="malformed-range",
        ),
        pytest.param(
            PolicySpec(NumericalRule("up")),  # type: ignore[arg-type]
            "invalid policy: invalid order argument provided: 'UP', must be one of: ASC, DESC",
            "spec.policy.numerical.order",
            id="bad-numerical-order",
        ),
        pytest.param(
            PolicySpec(AlphabeticalRule("")),  # type: ignore[arg-type]
            "invalid policy: invalid order argument provided: '', must be one of: ASC, DESC",
            "spec.policy.alphabetical.order",
            id="empty-alphabetical-order",
        ),
        pytest.param(
            PolicySpec(SemverRule("*"), TagFilterSpec("(")),
            "failed to filter tags: invalid regular expression pattern '(': ",
            "spec.filterTags.pattern",
            id="bad-pattern",
        ),
    ],
)  # fmt: skip
def test_bad_policies_stall_at_compile_time(spec: PolicySpec, message: str, field: str) -> None:
    with pytest.raises(InvalidPolicyError) as caught:
        compile_policy(spec)
    assert isinstance(caught.value, StalledError)
    assert isinstance(caught.value, InvalidInputError), "the CLI exits 2 for a bad policy"
    assert caught.value.reason == "InvalidPolicy"
    assert caught.value.field == field
    assert str(caught.value).startswith(message)


def test_order_is_case_insensitive_like_the_controller() -> None:
    assert _latest(NumericalRule("DESC"), ["1", "2"]) == "1"  # type: ignore[arg-type]


def test_evaluation_is_independent_of_input_order_and_duplicates() -> None:
    policy = compile_policy(PolicySpec(SemverRule("*")))
    tags = ["1.2.3", "v1.2.3", "1.0.0", "1.2.3"]
    first = policy.evaluate(tags)
    second = policy.evaluate(reversed(tags))
    assert first.latest == second.latest == "v1.2.3"
    assert first.candidate_count == second.candidate_count == 3
