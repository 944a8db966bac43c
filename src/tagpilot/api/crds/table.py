"""The vocabulary of the per-kind CRD tables: printer columns, CEL rules, schema patches.

A :class:`CrdKind` is everything a CRD says about a kind that its pydantic models do not:
names, short names, categories, the served version, ``kubectl get`` columns, CEL rules
and :class:`Patch` entries.  A patch edits the schema the models produced at one property
path; each one says why, so the difference between "what tagpilot checks" and "what the
API server checks" stays visible in one place per kind.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import BaseModel

from tagpilot.api.crds.schema import JsonValue, Props

__all__ = [
    "AGE_COLUMN",
    "READY_COLUMNS",
    "CelRule",
    "CrdKind",
    "Patch",
    "PrinterColumn",
    "add_rule",
    "apply_patch",
]


@dataclass(frozen=True)
class PrinterColumn:
    """One ``additionalPrinterColumns`` entry (a ``kubectl get`` column)."""

    name: str
    json_path: str
    type: str = "string"
    priority: int = 0

    def document(self) -> Props:
        """The column as CRD JSON."""
        doc: Props = {"jsonPath": self.json_path, "name": self.name}
        if self.priority:
            doc["priority"] = self.priority
        doc["type"] = self.type
        return doc


_READY = '.status.conditions[?(@.type=="Ready")]'
READY_COLUMNS = (
    PrinterColumn("Ready", f"{_READY}.status"),
    PrinterColumn("Status", f"{_READY}.message"),
)
"""The Ready and Status columns every Flux kind shows."""
AGE_COLUMN = PrinterColumn("Age", ".metadata.creationTimestamp", type="date")


@dataclass(frozen=True)
class CelRule:
    """One ``x-kubernetes-validations`` rule at a property path."""

    path: str
    rule: str
    message: str


@dataclass(frozen=True)
class Patch:
    """An edit of the generated schema at ``path`` (``spec.git``, ``status.conditions[]``).

    ``set`` replaces or adds keywords (a new property is created when the path does not
    exist yet); ``drop`` removes keywords; ``remove`` removes the property itself.
    ``why`` is required: every patch is a decision.
    """

    path: str
    why: str
    set: Props = field(default_factory=dict)
    drop: tuple[str, ...] = ()
    remove: bool = False


@dataclass(frozen=True)
class CrdKind:
    """A kind's CRD metadata, next to the models that give its fields."""

    group: str
    kind: str
    plural: str
    spec_model: type[BaseModel]
    status_model: type[BaseModel]
    short_names: tuple[str, ...]
    categories: tuple[str, ...]
    columns: tuple[PrinterColumn, ...]
    version: str = "v1"
    patches: tuple[Patch, ...] = ()
    rules: tuple[CelRule, ...] = ()

    @property
    def singular(self) -> str:
        """The singular resource name (the kind in lower case)."""
        return self.kind.lower()

    @property
    def name(self) -> str:
        """The CRD's name: ``<plural>.<group>``."""
        return f"{self.plural}.{self.group}"


def _node(schema: Props, path: str, create: bool) -> Props:
    """The schema node at ``path``; ``[]`` steps into array items."""
    node = schema
    for step in path.split(".") if path else []:
        name, items = (step[:-2], True) if step.endswith("[]") else (step, False)
        if name:
            properties = node.setdefault("properties", {})
            if not isinstance(properties, dict):
                raise TypeError(f"{path}: properties is not an object")
            if name not in properties:
                if not create:
                    raise KeyError(f"no property {name!r} on the way to {path!r}")
                properties[name] = {}
            child = properties[name]
            if not isinstance(child, dict):
                raise TypeError(f"{path}: {name} is not a schema")
            node = child
        if items:
            child = node.get("items")
            if not isinstance(child, dict):
                raise KeyError(f"{path}: {name or 'node'} is not an array")
            node = child
    return node


def apply_patch(schema: Props, patch: Patch) -> None:
    """Apply ``patch`` to ``schema`` in place; a wrong path is an error, not a no-op."""
    if patch.remove:
        parent_path, _, name = patch.path.rpartition(".")
        parent = _node(schema, parent_path, create=False)
        properties = parent.get("properties")
        if not isinstance(properties, dict) or name not in properties:
            raise KeyError(f"no property to remove at {patch.path!r}")
        del properties[name]
        required = parent.get("required")
        if isinstance(required, list) and name in required:
            required.remove(name)
            if not required:
                del parent["required"]
        return
    node = _node(schema, patch.path, create=bool(patch.set))
    for key in patch.drop:
        if key not in node:
            raise KeyError(f"{patch.path}: nothing to drop at {key!r}")
        del node[key]
    for key, value in patch.set.items():
        node[key] = _copy(value)


def add_rule(schema: Props, rule: CelRule) -> None:
    """Append ``rule`` to the ``x-kubernetes-validations`` at its path."""
    node = _node(schema, rule.path, create=False)
    rules = node.setdefault("x-kubernetes-validations", [])
    if not isinstance(rules, list):
        raise TypeError(f"{rule.path}: x-kubernetes-validations is not a list")
    rules.append({"message": rule.message, "rule": rule.rule})


def _copy(value: JsonValue) -> JsonValue:
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy(item) for item in value]
    return value
