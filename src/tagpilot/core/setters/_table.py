"""The setter table: what each ``$imagepolicy`` marker value resolves to.

The update run (and ``tagpilot setters apply``) builds one ``PolicyTarget`` per usable
policy, keyed by ``"ns:policy"``; ``setter_values`` expands it into the four marker
forms Flux understands.  Pure values only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["PolicyTarget", "SetterTable", "setter_values"]


@dataclass(frozen=True)
class PolicyTarget:
    """A policy's latest image: ``name`` as the ImageRepository spells it, ``tag``, ``digest``."""

    name: str
    tag: str
    digest: str = ""

    @property
    def full(self) -> str:
        """The full reference a bare ``ns:policy`` marker writes: ``name:tag[@digest]``."""
        reference = f"{self.name}:{self.tag}" if self.tag else self.name
        return f"{reference}@{self.digest}" if self.digest else reference


SetterTable = Mapping[str, PolicyTarget]
"""Policies by ``"namespace:name"``; only the automation's own namespace ever appears."""


def setter_values(table: SetterTable) -> dict[str, str]:
    """Expand ``table`` into marker value → new scalar value for all four marker forms."""
    values: dict[str, str] = {}
    for key, target in table.items():
        values[key] = target.full
        values[f"{key}:tag"] = target.tag
        values[f"{key}:name"] = target.name
        # Flux writes the empty string when the policy reflects no digest.
        values[f"{key}:digest"] = target.digest
    return values
