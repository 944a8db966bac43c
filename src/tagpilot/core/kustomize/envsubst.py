"""Flux's post-build variable substitution (``spec.postBuild``), one object at a time.

What Flux's kustomize-controller does, reproduced:

* Variables come from every ``substituteFrom`` entry in order (a later entry overwrites an
  earlier one), then the inline ``substitute`` map on top; newlines are removed from every
  value (:func:`merge_variables`).  Names must match ``^[_[:alpha:]][_[:alpha:][:digit:]]*$``.
* An object whose label **or** annotation ``kustomize.toolkit.fluxcd.io/substitute`` is
  exactly ``disabled`` (case-sensitive) is left alone.
* Otherwise, if at least one variable exists (or the strategy is ``Always``), the object is
  written as YAML the way Go's yaml v2 writes it, ``${...}`` expressions in that text are
  expanded (:func:`expand`), and the text is parsed back, so a substituted ``"8080"`` becomes
  the number 8080, exactly as in Flux.
* Strict mode (Flux's default since v1.9): a variable that is not defined, referenced bare or
  through a value-reading operator, is an error; the default-supplying operators are exempt.

The expression language is Flux's fork of drone/envsubst, quirks included, because the same
manifest must render the same way under Flux and tagpilot:

* only ``${...}`` expands (``$var`` is text); ``$$`` is a literal ``$``;
* ``${v}``, ``${#v}`` (length in bytes), ``${v^}``, ``${v^^}``, ``${v,}``, ``${v,,}``,
  ``${v:pos}``, ``${v:pos:len}`` (byte offsets), ``${v#p}``, ``${v##p}``, ``${v%p}``, ``${v%%p}``
  (``p`` a glob whose ``*`` also matches ``/``), ``${v/p/r}``, ``${v//p/r}``, ``${v/#p/r}``,
  ``${v/%p/r}`` (``p`` a plain string; ``\\/`` and ``$$`` escape inside);
* ``${v=d}``, ``${v:=d}``, ``${v:-d}`` all mean "``d`` if ``v`` is unset **or empty**";
  ``${v:+d}`` and ``${v:?d}`` parse but behave the same way (Flux does not implement them);
  ``${v-d}``, ``${v+d}`` and ``${v?d}`` without the colon are syntax errors in Flux, so here too.
"""

from __future__ import annotations

import base64
import binascii
import copy
import re
from collections.abc import Mapping, Sequence
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.constructor import SafeConstructor
from ruamel.yaml.error import YAMLError

from tagpilot.api.goyaml import emit_document
from tagpilot.core.errors import StalledError
from tagpilot.core.kustomize.envsubst_syntax import EnvsubstError, evaluate

__all__ = [
    "SUBSTITUTE_KEY",
    "VARIABLE_NAME_PATTERN",
    "SubstitutionError",
    "expand",
    "merge_variables",
    "secret_variables",
    "substitute_object",
    "substitution_disabled",
    "validate_variable_names",
]

SUBSTITUTE_KEY = "kustomize.toolkit.fluxcd.io/substitute"
"""Label or annotation key; the exact value ``disabled`` opts an object out."""

VARIABLE_NAME_PATTERN = "^[_[:alpha:]][_[:alpha:][:digit:]]*$"
"""The rule Flux states in its error message (POSIX classes are ASCII-only in Go's RE2)."""

_VARIABLE_NAME = re.compile(r"[_A-Za-z][_A-Za-z0-9]*\Z")


class SubstitutionError(StalledError):
    """Post-build substitution failed: a bad variable name, bad syntax or an undefined variable."""

    reason = "BuildFailed"


def expand(text: str, variables: Mapping[str, str], *, strict: bool = True) -> str:
    """Expand every ``${...}`` in ``text``; errors are worded as Flux words them.

    Raises :class:`SubstitutionError` with the message Flux's envsubst gives (for example
    ``variable not set (strict mode): "cluster_env"`` or ``bad substitution``).
    """
    try:
        return evaluate(text, variables, strict=strict)
    except EnvsubstError as exc:
        raise SubstitutionError(str(exc)) from None


