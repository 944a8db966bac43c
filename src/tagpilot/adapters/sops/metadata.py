"""The ``sops:`` metadata block: read it from a parsed file, write it in sops' field order.

Called by ``api``.  Only age master keys are supported; a file that also holds PGP or cloud KMS
keys still decrypts when one of its age recipients matches.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from tagpilot.adapters.sops.errors import SopsDecryptError
from tagpilot.adapters.sops.format import format_go_time, parse_go_time
from tagpilot.adapters.sops.tree import ListNode, MapNode, Node
from tagpilot.adapters.sops.walk import CryptRule

__all__ = ["SOPS_VERSION", "AgeStanza", "SopsMetadata", "format_lastmodified"]

SOPS_VERSION = "3.11.0"
"""Written as ``version``: sops parses it to pick legacy behaviour, so it must be a sops release;
this is the release whose format tagpilot is tested against."""

_KEY_TYPES = ("kms", "gcp_kms", "hckms", "azure_kv", "hc_vault", "pgp", "key_groups")
_RULE_FIELDS = tuple(f.name for f in fields(CryptRule) if f.name[0] != "_")


@dataclass(frozen=True)
class AgeStanza:
    """The data key encrypted to one age recipient (armored age file)."""

    recipient: str
    enc: str


@dataclass(frozen=True)
class SopsMetadata:
    """Everything in a file's ``sops`` block that tagpilot uses."""

    age: tuple[AgeStanza, ...]
    lastmodified: str
    mac: str
    rule: CryptRule
    version: str = SOPS_VERSION
    other_key_types: tuple[str, ...] = ()

    @classmethod
    def from_plain(cls, block: Any, *, file: str) -> SopsMetadata:
        """Read a ``sops`` block given as plain dict/list values."""
        if not isinstance(block, dict):
            raise SopsDecryptError(f"{file}: the sops metadata block is not a mapping")
        try:
            rule = CryptRule(
                **{name: _rule_value(name, block.get(name)) for name in _RULE_FIELDS}
            ).normalized()
        except (ValueError, TypeError) as exc:
            raise SopsDecryptError(f"{file}: invalid crypt rule in sops metadata: {exc}") from exc
        return cls(
            age=_age_stanzas(block.get("age"), file),
            lastmodified=_required_str(block, "lastmodified", file),
            mac=_required_str(block, "mac", file),
            rule=rule,
            version=str(block.get("version") or ""),
            other_key_types=tuple(k for k in _KEY_TYPES if block.get(k)),
        )

    @property
    def recipients(self) -> tuple[str, ...]:
        """The age recipients the data key is encrypted to."""
        return tuple(stanza.recipient for stanza in self.age)

    def mac_aad(self) -> str:
        """The MAC's additional data: ``lastmodified`` re-formatted as Go RFC 3339 (seconds)."""
        return format_lastmodified(parse_go_time(self.lastmodified))

    def to_node(self) -> MapNode:
        """Render as sops orders it: keys, lastmodified, mac, crypt rule, flag, version."""
        stanzas = ListNode(
            tuple(MapNode((("recipient", s.recipient), ("enc", s.enc))) for s in self.age)
        )
        items: list[tuple[str, Node]] = [
            ("age", stanzas),
            ("lastmodified", self.lastmodified),
            ("mac", self.mac),
        ]
        items += [(name, getattr(self.rule, name)) for name in self.rule.active_names()]
        if self.rule.mac_only_encrypted:
            items.append(("mac_only_encrypted", True))
        items.append(("version", self.version))
        return MapNode(tuple(items))


def format_lastmodified(moment: datetime) -> str:
    """Go ``time.Format(time.RFC3339)``: seconds precision, ``Z`` for UTC."""
    return format_go_time(moment.replace(microsecond=0))


def _rule_value(name: str, value: Any) -> Any:
    if name == "mac_only_encrypted":
        return value is True or value == "true"
    return "" if value is None else str(value)


def _required_str(block: dict[str, Any], name: str, file: str) -> str:
    value = block.get(name)
    if not isinstance(value, str | datetime) or not value:
        raise SopsDecryptError(f"{file}: the sops metadata has no {name}")
    return format_lastmodified(value) if isinstance(value, datetime) else value


def _age_stanzas(value: Any, file: str) -> tuple[AgeStanza, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(
        isinstance(s, dict)
        and isinstance(s.get("recipient"), str)
        and isinstance(s.get("enc"), str)
        for s in value
    ):
        raise SopsDecryptError(f"{file}: sops.age must be a list of {{recipient, enc}} entries")
    return tuple(AgeStanza(s["recipient"], s["enc"]) for s in value)
