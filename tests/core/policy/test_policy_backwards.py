"""``backwards_move``: does replacing one tag by another go backwards for this policy?"""

from __future__ import annotations

import pytest

from tagpilot.core.policy import (
    AlphabeticalRule,
    NumericalRule,
    PolicySpec,
    SemverRule,
    TagFilterSpec,
    compile_policy,
)
from tagpilot.core.policy.lint import backwards_move

BLASTER = PolicySpec(NumericalRule("asc"), TagFilterSpec(r"^dev-(?P<ts>[0-9]{8}\.[0-9]+)$", "$ts"))
SEMVER = PolicySpec(SemverRule(">=1.0.0"))
ALPHABETICAL = PolicySpec(AlphabeticalRule("asc"))


@pytest.mark.parametrize(
    ("spec", "old", "new", "expected"),
    [
        pytest.param(
            BLASTER,
            "dev-20251115.42",
            "dev-20251115.9",
            "dev-20251115.42 -> dev-20251115.9 looks like a downgrade: this policy ranks "
            "dev-20251115.9 higher, but read as counters 9 < 42 (numerical order compares "
            "them as decimal numbers); check the policy's order",
            id="runbook-numerical-decimal-downgrade",
        ),
        pytest.param(BLASTER, "dev-20251115.42", "dev-20251115.51", None, id="a-real-upgrade"),
        pytest.param(
            BLASTER,
            "dev-20251115.51",
            "dev-20251115.42",
            "dev-20251115.42 sorts below dev-20251115.51, the tag it replaces, in this "
            "policy's own order: dev-20251115.51 is no longer among the candidates (deleted "
            "from the registry, excluded or filtered out), so the policy fell back to an "
            "older tag",
            id="previous-tag-gone-from-the-registry",
        ),
        pytest.param(BLASTER, "latest", "dev-20251115.42", None, id="old-tag-outside-filter"),
        pytest.param(BLASTER, "dev-20251115.9", "dev-20251115.9", None, id="same-tag"),
        pytest.param(
            SEMVER,
            "2.0.0",
            "1.9.0",
            "1.9.0 sorts below 2.0.0, the tag it replaces, in this policy's own order: 2.0.0 "
            "is no longer among the candidates (deleted from the registry, excluded or "
            "filtered out), so the policy fell back to an older tag",
            id="semver-fell-back",
        ),
        pytest.param(SEMVER, "1.9.0", "1.10.0", None, id="semver-reads-versions-right"),
        pytest.param(SEMVER, "banana", "1.0.0", None, id="old-tag-not-a-version"),
        pytest.param(
            ALPHABETICAL,
            "build-10",
            "build-9",
            "build-10 -> build-9 looks like a downgrade: this policy ranks build-9 higher, but "
            "read as counters 9 < 10 (alphabetical order compares them character by "
            "character); check the policy's order",
            id="alphabetical-counter-downgrade",
        ),
        pytest.param(ALPHABETICAL, "main-abc", "main-abd", None, id="alphabetical-no-numbers"),
        pytest.param(ALPHABETICAL, "v1-x", "v2", None, id="different-shapes-are-not-judged"),
    ],
)
def test_backwards_move_says_when_an_update_goes_back(
    spec: PolicySpec, old: str, new: str, expected: str | None
) -> None:
    compiled = compile_policy(spec)
    assert backwards_move(compiled.policer, compiled.tag_filter, old, new) == expected
