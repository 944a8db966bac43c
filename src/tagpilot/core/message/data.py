"""Go-shaped values for templates: the Flux template data and the value model the executor uses.

Go templates see typed values (structs with exported fields and methods, typed maps and
slices); error messages and ``%v`` output depend on those types.  This module mirrors the
types Flux passes (``source.TemplateData``, ``update.Result``, ``update.ObjectIdentifier``,
``update.Change``, ``types.NamespacedName``) and builds them from a ``ChangeSet``.
Called by ``render`` (building the data) and by the executor and formatter (inspecting it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from tagpilot.core.changes import Change, ChangeSet, ObjectIdentity

__all__ = [
    "NO_VALUE",
    "GoStruct",
    "Int64",
    "NoValue",
    "TypedList",
    "TypedMap",
    "Uint32",
    "build_template_data",
    "go_sort_key",
    "go_type_name",
    "has_string_keys",
]


class NoValue:
    """Go's invalid ``reflect.Value``: a missing map key; prints as ``<no value>``."""

    _instance: ClassVar[NoValue | None] = None

    def __new__(cls) -> NoValue:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "<no value>"


NO_VALUE = NoValue()


class Int64(int):
    """A Go ``int64`` (what Sprig's arithmetic returns), distinct from ``int`` for types."""

    def __repr__(self) -> str:
        return int.__repr__(self)


class Uint32(int):
    """A Go ``uint32`` (a constant given for such a parameter)."""

    def __repr__(self) -> str:
        return int.__repr__(self)


class TypedMap(dict[Any, object]):
    """A Go map: its Go type name, key type and the zero value ``index`` returns."""

    def __init__(
        self,
        items: Mapping[Any, object],
        *,
        go_type: str,
        zero: object,
        key_type: str | None = None,
    ) -> None:
        super().__init__(items)
        self.go_type = go_type
        self.zero = zero
        self.key_type = key_type or go_type.removeprefix("map[").partition("]")[0]


class TypedList(list[object]):
    """A Go slice with its Go type name."""

    def __init__(self, items: list[object], *, go_type: str) -> None:
        super().__init__(items)
        self.go_type = go_type


class GoStruct:
    """A Go struct value: exported fields (name, attribute, embedded?) and niladic methods."""

    GO_TYPE: ClassVar[str] = "struct"
    GO_FIELDS: ClassVar[tuple[tuple[str, str, bool], ...]] = ()
    GO_METHODS: ClassVar[Mapping[str, str]] = {}
    GO_METHOD_PARAMS: ClassVar[Mapping[str, tuple[str, ...]]] = {}
    JSON_OMITEMPTY_NAMES: ClassVar[Mapping[str, str]] = {}

    def field_values(self) -> tuple[object, ...]:
        """The field values in declaration order, as ``%v`` prints them."""
        return tuple(getattr(self, attr) for _, attr, _ in self.GO_FIELDS)

    def method(self, name: str) -> Callable[..., object] | None:
        """The bound method called ``name`` (Go name), if the type has one."""
        attr = self.GO_METHODS.get(name)
        if attr is None:
            return None
        bound: Callable[..., object] = getattr(self, attr)
        return bound

    def params(self, name: str) -> tuple[str, ...]:
        """The Go parameter types of method ``name`` (most methods take none)."""
        return self.GO_METHOD_PARAMS.get(name, ())

    def field(self, name: str) -> tuple[bool, object]:
        """Look up a field by Go name, searching embedded structs like Go's promotion."""
        for go_name, attr, _ in self.GO_FIELDS:
            if go_name == name:
                return True, getattr(self, attr)
        for _, attr, is_embedded in self.GO_FIELDS:
            inner = getattr(self, attr)
            if is_embedded and isinstance(inner, GoStruct):
                found, value = inner.field(name)
                if found:
                    return True, value
        return False, None

    def go_string(self) -> str | None:
        """The ``String()`` method's result when the type is a ``fmt.Stringer``."""
        return None

    def marshal_text(self) -> str | None:
        """The JSON string the type marshals to, when it has its own ``MarshalJSON``."""
        return None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, GoStruct) or type(other) is not type(self):
            return False
        return self.field_values() == other.field_values()

    def __hash__(self) -> int:
        return hash((type(self), self.field_values()))


class NamespacedName(GoStruct):
    """``types.NamespacedName``: prints as ``namespace/name``."""

    GO_TYPE = "types.NamespacedName"
    GO_FIELDS = (("Namespace", "namespace", False), ("Name", "name", False))

    def __init__(self, namespace: str, name: str) -> None:
        self.namespace = namespace
        self.name = name

    def go_string(self) -> str:
        """Go's ``NamespacedName.String``."""
        return f"{self.namespace}/{self.name}"


class _TypeMeta(GoStruct):
    GO_TYPE = "yaml.TypeMeta"
    GO_FIELDS = (("APIVersion", "api_version", False), ("Kind", "kind", False))
    JSON_OMITEMPTY_NAMES: ClassVar[Mapping[str, str]] = {"APIVersion": "apiVersion", "Kind": "kind"}

    def __init__(self, api_version: str, kind: str) -> None:
        self.api_version = api_version
        self.kind = kind


