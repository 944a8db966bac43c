"""The CRDs are generated from the models: structural, complete, and following model changes."""

from __future__ import annotations

from typing import Any, Literal

import pytest
from pydantic import Field

from tagpilot.api.crds import CRD_KINDS, crd_document, version_schema
from tagpilot.api.crds.schema import model_schema
from tagpilot.api.crds.table import Patch, apply_patch
from tagpilot.api.descriptors import DESCRIPTORS
from tagpilot.api.duration import DurationField
from tagpilot.api.meta import FluxModel

KINDS = [pytest.param(kind, id=kind.kind) for kind in CRD_KINDS]


def _nodes(schema: Any, path: str = "") -> list[tuple[str, dict[str, Any]]]:
    """Every schema node with its path."""
    found = [(path or "<root>", schema)]
    for name, child in schema.get("properties", {}).items():
        found += _nodes(child, f"{path}.{name}" if path else name)
    if isinstance(schema.get("items"), dict):
        found += _nodes(schema["items"], f"{path}[]")
    if isinstance(schema.get("additionalProperties"), dict):
        found += _nodes(schema["additionalProperties"], f"{path}{{}}")
    return found


@pytest.mark.parametrize("kind", KINDS)
def test_every_schema_node_is_structural(kind: Any) -> None:
    for path, node in _nodes(version_schema(kind)):
        assert "type" in node or node.get("x-kubernetes-preserve-unknown-fields"), path
        assert not {"$ref", "anyOf", "oneOf", "allOf", "title", "$defs"} & set(node), path


@pytest.mark.parametrize("kind", KINDS)
def test_every_model_field_has_a_property_unless_a_patch_removes_it(kind: Any) -> None:
    schema = version_schema(kind)
    removed = {p.path for p in kind.patches if p.remove}
    for part, model in (("spec", kind.spec_model), ("status", kind.status_model)):
        properties = schema["properties"][part]["properties"]
        for name, field in model.model_fields.items():
            json_name = field.alias or name
            assert json_name in properties or f"{part}.{json_name}" in removed, json_name


def test_the_crd_kinds_are_the_reconciled_kinds_and_the_deploy_kinds() -> None:
    reconciled = {d.kind for d in DESCRIPTORS if d.reconciled}
    assert {kind.kind for kind in CRD_KINDS} == reconciled | {"GitRepository", "Kustomization"}


class _Example(FluxModel):
    """A model to watch the emitter's rules at work."""

    name: str = Field(min_length=1, max_length=10, pattern="^[a-z]+$")
    order: Literal["asc", "desc"] = "asc"
    every: DurationField | None = None
    count: int = Field(default=3, ge=0, le=9)
    flag: bool = False
    tags: list[str] = Field(default=["a"], max_length=2)
    extra: dict[str, Any] | None = None
    labels: dict[str, str] | None = None


def test_the_emitter_maps_types_constraints_and_defaults() -> None:
    assert model_schema(_Example) == {
        "description": "A model to watch the emitter's rules at work.",
        "properties": {
            "count": {"default": 3, "maximum": 9, "minimum": 0, "type": "integer"},
            "every": {"pattern": "^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$", "type": "string"},
            "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
            "flag": {"type": "boolean"},
            "labels": {"additionalProperties": {"type": "string"}, "type": "object"},
            "name": {"maxLength": 10, "minLength": 1, "pattern": "^[a-z]+$", "type": "string"},
            "order": {"default": "asc", "enum": ["asc", "desc"], "type": "string"},
            "tags": {"default": ["a"], "items": {"type": "string"}, "maxItems": 2, "type": "array"},
        },
        "required": ["name"],
        "type": "object",
    }


def test_a_duration_default_is_written_as_the_text_of_the_duration() -> None:
    timeout = version_schema(CRD_KINDS[3])["properties"]["spec"]["properties"]["timeout"]
    assert timeout["default"] == "60s"


@pytest.mark.parametrize(
    ("patch", "error"),
    [
        pytest.param(
            Patch("spec.nothing", "x", drop=("type",)), "nothing", id="drop on a missing path"
        ),
        pytest.param(
            Patch("spec.name", "x", drop=("enum",)), "enum", id="drop of a missing keyword"
        ),
        pytest.param(
            Patch("spec.gone", "x", remove=True), "gone", id="remove of a missing property"
        ),
    ],
)
def test_a_patch_that_no_longer_matches_the_models_is_an_error(patch: Patch, error: str) -> None:
    schema: Any = {"properties": {"spec": {"properties": {"name": {"type": "string"}}}}}
    with pytest.raises(KeyError, match=error):
        apply_patch(schema, patch)


def test_removing_a_required_property_drops_it_from_required() -> None:
    schema: Any = {"properties": {"a": {"type": "string"}}, "required": ["a"], "type": "object"}
    apply_patch(schema, Patch("a", "test", remove=True))
    assert schema == {"properties": {}, "type": "object"}


@pytest.mark.parametrize("kind", KINDS)
def test_each_crd_is_owned_by_tagpilot_and_serves_v1_with_a_status_subresource(kind: Any) -> None:
    crd = crd_document(kind)
    assert crd["metadata"]["name"] == f"{kind.plural}.{kind.group}"
    assert crd["metadata"]["labels"]["app.kubernetes.io/part-of"] == "tagpilot"
    (version,) = crd["spec"]["versions"]
    assert (version["name"], version["served"], version["storage"]) == ("v1", True, True)
    assert version["subresources"] == {"status": {}}
    assert crd["spec"]["scope"] == "Namespaced"
    columns = [column["name"] for column in version["additionalPrinterColumns"]]
    assert {"Ready", "Status", "Age"} <= set(columns)
