"""``spec.healthCheckExprs``: Flux's CEL status rules for custom kinds.

Each entry names an ``apiVersion`` and ``kind`` and up to three CEL expressions over the
live object (its fields are the top-level variables: ``status``, ``metadata``, ``spec``).
For an object of that group and kind (the version does not matter, as Flux matches the
GroupKind) the rule replaces kstatus: a deleted object is Terminating; a
``status.observedGeneration`` that differs from ``metadata.generation`` is InProgress;
otherwise ``inProgress``, then ``failed``, then ``current`` are evaluated and the first true
one decides; none true is InProgress.  An expression that cannot be evaluated (a field the
object does not have yet) gives Unknown with the error, so the wait goes on until
``timeout``, as Flux's reader error does.  An expression that does not compile refuses the
Kustomization at once: Stalled, ``InvalidCELExpression``.

The expressions run in cel-python (pure Python, no I/O), imported on first use: it costs about
60 ms, which a Kustomization without ``healthCheckExprs`` (and every other command) never pays.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from tagpilot.api.kustomization import CustomHealthCheck
from tagpilot.core.errors import StalledError
from tagpilot.core.kustomize.kstatus import Result, Status

__all__ = [
    "INVALID_CEL_EXPRESSION",
    "HealthExpressions",
    "InvalidCELExpressionError",
    "cel_environment",
    "compile_cel",
]

INVALID_CEL_EXPRESSION = "InvalidCELExpression"
_ORDER = (("in_progress", Status.IN_PROGRESS), ("failed", Status.FAILED),
          ("current", Status.CURRENT))  # fmt: skip


if TYPE_CHECKING:
    import celpy


@cache
def cel_environment() -> celpy.Environment:
    """The CEL environment (cel-python is imported on the first call: see the docstring)."""
    import celpy  # noqa: PLC0415  (deferred: see the module docstring)

    return celpy.Environment()


class InvalidCELExpressionError(StalledError):
    """A ``healthCheckExprs`` expression that does not compile: a configuration error."""

    reason = INVALID_CEL_EXPRESSION


@dataclass(frozen=True)
class _Rule:
    group: str
    kind: str
    programs: tuple[tuple[Status, str, Any], ...]
    """(status it decides, field name, compiled program), in evaluation order."""


def _group(api_version: str) -> str:
    return api_version.rpartition("/")[0]


def compile_cel(text: str, where: str) -> Any:
    """``text`` compiled to a CEL program; :class:`InvalidCELExpressionError` naming
    ``where`` (the field) when it does not parse."""
    from celpy.celparser import CELParseError  # noqa: PLC0415  (deferred)

    environment = cel_environment()
    try:
        return environment.program(environment.compile(text))
    except CELParseError as error:
        first = str(error).splitlines()[0] if str(error) else "parse error"
        raise InvalidCELExpressionError(
            "Reconciliation failed terminally due to configuration error: "
            f"{where}: failed to parse {text!r}: {first}",
            reason=INVALID_CEL_EXPRESSION,
        ) from None


def _compile(entry: CustomHealthCheck, index: int) -> _Rule:
    programs = []
    for field, status in _ORDER:
        text = getattr(entry, field)
        if text:
            where = f"spec.healthCheckExprs[{index}].{_camel(field)}"
            program = compile_cel(text, f"{where} ({entry.api_version} {entry.kind})")
            programs.append((status, field, program))
    return _Rule(_group(entry.api_version), entry.kind, tuple(programs))


def _camel(field: str) -> str:
    head, *rest = field.split("_")
    return head + "".join(part.title() for part in rest)


class HealthExpressions:
    """The compiled rules of one Kustomization, usable as kstatus' ``custom`` reader."""

    def __init__(self, entries: Sequence[CustomHealthCheck] | None) -> None:
        """Compile every entry; :class:`InvalidCELExpressionError` names the bad one."""
        rules = [_compile(entry, index) for index, entry in enumerate(entries or ())]
        # A later entry for the same group and kind replaces an earlier one.
        self._rules = {(rule.group, rule.kind): rule for rule in rules}

    def __bool__(self) -> bool:
        return bool(self._rules)

    def __call__(self, obj: Mapping[str, Any]) -> Result | None:
        """The verdict for ``obj``, or None when no rule is for its kind."""
        rule = self._rules.get((_group(str(obj.get("apiVersion", ""))), str(obj.get("kind", ""))))
        if rule is None:
            return None
        # celpy is loaded: a rule exists, so _compile imported it.
        from celpy import celtypes  # noqa: PLC0415
        from celpy.adapter import json_to_cel  # noqa: PLC0415
        from celpy.evaluation import CELEvalError  # noqa: PLC0415

        metadata = obj.get("metadata") or {}
        if metadata.get("deletionTimestamp"):
            return Result(Status.TERMINATING, "Resource scheduled for deletion")
        generation = metadata.get("generation")
        observed = (obj.get("status") or {}).get("observedGeneration")
        if isinstance(generation, int) and isinstance(observed, int) and observed != generation:
            return Result(
                Status.IN_PROGRESS,
                f"{rule.kind} generation is {generation}, but latest observed generation is "
                f"{observed}",
            )
        activation = {key: json_to_cel(value) for key, value in obj.items()}
        for status, field, program in rule.programs:
            try:
                value = program.evaluate(activation)
            except CELEvalError as error:
                return _unknown(field, error)
            if isinstance(value, CELEvalError):
                return _unknown(field, value)
            if value is True or (isinstance(value, celtypes.BoolType) and bool(value)):
                return Result(status, f"healthCheckExprs: {_camel(field)} is true")
        return Result(Status.IN_PROGRESS, "healthCheckExprs: no expression is true yet")


def _unknown(field: str, error: Exception) -> Result:
    detail = error.args[0] if error.args else str(error)
    return Result(Status.UNKNOWN, f"healthCheckExprs: {_camel(field)} failed: {detail}")
