"""A structural OpenAPI v3 schema from a pydantic model, the shape a CRD version needs.

The walk reads the model's fields, not pydantic's JSON Schema output, because a CRD
schema must be *structural*: every ``$ref`` inlined, ``nullable`` instead of ``anyOf``
with ``null``, a ``type`` on every node, no ``title``.  The rules, in the order they
apply to one field:

* the JSON name is the field's alias (Flux's camelCase name);
* ``X | None`` is X, optional; a field with no default is required;
* ``str``/``int``/``bool``/``float`` map to ``string``/``integer``/``boolean``/``number``;
  ``Literal[...]`` of strings is an ``enum``; ``list[X]`` an ``array``; ``dict[str, X]`` an
  ``object`` with ``additionalProperties``; ``dict[str, Any]``/``Any`` keep unknown fields
  (``x-kubernetes-preserve-unknown-fields``); a model is an ``object`` with its properties;
* a type carrying its own JSON Schema (``WithJsonSchema``, e.g. durations) uses it;
* ``min_length``/``max_length``/``pattern``/``ge``/``le`` become ``minLength``/``maxLength``
  (``minItems``/``maxItems`` on lists), ``pattern``, ``minimum``/``maximum``;
* a model's description is the first paragraph of its docstring (for ``kubectl explain``);
* a default becomes the CRD ``default`` unless it is ``None``, ``False`` or empty: Flux
  declares no such defaults, and the API server would otherwise write them into every
  object (a dump of the object would then show fields the user never wrote).

What the models cannot say (integer formats, Flux's looser ``required`` lists, CEL rules)
is patched in per kind by :mod:`tagpilot.api.crds.kinds`, by property path.
"""

from __future__ import annotations

import types
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types
from pydantic import BaseModel, TypeAdapter, WithJsonSchema
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

__all__ = ["JsonValue", "Props", "describe", "model_schema", "type_schema"]

JsonValue = None | bool | int | float | str | Sequence["JsonValue"] | Mapping[str, "JsonValue"]
"""A JSON value (what a CRD document is made of); read-only views, so ``dict[str, str]`` fits."""

Props = dict[str, JsonValue]
"""One node of an OpenAPI v3 schema (``JSONSchemaProps``), keyed by its JSON names."""

_SCALARS: dict[type, str] = {str: "string", int: "integer", bool: "boolean", float: "number"}


def _strip_optional(annotation: Any) -> Any:
    """``X | None`` → ``X`` (other unions are not used by the API models)."""
    if get_origin(annotation) in (Union, types.UnionType):
        members = [arg for arg in get_args(annotation) if arg is not type(None)]
        if len(members) != 1:
            raise TypeError(f"cannot map union {annotation!r} to a structural schema")
        return members[0]
    return annotation


def _split_annotated(annotation: Any) -> tuple[Any, list[Any]]:
    """``Annotated[X, m...]`` → ``(X, [m...])``; anything else → ``(annotation, [])``."""
    if get_origin(annotation) is Annotated:
        base, *metadata = get_args(annotation)
        return base, metadata
    return annotation, []


def _apply_constraints(props: Props, metadata: list[Any]) -> None:
    """Length, pattern and bound constraints of ``metadata`` onto ``props``."""
    is_array = props.get("type") == "array"
    for item in metadata:
        if isinstance(item, annotated_types.MinLen):
            props["minItems" if is_array else "minLength"] = item.min_length
        elif isinstance(item, annotated_types.MaxLen):
            props["maxItems" if is_array else "maxLength"] = item.max_length
        elif isinstance(item, annotated_types.Ge):
            props["minimum"] = _number(item.ge)
        elif isinstance(item, annotated_types.Le):
            props["maximum"] = _number(item.le)
        elif getattr(item, "pattern", None) is not None:
            props["pattern"] = str(item.pattern)


def _number(value: object) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"bound {value!r} is not a number")
    return value


def _json_schema_override(metadata: list[Any]) -> Props | None:
    for item in metadata:
        if isinstance(item, WithJsonSchema) and item.json_schema is not None:
            return dict(item.json_schema)
    return None


def type_schema(annotation: Any, metadata: list[Any] | None = None) -> Props:
    """The schema of one annotation (with the field's own constraint ``metadata``)."""
    annotation = _strip_optional(annotation)
    annotation, inner = _split_annotated(annotation)
    annotation = _strip_optional(annotation)
    constraints = [*inner, *(metadata or [])]
    override = _json_schema_override(constraints)
    if override is not None:
        return override
    origin = get_origin(annotation)
    props: Props
    if annotation is Any:
        props = {"x-kubernetes-preserve-unknown-fields": True}
    elif origin is Literal:
        values = list(get_args(annotation))
        if not all(isinstance(value, str) for value in values):
            raise TypeError(f"only string Literals map to an enum: {annotation!r}")
        props = {"enum": values, "type": "string"}
    elif origin is list:
        (item,) = get_args(annotation)
        props = {"items": type_schema(item), "type": "array"}
    elif origin is dict:
        _, value = get_args(annotation)
        if _strip_optional(value) is Any:
            props = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
        else:
            props = {"additionalProperties": type_schema(value), "type": "object"}
    elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
        props = model_schema(annotation)
    elif annotation in _SCALARS:
        props = {"type": _SCALARS[annotation]}
    else:
        raise TypeError(f"no structural schema for {annotation!r}")
    _apply_constraints(props, constraints)
    return props


def _default(field: FieldInfo) -> JsonValue:
    """The field's default as JSON, or None when the CRD should declare none."""
    if field.default_factory is not None or field.default is PydanticUndefined:
        return None
    value: object = field.default
    if value is not None:
        # The field's own serializer: durations as their text, models by their JSON names.
        annotated: Any = field.annotation
        if field.metadata:
            annotated = Annotated[annotated, *field.metadata]
        adapter: TypeAdapter[Any] = TypeAdapter(annotated)
        value = adapter.dump_python(value, mode="json", by_alias=True, exclude_none=True)
    if value is None or value is False or value in ("", [], {}):
        return None
    if not isinstance(value, str | int | float | list | dict):
        raise TypeError(f"default {value!r} is not JSON")
    return value


def _json_name(name: str, field: FieldInfo) -> str:
    return field.alias or field.serialization_alias or name


def describe(model: type[BaseModel]) -> str | None:
    """The first paragraph of the model's docstring, as ``kubectl explain`` shows it."""
    doc = model.__doc__ or ""
    first = doc.strip().split("\n\n", 1)[0]
    text = " ".join(first.split()).replace("``", "`")
    return text or None


def model_schema(model: type[BaseModel]) -> Props:
    """The object schema of ``model``: properties sorted by JSON name, required listed."""
    properties: dict[str, JsonValue] = {}
    required: list[str] = []
    for name, field in model.model_fields.items():
        key = _json_name(name, field)
        props = type_schema(field.annotation, list(field.metadata))
        default = _default(field)
        if default is not None:
            props["default"] = default
        properties[key] = props
        if field.is_required():
            required.append(key)
    schema: Props = {"type": "object"}
    description = describe(model)
    if description:
        schema["description"] = description
    if properties:
        schema["properties"] = dict(sorted(properties.items()))
    if required:
        schema["required"] = sorted(required)
    return schema
