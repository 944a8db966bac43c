"""One descriptor per kind is the spine: every table of kinds is read from it.

The engine's dispatch, the loader's kind table, the server's kind lists and the CLI's
command words all come from ``tagpilot.api.descriptors`` (and, for the reconcilers,
``tagpilot.reconcile.kinds``), so they cannot drift apart.
"""

from __future__ import annotations

import pytest

from tagpilot.api.descriptors import (
    CLI_GROUPS,
    DESCRIPTORS,
    cli_kinds,
    descriptor,
    find_descriptor,
    reconciled_kinds,
)
from tagpilot.api.kinds import KIND_MODELS, model_for
from tagpilot.reconcile.kinds import RECONCILERS
from tagpilot.runtime.engine import KINDS
from tagpilot.server.protocols import API_KINDS, RECONCILABLE_KINDS


def test_the_reconciled_kinds_are_bound_to_reconcilers_in_run_order() -> None:
    assert tuple(r.kind for r in RECONCILERS) == reconciled_kinds() == KINDS
    assert reconciled_kinds() == RECONCILABLE_KINDS
    assert all(r.descriptor is descriptor(r.kind) for r in RECONCILERS)


def test_every_kind_on_the_command_line_has_a_status_model_and_columns() -> None:
    for info in cli_kinds():
        assert info.status_model is not None and info.columns, info.kind
        assert info.group in CLI_GROUPS
    assert tuple(info.kind for info in cli_kinds()) == API_KINDS


def test_words_are_unique_within_a_group() -> None:
    for group in CLI_GROUPS:
        words = [w for d in cli_kinds() if d.group == group for w in (d.word, *d.aliases)]
        assert len(words) == len(set(words)), group


def test_the_loader_table_is_the_descriptors() -> None:
    assert {kind: versions for kind, (_, versions) in KIND_MODELS.items()} == {
        d.kind: d.api_versions for d in DESCRIPTORS
    }
    for d in DESCRIPTORS:
        assert model_for(d.api_version, d.kind) is d.model


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        pytest.param("ImagePolicy", "ImagePolicy", id="exact"),
        pytest.param("imagepolicy", "ImagePolicy", id="lower-case"),
        pytest.param("GITREPOSITORY", "GitRepository", id="upper-case"),
        pytest.param("ImagePolcy", None, id="misspelt"),
    ],
)
def test_a_kind_is_found_by_name_as_flux_finds_it(name: str, kind: str | None) -> None:
    found = find_descriptor(name)
    assert (found.kind if found else None) == kind


def test_statuses_parse_from_fluxs_json_and_an_empty_one_is_empty() -> None:
    info = descriptor("ImagePolicy")
    status = info.parse_status({"latestRef": {"name": "ghcr.io/a/b", "tag": "1.0.0"}})
    assert status.latest_ref.tag == "1.0.0"
    assert info.parse_status(None) == info.parse_status({})
    with pytest.raises(ValueError, match="latestRef"):
        info.parse_status({"latestRef": "1.0.0"})