# --- variables and objects ---------------------------------------------------------------


def merge_variables(
    sources: Sequence[Mapping[str, str]], inline: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The variables of one Kustomization: ``substituteFrom`` data in order, then ``substitute``.

    A later source overwrites an earlier one and the inline map wins over all; ``\\n`` is
    removed from every value (Flux does this so a value cannot break the YAML structure).
    """
    merged: dict[str, str] = {}
    for data in [*sources, inline or {}]:
        for key, value in data.items():
            merged[key] = value.replace("\n", "")
    return merged


def secret_variables(data: Mapping[str, str], *, where: str) -> dict[str, str]:
    """A Secret's ``data`` decoded from base64, for :func:`merge_variables`.

    ``where`` names the Secret (``Secret/name``) in the error; values never appear in it.
    """
    decoded: dict[str, str] = {}
    for key, value in data.items():
        try:
            decoded[key] = base64.b64decode(value, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise SubstitutionError(
                f"substitute from '{where}' error: key '{key}' is not base64-encoded UTF-8 text"
            ) from None
    return decoded


def validate_variable_names(variables: Mapping[str, str]) -> None:
    """Refuse a variable name Flux refuses, with Flux's message."""
    for name in variables:
        if not _VARIABLE_NAME.match(name):
            raise SubstitutionError(
                f"'{name}' var name is invalid, must match '{VARIABLE_NAME_PATTERN}'"
            )


def substitution_disabled(obj: Mapping[str, Any]) -> bool:
    """Whether the object opts out: label or annotation exactly ``disabled``."""
    metadata = obj.get("metadata") or {}
    return any(
        (metadata.get(field) or {}).get(SUBSTITUTE_KEY) == "disabled"
        for field in ("labels", "annotations")
    )


def _reference(obj: Mapping[str, Any]) -> str:
    metadata = obj.get("metadata") or {}
    parts = [
        str(obj.get("kind", "")),
        str(metadata.get("namespace") or ""),
        str(metadata.get("name", "")),
    ]
    return "/".join(part for part in parts if part)


class _GoYamlConstructor(SafeConstructor):
    """YAML 1.1 scalars as Go's yaml v2 reads them into JSON: timestamps stay strings."""


_GoYamlConstructor.add_constructor(
    "tag:yaml.org,2002:timestamp", SafeConstructor.construct_yaml_str
)


def _load(text: str) -> Any:
    yaml = YAML(typ="safe", pure=True)
    yaml.Constructor = _GoYamlConstructor
    yaml.version = (1, 1)
    return yaml.load(text)


def substitute_object(
    obj: Mapping[str, Any],
    variables: Mapping[str, str],
    *,
    strict: bool = True,
    always: bool = False,
) -> dict[str, Any]:
    """One built object after substitution (a new mapping; the input is not changed).

    Skipped (a plain copy returned) when the object opts out or there are no variables and
    ``always`` (``substituteStrategy: Always``) is off.  Raises :class:`SubstitutionError`,
    naming the object as ``Kind/namespace/name``, when a name is invalid, an expression is
    malformed, a variable is undefined in strict mode, or the result is not valid YAML.
    """
    if substitution_disabled(obj) or not (variables or always):
        return copy.deepcopy(dict(obj))
    where = _reference(obj)
    try:
        validate_variable_names(variables)
        text = expand(emit_document(obj), variables, strict=strict)
    except SubstitutionError as exc:
        raise SubstitutionError(
            f"var substitution failed for '{where}': variable substitution failed: {exc}"
        ) from None
    try:
        result = _load(text)
    except YAMLError as exc:
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise SubstitutionError(
            f"var substitution failed for '{where}': YAMLToJSON: {problem}"
        ) from None
    if not isinstance(result, dict):
        raise SubstitutionError(
            f"var substitution failed for '{where}': the result is not a Kubernetes object"
        )
    return result
