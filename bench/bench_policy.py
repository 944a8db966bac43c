"""Benchmark: evaluating a tag policy over 100,000 tags against RE2 matching alone.

The floor is the cheapest thing any implementation must do: run the policy's filter
pattern over every tag with google-re2.  tagpilot's evaluation adds storage ordering,
candidate mapping, extraction and the policer; the target is at most 3x the floor.

Rows: (a) a semver range behind a filter pattern, (b) numerical order on an extracted
value.  Each is measured warm (parse results memoised, as in a daemon re-evaluating the
same tags) and cold (memo cleared before every run, the first evaluation).

Run with ``python -m bench policy``.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import re2

from bench.common import Result, best_of
from tagpilot.core.policy import (
    NumericalRule,
    PolicySpec,
    SemverRule,
    TagFilterSpec,
    compile_policy,
)
from tagpilot.core.policy.policers import cached_float, cached_version

__all__ = ["generate_tags", "run"]

TAG_COUNT = 100_000
TARGET = "<= 3x"

SEMVER_SPEC = PolicySpec(
    SemverRule(">=1.0.0 <40.0.0"),
    TagFilterSpec(pattern=r"^v?[0-9]+\.[0-9]+\.[0-9]+"),
)
NUMERICAL_SPEC = PolicySpec(
    NumericalRule("asc"),
    TagFilterSpec(pattern=r"^dev-(?P<ts>[0-9]{8}\.[0-9]+)$", extract="$ts"),
)


def generate_tags(count: int = TAG_COUNT, seed: int = 20251115) -> list[str]:
    """``count`` mixed tags, the same for the same seed: versions, builds, shas, junk."""
    rng = random.Random(seed)
    makers: list[Callable[[random.Random], str]] = [
        _semver,
        _semver,
        _prerelease,
        _dev_build,
        _dev_build,
        _sha,
        _junk,
    ]
    tags = [rng.choice(makers)(rng) for _ in range(count - 1)]
    return [*tags, "latest"]


def _semver(rng: random.Random) -> str:
    prefix = "v" if rng.random() < 0.3 else ""
    return f"{prefix}{rng.randrange(50)}.{rng.randrange(30)}.{rng.randrange(300)}"


def _prerelease(rng: random.Random) -> str:
    label = rng.choice(["rc", "beta", "alpha"])
    return f"{_semver(rng)}-{label}.{rng.randrange(20)}"


def _dev_build(rng: random.Random) -> str:
    day = f"2025{rng.randrange(1, 13):02d}{rng.randrange(1, 29):02d}"
    return f"dev-{day}.{rng.randrange(1, 400)}"


def _sha(rng: random.Random) -> str:
    return f"sha-{rng.getrandbits(28):07x}"


def _junk(rng: random.Random) -> str:
    return rng.choice(["main", "stable", "edge", "nightly", "pr-"]) + str(rng.randrange(10**6))


def _clear_memo() -> None:
    cached_version.cache_clear()
    cached_float.cache_clear()


def _case(name: str, spec: PolicySpec, tags: list[str]) -> list[Result]:
    assert spec.filter is not None
    regex = re2.compile(spec.filter.pattern)
    policy = compile_policy(spec)
    assert policy.evaluate(tags).latest is not None, f"{name}: the benchmark must pick a tag"

    def floor() -> object:
        return [regex.search(tag) for tag in tags]

    def cold() -> object:
        _clear_memo()
        return policy.evaluate(tags)

    floor_time = best_of(floor)
    warm_time = best_of(lambda: policy.evaluate(tags))
    cold_time = best_of(cold)
    note = f"{len(tags)} tags, {policy.evaluate(tags).candidate_count} candidates"
    return [
        Result(f"policy {name} (warm)", "evaluate", warm_time, "re2 search", floor_time,
               target=TARGET, note=note),
        Result(f"policy {name} (cold)", "evaluate", cold_time, "re2 search", floor_time,
               target=TARGET, note=note + "; parse memo cleared"),
    ]  # fmt: skip


def run() -> list[Result]:
    """Both policy cases, warm and cold, against the RE2 floor."""
    tags = generate_tags()
    return [
        *_case("semver+filter", SEMVER_SPEC, tags),
        *_case("numerical+extract", NUMERICAL_SPEC, tags),
    ]
