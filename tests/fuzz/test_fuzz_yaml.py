"""Fuzz the YAML readers: the manifest loader and the setters take any text without crashing.

Property: ``load_text`` returns or raises a ``TagpilotError`` (``ManifestError``);
``apply_setters`` never raises (unparsable files come back with ``problem`` set) and a
second pass over its output changes nothing.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from fuzz_corpus import MANIFESTS, MARKED
from fuzz_support import PROFILES, YAML_TOKENS, Profile, mutated, only_typed_errors, run_property
from fuzz_support import tokens_text as soup
from hypothesis import strategies as st

from tagpilot.api.loader import load_text
from tagpilot.core.setters import PolicyTarget, apply_setters

# ruamel warns (a Python warning, not an error) when an anchor is defined twice; YAML allows
# it and the later one wins.  pytest turns warnings into errors, so the fuzzers ignore it.
pytestmark = pytest.mark.filterwarnings("ignore::ruamel.yaml.error.ReusedAnchorWarning")

FLUX_KINDS = [
    ("image.toolkit.fluxcd.io/v1beta2", "ImageRepository"),
    ("image.toolkit.fluxcd.io/v1beta2", "ImagePolicy"),
    ("image.toolkit.fluxcd.io/v1beta2", "ImageUpdateAutomation"),
    ("source.toolkit.fluxcd.io/v1", "GitRepository"),
    ("notification.toolkit.fluxcd.io/v1", "Receiver"),
    ("v1", "Secret"),
]
FIELD_NAMES = [
    *("spec", "image", "interval", "policy", "semver", "range", "numerical", "order",
      "alphabetical", "filterTags", "pattern", "extract", "imageRepositoryRef", "name",
      "namespace", "secretRef", "git", "commit", "messageTemplate", "update", "path",
      "strategy", "sourceRef", "kind", "url", "ref", "branch", "resources", "events",
      "type", "data", "stringData", "suspend", "exclusionList", "timeout", "provider"),
]  # fmt: skip
JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False),
    st.text(max_size=20),
    st.sampled_from(["1m", "-1s", "99999h", ">=1.0.0", "(?P<ts>.*)", "../..", "asc", "*"]),
)
JSON_TREES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(FIELD_NAMES), st.text(max_size=6)), inner),
    ),
    max_leaves=25,
)


@st.composite
def flux_documents(draw: st.DrawFn) -> str:
    """A Flux-kinded object with a random body, written as JSON (which YAML reads)."""
    api_version, kind = draw(st.sampled_from(FLUX_KINDS))
    body: dict[str, Any] = {"apiVersion": api_version, "kind": kind}
    body["metadata"] = draw(st.one_of(JSON_TREES, st.just({"name": "x", "namespace": "apps"})))
    body["spec"] = draw(JSON_TREES)
    body.update(draw(st.dictionaries(st.sampled_from(FIELD_NAMES), JSON_TREES, max_size=2)))
    return json.dumps(body)


def _load(text: str) -> None:
    only_typed_errors(lambda: load_text(text, file="fuzz.yaml"))


@pytest.mark.parametrize("profile", PROFILES)
def test_loader_raises_only_typed_errors_on_mutated_manifests(profile: Profile) -> None:
    run_property(profile, mutated(MANIFESTS), _load)


@pytest.mark.parametrize("profile", PROFILES)
def test_loader_raises_only_typed_errors_on_token_soup(profile: Profile) -> None:
    run_property(profile, soup(YAML_TOKENS), _load)


@pytest.mark.parametrize("profile", PROFILES)
def test_loader_raises_only_typed_errors_on_flux_kinds_with_random_bodies(
    profile: Profile,
) -> None:
    run_property(profile, flux_documents(), _load)


TAGS = st.one_of(
    st.sampled_from(["1.0.1", "1.10", "yes", "null", "", "a: b", "#x", " x", "'q'", '"d"', "é"]),
    st.text(max_size=12),
)


def _table(tag: str) -> dict[str, PolicyTarget]:
    return {
        "apps:app": PolicyTarget("ghcr.io/acme/app", tag),
        "apps:side": PolicyTarget("ghcr.io/acme/side", tag, "sha256:" + "ab" * 32),
    }


def _setters_settle(case: tuple[str, str]) -> None:
    text, tag = case
    first = apply_setters(text, "fuzz.yaml", _table(tag))
    if first.problem is not None:
        assert first.new_text == text
        return
    again = apply_setters(first.new_text, "fuzz.yaml", _table(tag))
    assert again.problem is None, again.problem
    assert not again.changed, again.records
    assert again.new_text == first.new_text


@pytest.mark.parametrize("profile", PROFILES)
def test_setters_never_raise_and_settle_after_one_pass_on_mutated_files(
    profile: Profile,
) -> None:
    run_property(profile, st.tuples(mutated(MARKED), TAGS), _setters_settle)


@pytest.mark.parametrize("profile", PROFILES)
def test_setters_never_raise_on_token_soup(profile: Profile) -> None:
    marked = soup([*YAML_TOKENS, ' # {"$imagepolicy": "apps:app"}\n', "- x"], max_size=40)
    run_property(profile, st.tuples(marked, TAGS), _setters_settle)
