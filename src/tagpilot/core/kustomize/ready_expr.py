"""``spec.dependsOn[].readyExpr``: a CEL expression deciding whether a dependency is ready.

Flux (kustomize-controller 1.5+) evaluates the expression with two variables, ``self`` (the
Kustomization that waits) and ``dep`` (the dependency, as read from the API), and the result
replaces the built-in check (dependency Ready, its generation observed, the same revision
applied when both share a source).  Flux's ``AdditiveCELDependencyCheck`` feature gate, which
makes the expression come on top of the built-in check, is off by default and is off here.

An expression that does not compile is a configuration error: Stalled
``InvalidCELExpression`` before anything else happens, as for ``healthCheckExprs``.  One that
cannot be evaluated (a field the dependency does not have yet) or is not ``true`` leaves the
dependency not ready, with the reason in the message.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tagpilot.api.kustomization import DependencyReference
from tagpilot.core.kustomize.cel_health import compile_cel

__all__ = ["ReadyExpressions", "Verdict"]


@dataclass(frozen=True)
class Verdict:
    """Whether a dependency is ready by its expression, and why not when it is not."""

    ready: bool
    why: str = ""


class ReadyExpressions:
    """The compiled ``readyExpr`` of each dependency that has one, by list index."""

    def __init__(self, depends_on: Sequence[DependencyReference] | None) -> None:
        """Compile every expression; :class:`InvalidCELExpressionError` names the bad one."""
        self._programs: dict[int, tuple[str, Any]] = {}
        for index, dependency in enumerate(depends_on or ()):
            if dependency.ready_expr:
                self._programs[index] = (
                    dependency.ready_expr,
                    compile_cel(dependency.ready_expr, f"spec.dependsOn[{index}].readyExpr"),
                )

    def has(self, index: int) -> bool:
        """Whether dependency ``index`` is judged by its expression (not the built-in check)."""
        return index in self._programs

    def judge(self, index: int, me: Mapping[str, Any], dep: Mapping[str, Any]) -> Verdict:
        """Evaluate dependency ``index``'s expression with ``self`` = ``me``, ``dep`` = ``dep``."""
        from celpy import celtypes  # noqa: PLC0415  (loaded: an expression compiled)
        from celpy.adapter import json_to_cel  # noqa: PLC0415
        from celpy.evaluation import CELEvalError  # noqa: PLC0415

        text, program = self._programs[index]
        activation = {"self": json_to_cel(dict(me)), "dep": json_to_cel(dict(dep))}
        try:
            value = program.evaluate(activation)
        except CELEvalError as error:
            value = error
        if isinstance(value, CELEvalError):
            detail = value.args[0] if value.args else str(value)
            return Verdict(False, f"readyExpr {text!r} could not be evaluated: {detail}")
        if value is True or (isinstance(value, celtypes.BoolType) and bool(value)):
            return Verdict(True)
        return Verdict(False, f"readyExpr {text!r} is not true")
