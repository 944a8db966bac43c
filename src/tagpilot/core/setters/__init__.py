"""Flux's image setters: find ``{"$imagepolicy": ...}`` markers and rewrite their scalars.

Pure text in, text out.  The file walk (``tagpilot.adapters.files``) and the update
reconciler call ``apply_setters`` per file with a ``SetterTable`` built from the
automation's policies.  Unlike Flux, a changed file keeps every byte except the changed
scalar values (see ``_render`` for the quoting rule).
"""

from __future__ import annotations

from tagpilot.core.setters._apply import (
    FileResult,
    MalformedMarker,
    UnknownMarker,
    apply_setters,
    may_hold_markers,
    unknown_hint,
)
from tagpilot.core.setters._locate import LIBYAML_PARSER
from tagpilot.core.setters._markers import marker_setter
from tagpilot.core.setters._render import needs_quotes
from tagpilot.core.setters._table import PolicyTarget, SetterTable, setter_values
from tagpilot.core.setters._tree import FileProblem, TreeResult

__all__ = [
    "LIBYAML_PARSER",
    "FileProblem",
    "FileResult",
    "MalformedMarker",
    "PolicyTarget",
    "SetterTable",
    "TreeResult",
    "UnknownMarker",
    "apply_setters",
    "marker_setter",
    "may_hold_markers",
    "needs_quotes",
    "setter_values",
    "unknown_hint",
]
