"""Shared pieces of the hostile-input suites: fuzz profiles, the typed-error check, mutators.

Every fuzz test runs twice: ``fast`` in the default run (few examples, well under the
suite budget) and ``long`` behind ``@pytest.mark.slow`` (``make fuzz``).  Profiles are
applied per test, never loaded globally, so other suites keep their own settings.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tagpilot.core.errors import TagpilotError

__all__ = [
    "FAST",
    "LONG",
    "PROFILES",
    "YAML_TOKENS",
    "Profile",
    "finishes_within",
    "mutated",
    "only_typed_errors",
    "run_property",
    "tokens_text",
]

T = TypeVar("T")


@dataclass(frozen=True)
class Profile:
    """How hard one run of a property tries: examples and the per-example deadline."""

    name: str
    max_examples: int
    deadline_ms: int

    def settings(self) -> settings:
        """Hypothesis settings for this profile (no shrinking database noise, no health nags)."""
        return settings(
            max_examples=self.max_examples,
            deadline=self.deadline_ms,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
            derandomize=self.name == "fast",
        )


FAST = Profile("fast", max_examples=200, deadline_ms=5_000)
LONG = Profile("long", max_examples=5_000, deadline_ms=10_000)

PROFILES = [
    pytest.param(FAST, id="fast"),
    pytest.param(LONG, id="long", marks=pytest.mark.slow),
]
"""Parametrize a fuzz test with this: ``@pytest.mark.parametrize("profile", PROFILES)``."""


def run_property(
    profile: Profile, strategy: st.SearchStrategy[T], check: Callable[[T], Any]
) -> None:
    """Run ``check`` on values drawn from ``strategy`` under ``profile``."""

    @profile.settings()
    @given(strategy)
    def run(value: T) -> None:
        check(value)

    run()


def only_typed_errors(call: Callable[[], T], *allowed: type[Exception]) -> T | Exception:
    """Call ``call``; return its result or the typed error it raised.

    Typed means a ``TagpilotError`` or one of ``allowed`` (documented ``ValueError``
    subclasses such as ``SemverError``).  Anything else propagates and fails the test.
    """
    try:
        return call()
    except (TagpilotError, *allowed) as error:
        return error


@contextmanager
def finishes_within(seconds: float) -> Iterator[None]:
    """Fail when the block takes longer than ``seconds`` (wall clock)."""
    start = time.perf_counter()
    yield
    elapsed = time.perf_counter() - start
    assert elapsed < seconds, f"took {elapsed:.2f}s, expected under {seconds}s"


YAML_TOKENS = [
    *("- ", ": ", "? ", "{", "}", "[", "]", ",", "&a ", "*a", "&b ", "*b", "<<: ", "!!int ",
      "!!str ", "!!float ", "!!binary ", "!!omap ", "!!set ", "!!timestamp ", "!foo ", "|", ">",
      "|-", ">+", "#", " # c", '"', "'", "\\", "\n", "\r\n", "\r", "\t", "  ", "---\n", "...\n",
      "%YAML 1.1\n", "%TAG ! tag:x,2000:\n", "\ufeff", "\x00", "\x85", "\u2028", "\udcff",
      "~", "null", "yes", "0x1F", "0o17", "1e9999", ".nan", "2001-13-45", "12:30:45",
      "9" * 5000, "é", "😀", "$imagepolicy", '{"$imagepolicy": "ns:p"}'),
]  # fmt: skip
"""Fragments that hit the YAML grammar's sharp corners (anchors, tags, indicators, breaks)."""


def tokens_text(tokens: list[str], max_size: int = 30) -> st.SearchStrategy[str]:
    """Texts glued from ``tokens`` and arbitrary characters."""
    piece = st.one_of(st.sampled_from(tokens), st.text(max_size=4))
    return st.lists(piece, max_size=max_size).map("".join)


@st.composite
def mutated(draw: st.DrawFn, originals: list[str], tokens: list[str] = YAML_TOKENS) -> str:
    """A real text with a few edits: insert a token, delete or duplicate a span, truncate."""
    text = draw(st.sampled_from(originals))
    for _ in range(draw(st.integers(1, 4))):
        where = draw(st.integers(0, len(text)))
        edit = draw(st.sampled_from(["insert", "delete", "duplicate", "truncate", "swap"]))
        span = draw(st.integers(1, 40))
        if edit == "insert":
            text = text[:where] + draw(st.sampled_from(tokens)) + text[where:]
        elif edit == "delete":
            text = text[:where] + text[where + span :]
        elif edit == "duplicate":
            text = text[:where] + text[where : where + span] * 2 + text[where + span :]
        elif edit == "truncate":
            text = text[:where]
        else:
            text = text[:where] + draw(st.text(max_size=span)) + text[where + span :]
    return text
