"""``.sops.yaml`` creation rules: find the file, pick the first rule matching a path.

Called by ``api.encrypt_document`` and the CLI.  ``path_regex`` is an unanchored RE2 search
against the file's path made absolute and then relative to the directory holding
``.sops.yaml``, as sops matches it.  Decryption never needs this file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import re2
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from tagpilot.adapters.sops.keys import parse_recipients
from tagpilot.adapters.sops.walk import CryptRule
from tagpilot.core.errors import InvalidInputError, SourceLocation

__all__ = ["CONFIG_NAME", "CreationRule", "SopsConfig", "find_config", "load_config"]

CONFIG_NAME = ".sops.yaml"
_MAX_LEVELS = 100
_RULE_KEYS = (
    "unencrypted_suffix",
    "encrypted_suffix",
    "unencrypted_regex",
    "encrypted_regex",
    "unencrypted_comment_regex",
    "encrypted_comment_regex",
)


@dataclass(frozen=True)
class CreationRule:
    """One ``creation_rules`` entry reduced to what tagpilot encrypts with."""

    path_regex: str
    recipients: tuple[str, ...]
    crypt: CryptRule
    index: int

    def matches(self, relative_path: str) -> bool:
        """Tell whether ``path_regex`` (unanchored) finds a match in ``relative_path``."""
        return not self.path_regex or re2.search(self.path_regex, relative_path) is not None


@dataclass(frozen=True)
class SopsConfig:
    """A parsed ``.sops.yaml`` and the directory its paths are relative to."""

    file: str
    directory: str
    rules: tuple[CreationRule, ...]

    def rule_for(self, path: str | Path) -> CreationRule:
        """Return the first rule matching ``path``; raise ``InvalidInputError`` when none does."""
        relative = os.path.relpath(os.path.abspath(path), os.path.abspath(self.directory))
        for rule in self.rules:
            if rule.matches(relative):
                return rule
        raise InvalidInputError(
            f"no creation rule matches {relative} (path_regex is searched in the path relative "
            "to the directory of .sops.yaml)",
            location=SourceLocation(self.file, None, "creation_rules"),
        )


def find_config(start: str | Path) -> Path | None:
    """Walk up from ``start`` (a directory) looking for ``.sops.yaml``, as sops does."""
    current = Path(start).absolute()
    for _ in range(_MAX_LEVELS):
        candidate = current / CONFIG_NAME
        if candidate.is_file():
            return candidate
        if current.parent == current:
            return None
        current = current.parent
    return None


def load_config(path: str | Path) -> SopsConfig:
    """Parse a ``.sops.yaml``; rules with only non-age keys are kept without recipients."""
    file = str(path)
    try:
        raw = YAML(typ="safe").load(Path(path).read_text(encoding="utf-8"))
    except (OSError, YAMLError) as exc:
        raise InvalidInputError(
            f"cannot read sops config: {exc}", location=SourceLocation(file)
        ) from exc
    rules = raw.get("creation_rules") if isinstance(raw, dict) else None
    if not isinstance(rules, list):
        raise InvalidInputError(
            "expected a creation_rules list", location=SourceLocation(file, None, "creation_rules")
        )
    parsed = tuple(_rule(entry, index, file) for index, entry in enumerate(rules))
    return SopsConfig(file, str(Path(path).absolute().parent), parsed)


def _rule(entry: Any, index: int, file: str) -> CreationRule:
    where = f"creation_rules[{index}]"
    if not isinstance(entry, dict):
        raise InvalidInputError(
            "a creation rule must be a mapping", location=SourceLocation(file, None, where)
        )
    path_regex = str(entry.get("path_regex") or "")
    try:
        re2.compile(path_regex)
        crypt = CryptRule(
            **{key: str(entry[key]) for key in _RULE_KEYS if entry.get(key)},
            mac_only_encrypted=entry.get("mac_only_encrypted") is True,
        )
    except (re2.error, ValueError) as exc:
        raise InvalidInputError(str(exc), location=SourceLocation(file, None, where)) from exc
    age = entry.get("age") or _single_group_age(entry, file, where)
    recipients = parse_recipients(
        age if isinstance(age, str) else [str(a) for a in age], source=f"{file}: {where}.age"
    )
    return CreationRule(path_regex, recipients, crypt, index)


def _single_group_age(entry: dict[str, Any], file: str, where: str) -> Any:
    """Age recipients of a rule's only key group; several groups mean Shamir sharing."""
    groups = entry.get("key_groups") or []
    if len(groups) > 1:
        raise InvalidInputError(
            "several key_groups (Shamir secret sharing) are not supported",
            location=SourceLocation(file, None, f"{where}.key_groups"),
        )
    return (groups[0].get("age") if groups and isinstance(groups[0], dict) else None) or ""