class _NameMeta(GoStruct):
    GO_TYPE = "yaml.NameMeta"
    GO_FIELDS = (("Name", "name", False), ("Namespace", "namespace", False))
    JSON_OMITEMPTY_NAMES: ClassVar[Mapping[str, str]] = {"Name": "name", "Namespace": "namespace"}

    def __init__(self, name: str, namespace: str) -> None:
        self.name = name
        self.namespace = namespace


class _ResourceIdentifier(GoStruct):
    GO_TYPE = "yaml.ResourceIdentifier"
    GO_FIELDS = (("TypeMeta", "type_meta", True), ("NameMeta", "name_meta", True))

    def __init__(self, identity: ObjectIdentity) -> None:
        self.type_meta = _TypeMeta(identity.api_version, identity.kind)
        self.name_meta = _NameMeta(identity.name, identity.namespace)


class ObjectIdentifier(GoStruct):
    """``update.ObjectIdentifier`` (embeds kyaml's ``ResourceIdentifier``)."""

    GO_TYPE = "update.ObjectIdentifier"
    GO_FIELDS = (("ResourceIdentifier", "resource", True),)

    def __init__(self, identity: ObjectIdentity) -> None:
        self.resource = _ResourceIdentifier(identity)


class GoChange(GoStruct):
    """``update.Change``: ``OldValue``, ``NewValue``, ``Setter``."""

    GO_TYPE = "update.Change"
    GO_FIELDS = (
        ("OldValue", "old_value", False),
        ("NewValue", "new_value", False),
        ("Setter", "setter", False),
    )

    def __init__(self, change: Change) -> None:
        self.old_value = change.old_value
        self.new_value = change.new_value
        self.setter = change.setter


def _change_list(changes: list[Change]) -> TypedList:
    return TypedList([GoChange(change) for change in changes], go_type="[]update.Change")


def _object_changes(objects: Mapping[ObjectIdentity, list[Change]]) -> TypedMap:
    items = {ObjectIdentifier(key): _change_list(value) for key, value in objects.items()}
    return TypedMap(
        items,
        go_type="update.ObjectChanges",
        zero=_change_list([]),
        key_type=ObjectIdentifier.GO_TYPE,
    )


class Result(GoStruct):
    """``update.Result``: field ``FileChanges``, methods ``Objects`` and ``Changes``."""

    GO_TYPE = "update.Result"
    GO_FIELDS = (("FileChanges", "file_changes", False),)
    GO_METHODS: ClassVar[Mapping[str, str]] = {"Objects": "objects", "Changes": "changes"}

    def __init__(self, change_set: ChangeSet) -> None:
        self._change_set = change_set
        self._objects: TypedMap | None = None
        self._changes: TypedList | None = None
        files = {name: _object_changes(objs) for name, objs in change_set.file_changes().items()}
        self.file_changes = TypedMap(
            files, go_type="map[string]update.ObjectChanges", zero=_object_changes({})
        )

    def objects(self) -> TypedMap:
        """Flux's ``Result.Objects()`` (built once: templates may call it in loops)."""
        if self._objects is None:
            self._objects = _object_changes(self._change_set.objects())
        return self._objects

    def changes(self) -> TypedList:
        """Flux's ``Result.Changes()`` (built once: templates may call it in loops)."""
        if self._changes is None:
            self._changes = _change_list(self._change_set.changes())
        return self._changes


class TemplateData(GoStruct):
    """``source.TemplateData``: ``AutomationObject``, ``Changed``, ``Values``."""

    GO_TYPE = "source.TemplateData"
    GO_FIELDS = (
        ("AutomationObject", "automation_object", False),
        ("Changed", "changed", False),
        ("Values", "values", False),
    )

    def __init__(self, automation: NamespacedName, changed: Result, values: TypedMap) -> None:
        self.automation_object = automation
        self.changed = changed
        self.values = values


def build_template_data(
    automation: tuple[str, str], changes: ChangeSet, values: Mapping[str, str] | None
) -> TemplateData:
    """The value Flux passes to the commit template, built from our change set."""
    namespace, name = automation
    typed_values = TypedMap(dict(values or {}), go_type="map[string]string", zero="")
    return TemplateData(NamespacedName(namespace, name), Result(changes), typed_values)


def go_type_name(value: object) -> str:
    """The Go type name of a template value, as Go's error messages and ``%T`` spell it."""
    if isinstance(value, GoStruct):
        return value.GO_TYPE
    if isinstance(value, (TypedMap, TypedList)):
        return value.go_type
    simple = {bool: "bool", int: "int", Int64: "int64", float: "float64", str: "string"}
    simple |= {complex: "complex128", Uint32: "uint32"}
    if type(value) in simple:
        return simple[type(value)]
    if isinstance(value, dict):
        return "map[string]interface {}"
    if isinstance(value, list):
        return "[]interface {}"
    return "<nil>" if value is None else "interface {}"


def go_sort_key(value: object) -> Any:
    """Sort key of a map key as Go's ``fmtsort`` orders them (structs field by field)."""
    if isinstance(value, GoStruct):
        return tuple(go_sort_key(field) for field in value.field_values())
    if isinstance(value, bool):
        return int(value)
    return value


def has_string_keys(mapping: dict[object, object]) -> bool:
    """True for a Go map keyed by strings (where ``.key`` field syntax works)."""
    if isinstance(mapping, TypedMap):
        return mapping.key_type == "string"
    return all(isinstance(key, str) for key in mapping)
