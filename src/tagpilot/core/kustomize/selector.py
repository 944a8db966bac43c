"""Kubernetes label-selector strings (``app=web,tier in (a,b),!legacy``), parsed and matched.

Flux's kustomize target selectors (``labelSelector``, ``annotationSelector``) use the API
server's selector syntax: comma-separated requirements, each one of ``key``, ``!key``,
``key=value`` (or ``==``), ``key!=value``, ``key in (v1,v2)``, ``key notin (v1,v2)``,
``key>N`` and ``key<N``.  An empty selector matches everything.  As in Kubernetes, ``!=`` and
``notin`` also match objects without the key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["Requirement", "SelectorSyntaxError", "matches", "parse_selector"]

_KEY = r"[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?"
_VALUE = r"([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?"
_EXISTS = re.compile(rf"(?P<not>!)?\s*(?P<key>{_KEY})")
_EQUALS = re.compile(rf"(?P<key>{_KEY})\s*(?P<op>==|=|!=)\s*(?P<value>{_VALUE})")
_SET = re.compile(rf"(?P<key>{_KEY})\s+(?P<op>in|notin)\s*\((?P<values>[^()]*)\)")
_COMPARE = re.compile(rf"(?P<key>{_KEY})\s*(?P<op>[<>])\s*(?P<value>-?[0-9]+)")


class SelectorSyntaxError(ValueError):
    """The selector string is not valid Kubernetes selector syntax; says which part."""


@dataclass(frozen=True)
class Requirement:
    """One requirement of a selector: ``key`` ``operator`` ``values``."""

    key: str
    operator: str
    """``exists``, ``!``, ``=``, ``!=``, ``in``, ``notin``, ``>`` or ``<``."""
    values: tuple[str, ...] = ()

    def holds(self, labels: Mapping[str, str]) -> bool:
        """Whether ``labels`` satisfy this requirement."""
        present = self.key in labels
        value = labels.get(self.key)
        if self.operator == "exists":
            return present
        if self.operator == "!":
            return not present
        if self.operator in ("=", "in"):
            return present and value in self.values
        if self.operator in ("!=", "notin"):
            return value not in self.values
        return present and _compares(value, self.operator, int(self.values[0]))


def _compares(value: str | None, operator: str, bound: int) -> bool:
    try:
        number = int(value or "")
    except ValueError:
        return False
    return number > bound if operator == ">" else number < bound


def parse_selector(text: str) -> tuple[Requirement, ...]:
    """The requirements of ``text``; :class:`SelectorSyntaxError` naming the bad part."""
    return tuple(_requirement(part) for part in _split(text))


def matches(requirements: tuple[Requirement, ...], labels: Mapping[str, str]) -> bool:
    """Whether ``labels`` satisfy every requirement (an empty selector matches all)."""
    return all(r.holds(labels) for r in requirements)


def _split(text: str) -> list[str]:
    """Top-level comma-separated parts (commas inside ``( )`` belong to a value set)."""
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for char in text:
        depth += (char == "(") - (char == ")")
        if char == "," and depth == 0:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    parts.append("".join(current).strip())
    return [] if parts == [""] else parts


def _requirement(part: str) -> Requirement:
    if found := _SET.fullmatch(part):
        values = tuple(v.strip() for v in found["values"].split(","))
        if any(not re.fullmatch(_VALUE, v) for v in values) or values == ("",):
            raise SelectorSyntaxError(f"invalid values in {part!r}")
        return Requirement(found["key"], found["op"], values)
    if found := _EQUALS.fullmatch(part):
        operator = "=" if found["op"] == "==" else found["op"]
        return Requirement(found["key"], operator, (found["value"],))
    if found := _COMPARE.fullmatch(part):
        return Requirement(found["key"], found["op"], (found["value"],))
    if found := _EXISTS.fullmatch(part):
        return Requirement(found["key"], "!" if found["not"] else "exists")
    raise SelectorSyntaxError(f"cannot parse {part!r}" if part else "empty requirement")
