"""Properties of evaluation that must hold for any tag list, checked with hypothesis."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from tagpilot.core.policy import (
    AlphabeticalRule,
    NumericalRule,
    PolicySpec,
    Rule,
    SemverRule,
    compile_policy,
)
from tagpilot.core.semver import parse_flux_version

TAG_CHARS = st.sampled_from("0123456789.-+_vxabcrcINFnafp")
TAGS = st.lists(st.text(TAG_CHARS, min_size=1, max_size=12), max_size=30)
NUMBERS = st.lists(st.integers(-(10**6), 10**6), min_size=1, max_size=30)
ALL_RULES: list[Rule] = [
    SemverRule("*"),
    SemverRule(">=1.0.0-0"),
    NumericalRule("asc"),
    AlphabeticalRule(),
]


@settings(max_examples=60, deadline=None)
@given(tags=TAGS, shuffle_seed=st.randoms(use_true_random=False))
def test_input_order_and_duplicates_never_change_the_pick(
    tags: list[str], shuffle_seed: random.Random
) -> None:
    shuffled = [*tags, *tags[:3]]
    shuffle_seed.shuffle(shuffled)
    for rule in ALL_RULES:
        policy = compile_policy(PolicySpec(rule))
        first, second = policy.evaluate(tags), policy.evaluate(shuffled)
        assert (first.latest, str(first.error)) == (second.latest, str(second.error))


@settings(max_examples=60, deadline=None)
@given(numbers=NUMBERS)
def test_numerical_asc_picks_a_tag_with_the_maximum_value(numbers: list[int]) -> None:
    evaluation = compile_policy(PolicySpec(NumericalRule("asc"))).evaluate(map(str, numbers))
    assert evaluation.latest is not None
    assert int(evaluation.latest) == max(numbers)


@settings(max_examples=60, deadline=None)
@given(tags=TAGS)
def test_semver_pick_is_a_version_no_other_tag_exceeds(tags: list[str]) -> None:
    evaluation = compile_policy(PolicySpec(SemverRule(">=0.0.0-0"))).evaluate(tags)
    versions = [v for v in map(parse_flux_version, tags) if v is not None]
    if not versions:
        assert evaluation.latest is None
        return
    assert evaluation.latest is not None
    picked = parse_flux_version(evaluation.latest)
    assert picked is not None
    assert all(not v > picked for v in versions)


@settings(max_examples=40, deadline=None)
@given(tags=TAGS)
def test_every_distinct_tag_gets_exactly_one_verdict(tags: list[str]) -> None:
    evaluation = compile_policy(PolicySpec(NumericalRule("asc"))).evaluate(tags)
    assert sorted(v.tag for v in evaluation.verdicts) == sorted(set(tags))
    selected = [v.tag for v in evaluation.verdicts if v.status == "selected"]
    assert selected == ([evaluation.latest] if evaluation.latest is not None else [])
