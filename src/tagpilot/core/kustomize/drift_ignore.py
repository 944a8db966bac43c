"""A Kustomization's ``spec.ignore``: fields that drift detection and apply leave alone.

Each rule lists RFC 6901 JSON pointers and an optional ``target`` (``group``, ``version``,
``kind``, ``name``, ``namespace`` as anchored regexes, in RE2; ``labelSelector`` and
``annotationSelector`` in the API server's selector syntax); no target means every object.
For an object the rules select, as kustomize-controller does:

* **drift**: the pointers are removed from both the dry-run result and the live object
  before they are compared, so a field another writer changed (replicas under an HPA, a
  CA bundle a webhook injects) is not drift;
* **apply**: in the payload, each ignored field is dropped when another Apply manager owns
  it, and otherwise set to its live value (left out when the live object has none), so the
  controller neither reverts the other writer nor wipes the field.

A rule that cannot be compiled is Stalled ``InvalidInput``, naming the field, before
anything is applied.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import re2

from tagpilot.api.kustomization import DriftIgnoreRule, KustomizationSpec, KustomizeSelector
from tagpilot.core.errors import InvalidInputError, SourceLocation
from tagpilot.core.kustomize.inventory import entry_for
from tagpilot.core.kustomize.selector import (
    Requirement,
    SelectorSyntaxError,
    matches,
    parse_selector,
)

__all__ = [
    "IgnoreRules",
    "compile_rules",
    "owned_by_another_applier",
    "payload_without_ignored",
    "rules_of",
    "split_pointer",
    "without_paths",
]

_MISSING = object()
_IDENTITY = {("",), ("apiVersion",), ("kind",), ("metadata",), ("metadata", "name"),
             ("metadata", "namespace")}  # fmt: skip


@dataclass(frozen=True)
class _Target:
    patterns: tuple[tuple[str, Any], ...]
    """(identity field, compiled regex) for each regex the target sets."""
    labels: tuple[Requirement, ...]
    annotations: tuple[Requirement, ...]

    def selects(self, obj: Mapping[str, Any]) -> bool:
        identity = _identity(obj)
        if any(not pattern.fullmatch(identity[field]) for field, pattern in self.patterns):
            return False
        metadata = obj.get("metadata") or {}
        return matches(self.labels, metadata.get("labels") or {}) and matches(
            self.annotations, metadata.get("annotations") or {}
        )


@dataclass(frozen=True)
class _Rule:
    pointers: tuple[tuple[str, ...], ...]
    target: _Target | None


@dataclass(frozen=True)
class IgnoreRules:
    """Compiled ``spec.ignore`` rules; :meth:`paths_for` answers per object."""

    rules: tuple[_Rule, ...] = ()

    def paths_for(self, obj: Mapping[str, Any]) -> tuple[tuple[str, ...], ...]:
        """The pointers (as segment tuples) the rules ignore on ``obj``, in rule order."""
        found: list[tuple[str, ...]] = []
        for rule in self.rules:
            if rule.target is None or rule.target.selects(obj):
                found.extend(p for p in rule.pointers if p not in found)
        return tuple(found)


def rules_of(spec: KustomizationSpec) -> IgnoreRules:
    """A Kustomization's compiled drift-ignore rules (``spec.ignore``, else the
    ``spec.driftIgnoreRules`` spelling); InvalidInputError names a bad one."""
    field, rules = spec.drift_ignore
    return compile_rules(rules, field=field)


def compile_rules(rules: Sequence[DriftIgnoreRule] | None, *, field: str) -> IgnoreRules:
    """Compile ``rules`` (the spec's ``field``); InvalidInputError names a bad one."""
    compiled = []
    for index, rule in enumerate(rules or ()):
        where = f"{field}[{index}]"
        pointers = tuple(_pointer(p, f"{where}.paths[{i}]") for i, p in enumerate(rule.paths))
        target = None if rule.target is None else _target(rule.target, f"{where}.target")
        compiled.append(_Rule(pointers, target))
    return IgnoreRules(tuple(compiled))


def split_pointer(pointer: str) -> tuple[str, ...]:
    """RFC 6901: ``/a/b~1c`` → ``("a", "b/c")``; ValueError when it does not start with ``/``."""
    if not pointer.startswith("/"):
        raise ValueError("a JSON pointer starts with '/'")
    return tuple(s.replace("~1", "/").replace("~0", "~") for s in pointer[1:].split("/"))


def without_paths(obj: Mapping[str, Any], paths: Sequence[tuple[str, ...]]) -> dict[str, Any]:
    """A copy of ``obj`` without the fields at ``paths`` (absent ones are no matter)."""
    result = copy.deepcopy(dict(obj))
    for path in paths:
        _remove(result, path)
    return result


def payload_without_ignored(
    desired: Mapping[str, Any],
    live: Mapping[str, Any] | None,
    paths: Sequence[tuple[str, ...]],
    *,
    manager: str,
) -> dict[str, Any]:
    """The apply payload for ``desired`` with each ignored field dropped (another Apply
    manager owns it on ``live``) or set to its live value (``manager`` is its only Apply
    owner); unchanged when nothing is ignored or the object does not exist yet."""
    if live is None or not paths:
        return dict(desired)
    result = copy.deepcopy(dict(desired))
    for path in paths:
        live_value = _get(live, path)
        if owned_by_another_applier(live, path, manager) or live_value is _MISSING:
            _remove(result, path)
        else:
            _set(result, path, copy.deepcopy(live_value))
    return result


def owned_by_another_applier(live: Mapping[str, Any], path: tuple[str, ...], manager: str) -> bool:
    """Whether a field manager other than ``manager`` owns ``path`` through an Apply."""
    for entry in (live.get("metadata") or {}).get("managedFields") or ():
        if entry.get("operation") != "Apply" or entry.get("manager") == manager:
            continue
        if _owns(entry.get("fieldsV1") or {}, live, path):
            return True
    return False


def _owns(fields: Mapping[str, Any], live: Any, path: tuple[str, ...]) -> bool:
    """Walk ``fieldsV1`` along ``path`` (list items by their ``k:``/``v:``/``i:`` keys)."""
    node: Any = fields
    value: Any = live
    for segment in path:
        if isinstance(value, list):
            if not segment.isdigit() or int(segment) >= len(value):
                return False
            value = value[int(segment)]
            key = _item_key(node, value, int(segment))
        else:
            value = value.get(segment, _MISSING) if isinstance(value, Mapping) else _MISSING
            key = f"f:{segment}"
        if not isinstance(node, Mapping) or key is None or key not in node:
            return False
        node = node[key]
    return True


def _item_key(node: Any, item: Any, index: int) -> str | None:
    if not isinstance(node, Mapping):
        return None
    for key in node:
        if key.startswith("k:") and isinstance(item, Mapping):
            wanted = json.loads(key[2:])
            if all(item.get(k) == v for k, v in wanted.items()):
                return str(key)
        elif key == f"i:{index}" or (key.startswith("v:") and json.loads(key[2:]) == item):
            return str(key)
    return None


def _pointer(text: str, where: str) -> tuple[str, ...]:
    try:
        path = split_pointer(text)
    except ValueError as error:
        raise _invalid(where, text, str(error)) from None
    if path in _IDENTITY:
        raise _invalid(where, text, "the object's identity cannot be ignored")
    return path


def _target(selector: KustomizeSelector, where: str) -> _Target:
    patterns = []
    for field in ("group", "version", "kind", "name", "namespace"):
        text = getattr(selector, field)
        if text:
            try:
                patterns.append((field, re2.compile(f"(?:{text})")))
            except re2.error as error:
                raise _invalid(f"{where}.{field}", text, f"not an RE2 regex: {error}") from None
    return _Target(
        tuple(patterns),
        _selector(selector.label_selector, f"{where}.labelSelector"),
        _selector(selector.annotation_selector, f"{where}.annotationSelector"),
    )


def _selector(text: str | None, where: str) -> tuple[Requirement, ...]:
    try:
        return parse_selector(text or "")
    except SelectorSyntaxError as error:
        raise _invalid(where, text or "", str(error)) from None


def _invalid(where: str, value: str, problem: str) -> InvalidInputError:
    return InvalidInputError(
        f"invalid {where} {value!r}: {problem}",
        location=SourceLocation(field=where, value=value),
    )


def _identity(obj: Mapping[str, Any]) -> dict[str, str]:
    entry = entry_for(obj)
    meta = entry.meta
    return {"group": meta.group, "version": entry.v, "kind": meta.kind, "name": meta.name,
            "namespace": meta.namespace}  # fmt: skip


def _get(obj: Any, path: tuple[str, ...]) -> Any:
    for segment in path:
        if isinstance(obj, Mapping):
            obj = obj.get(segment, _MISSING)
        elif isinstance(obj, list) and segment.isdigit() and int(segment) < len(obj):
            obj = obj[int(segment)]
        else:
            return _MISSING
        if obj is _MISSING:
            return _MISSING
    return obj


def _remove(obj: Any, path: tuple[str, ...]) -> None:
    parent = _get(obj, path[:-1])
    last = path[-1]
    if isinstance(parent, dict):
        parent.pop(last, None)
    elif isinstance(parent, list) and last.isdigit() and int(last) < len(parent):
        del parent[int(last)]


def _set(obj: Any, path: tuple[str, ...], value: Any) -> None:
    parent = obj
    for segment in path[:-1]:
        if isinstance(parent, dict):
            parent = parent.setdefault(segment, {})
        elif isinstance(parent, list) and segment.isdigit() and int(segment) < len(parent):
            parent = parent[int(segment)]
        else:
            return
    last = path[-1]
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list) and last.isdigit() and int(last) < len(parent):
        parent[int(last)] = value
