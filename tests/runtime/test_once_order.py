"""The order of a one-shot pass: which kinds wait for which, and what may run side by side."""

from __future__ import annotations

import pytest

from tagpilot.runtime.engine import KINDS
from tagpilot.runtime.once import chains

IMAGES = ("ImageRepository", "ImagePolicy", "ImageUpdateAutomation")
SOURCES = ("GitRepository", "Kustomization")


@pytest.mark.parametrize(
    ("dry_run", "expected"),
    [
        # a pushed commit is fetched by its source in the same pass
        pytest.param(False, [(*IMAGES, *SOURCES)], id="sources-after-the-automations-push"),
        # nothing is pushed: the sources fetch while the images are scanned
        pytest.param(True, [IMAGES, SOURCES], id="dry-run-fetches-sources-beside-the-images"),
    ],
)
def test_each_chain_runs_its_kinds_in_dependency_order(
    dry_run: bool, expected: list[tuple[str, ...]]
) -> None:
    assert chains(dry_run) == expected


@pytest.mark.parametrize("dry_run", [False, True], ids=["pushing", "dry-run"])
def test_every_reconciled_kind_is_in_exactly_one_chain(dry_run: bool) -> None:
    kinds = [kind for chain in chains(dry_run) for kind in chain]
    assert sorted(kinds) == sorted(KINDS)
