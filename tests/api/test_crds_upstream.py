"""Our CRDs against Flux's, field by field, read from Flux's Go modules at test time.

For every kind and its served version: the openAPIV3Schema (every keyword but
``description``), the printer columns, the names, the scope, the subresources and the
versions.  A difference that is deliberate must be listed in :data:`DELIBERATE` with its
reason; today there is none.  Flux's example objects (source-controller's samples, the
flux CLI's test data) must load into our models.

Flux's files are never copied into the repository: :mod:`tests.kube.upstream` downloads the
modules through the Go module proxy (and, for the image kinds, whose controller modules the
proxy refuses, generates the CRDs from the published ``api`` modules as Flux's Makefile
does; the first test shows that this reproduces a released CRD byte for byte).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from ruamel.yaml import YAML
from tests.api.crd_compare import schema_differences
from tests.kube.upstream import (
    EXAMPLE_KINDS,
    SOURCE_CONTROLLER,
    SOURCE_CONTROLLER_API,
    UpstreamError,
    example_objects,
    flux_module,
    generated_crds,
    released_crds,
    upstream_crd,
)

from tagpilot.api.crds import CRD_KINDS, CrdKind, crd_document
from tagpilot.api.kinds import model_for

DELIBERATE: dict[str, set[str]] = {
    # kind: {"<path>: <difference>" exactly as schema_differences words it}, each with a
    # comment saying why tagpilot differs from Flux there.  Empty: no deliberate difference.
}

KINDS = [pytest.param(kind, id=kind.kind) for kind in CRD_KINDS]


def _upstream(name: str) -> dict[str, Any]:
    try:
        return upstream_crd(name)
    except UpstreamError as error:
        pytest.fail(f"Flux's CRD {name} is needed for this comparison: {error}", pytrace=False)


def _versions(crd: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {version["name"]: version for version in crd["spec"]["versions"]}


def _columns(version: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {key: value for key, value in column.items() if key != "description"}
        for column in version.get("additionalPrinterColumns", [])
    ]


def test_generating_from_an_api_module_reproduces_the_released_crds_byte_for_byte() -> None:
    # The method used for the image kinds, checked where both the api module and the
    # released files are available.
    released = flux_module(*SOURCE_CONTROLLER) / "config" / "crd" / "bases"
    generated = generated_crds(*SOURCE_CONTROLLER_API)
    assert set(generated) == set(released_crds(*SOURCE_CONTROLLER))
    yaml = YAML(typ="safe")
    for path in released.glob("*.yaml"):
        assert generated[yaml.load(path.read_text())["metadata"]["name"]] == yaml.load(
            path.read_text()
        ), path.name


@pytest.mark.parametrize("kind", KINDS)
def test_the_schema_of_every_served_version_matches_fluxs(kind: CrdKind) -> None:
    ours, theirs = _versions(crd_document(kind)), _versions(_upstream(kind.name))
    assert {n: (v["served"], v["storage"]) for n, v in ours.items()} == {
        n: (v["served"], v["storage"]) for n, v in theirs.items()
    }
    for name, version in theirs.items():
        found = schema_differences(
            ours[name]["schema"]["openAPIV3Schema"], version["schema"]["openAPIV3Schema"]
        )
        assert set(found) == DELIBERATE.get(kind.kind, set()), "\n".join(found)


@pytest.mark.parametrize("kind", KINDS)
def test_kubectl_get_shows_fluxs_columns(kind: CrdKind) -> None:
    ours, theirs = _versions(crd_document(kind)), _versions(_upstream(kind.name))
    for name, version in theirs.items():
        assert _columns(ours[name]) == _columns(version)


@pytest.mark.parametrize("kind", KINDS)
def test_names_scope_and_subresources_match_fluxs(kind: CrdKind) -> None:
    ours, theirs = crd_document(kind), _upstream(kind.name)
    assert ours["metadata"]["name"] == theirs["metadata"]["name"]
    for key in ("group", "names", "scope"):
        assert ours["spec"][key] == theirs["spec"][key], key
    for name, version in _versions(theirs).items():
        assert _versions(ours)[name].get("subresources") == version.get("subresources")
    substitute = "kustomize.toolkit.fluxcd.io/substitute"
    assert (
        ours["metadata"]["annotations"][substitute] == theirs["metadata"]["annotations"][substitute]
    )


def _examples() -> list[Any]:
    try:
        found = example_objects()
    except UpstreamError as error:
        pytest.fail(f"Flux's modules are needed for their examples: {error}", pytrace=False)
    return [pytest.param(document, id=where) for where, document in found]


def test_flux_ships_examples_of_every_kind() -> None:
    kinds = {param.values[0]["kind"] for param in _examples()}
    assert kinds == set(EXAMPLE_KINDS)


@pytest.mark.parametrize("example", _examples())
def test_every_flux_example_object_loads_into_our_model(example: dict[str, Any]) -> None:
    model = model_for(example["apiVersion"], example["kind"])
    assert model is not None, example["apiVersion"]
    loaded = model.model_validate(example)
    assert loaded.metadata.name == example["metadata"]["name"]


def test_the_allow_list_names_only_kinds_we_have() -> None:
    assert set(DELIBERATE) <= {kind.kind for kind in CRD_KINDS}


@pytest.mark.parametrize(
    ("change", "reported"),
    [
        pytest.param(
            lambda s: s["properties"]["spec"]["properties"]["interval"].update(pattern="^x$"),
            "spec.interval: pattern ours '^x$'",
            id="a changed pattern",
        ),
        pytest.param(
            lambda s: s["properties"]["spec"]["properties"].pop("suspend"),
            "spec.suspend: only in Flux's",
            id="a missing property",
        ),
        pytest.param(
            lambda s: s["properties"]["spec"]["required"].append("timeout"),
            "spec: required ours",
            id="a longer required list",
        ),
        pytest.param(
            lambda s: s["properties"]["status"].pop("default"),
            "status: default ours None",
            id="a missing default",
        ),
    ],
)
def test_the_comparison_reports_a_difference(change: Any, reported: str) -> None:
    theirs = _upstream("imagerepositories.image.toolkit.fluxcd.io")
    schema = copy.deepcopy(_versions(theirs)["v1"]["schema"]["openAPIV3Schema"])
    change(schema)
    found = schema_differences(schema, _versions(theirs)["v1"]["schema"]["openAPIV3Schema"])
    assert len(found) == 1 and found[0].startswith(reported), found
