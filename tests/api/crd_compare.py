"""Field-by-field comparison of two CRD schemas (ours against Flux's).

Every keyword counts except ``description`` (prose, which tagpilot writes itself):
property names, types, formats, enums, patterns, defaults, bounds, ``x-kubernetes-*``
markers, CEL rules.  ``required`` and ``enum`` are compared as sets (their order means
nothing).  Each difference is one line ``<path>: <what>``, so an allow-list can name it
exactly.
"""

from __future__ import annotations

from typing import Any

__all__ = ["schema_differences"]

_RECURSIVE = ("properties", "items", "additionalProperties")
_IGNORED = ("description",)


def schema_differences(ours: Any, theirs: Any, path: str = "") -> list[str]:
    """What differs between two schema nodes, as ``path: difference`` lines."""
    where = path or "<root>"
    if not isinstance(ours, dict) or not isinstance(theirs, dict):
        return [] if ours == theirs else [f"{where}: ours {ours!r}, Flux {theirs!r}"]
    found: list[str] = []
    keys = (set(ours) | set(theirs)) - set(_IGNORED)
    for key in sorted(keys):
        mine, upstream = ours.get(key), theirs.get(key)
        if key == "properties":
            found += _properties(mine or {}, upstream or {}, path)
        elif key in _RECURSIVE:
            if mine is None or upstream is None:
                found.append(f"{where}: {key} ours {_short(mine)}, Flux {_short(upstream)}")
            else:
                found += schema_differences(
                    mine, upstream, f"{path}{'[]' if key == 'items' else '{}'}"
                )
        elif key == "enum":
            # The order of an enum means nothing to validation; its members do.
            if sorted(mine or []) != sorted(upstream or []):
                found.append(f"{where}: enum ours {mine!r}, Flux {upstream!r}")
        elif key == "required":
            missing, extra = (
                set(upstream or ()) - set(mine or ()),
                set(mine or ()) - set(upstream or ()),
            )
            if missing or extra:
                found.append(
                    f"{where}: required ours {sorted(mine or [])}, Flux {sorted(upstream or [])}"
                )
        elif mine != upstream:
            found.append(f"{where}: {key} ours {mine!r}, Flux {upstream!r}")
    return found


def _properties(mine: dict[str, Any], upstream: dict[str, Any], path: str) -> list[str]:
    found: list[str] = []
    for name in sorted(set(mine) | set(upstream)):
        child = f"{path}.{name}" if path else name
        if name not in upstream:
            found.append(f"{child}: only in ours")
        elif name not in mine:
            found.append(f"{child}: only in Flux's")
        else:
            found += schema_differences(mine[name], upstream[name], child)
    return found


def _short(value: Any) -> str:
    return "absent" if value is None else "present"
