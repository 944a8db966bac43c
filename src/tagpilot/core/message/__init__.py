"""Commit message templates: Go ``text/template`` with Sprig, as Flux renders them.

Callers (the git commit step, ``tagpilot template render``) use ``render_commit_message``;
no other module knows about template engines.

Engine decision: an own, faithful subset instead of the ``gotpl`` package.  ``gotpl``
renders Flux's documented templates correctly and has execution budgets, but it cannot be
bounded robustly: Sprig's ``until``/``repeat`` and ``printf`` widths allocate before any
budget is checked (``until 100000000`` took 14 s, ``$x = print $x $x`` in a loop exhausted
memory), and ``define``/``template`` calls fan out exponentially without touching any
budget (40 nested defines never finished).  Bounding it would need wrappers around every
function plus a hook it does not have.  Our engine (lexer, parser, executor, Go ``fmt``
subset, built-ins, the Sprig functions templates use) counts a step for every node, call,
template call and iteration (long arguments and regex matches cost more), bounds nesting
depth, measures the output and every intermediate value, and checks sizes before
allocating; it needs no threads or signals.  Limits: ``RenderLimits``.

Functions: Go's built-ins and Sprig v3.3's ``HermeticTxtFuncMap`` (``functions``), the
set Flux gives commit templates, minus the few members that draw random numbers or read
the clock (``randInt``, ``shuffle``, ``ago``, ``bcrypt``, ``htpasswd``, ``encryptAES``,
key and certificate generation): a commit message must be the same for the same change.
Those, like the non-hermetic ones Flux lacks (``now``, ``date``, ``env``, ``uuidv4``...),
fail to parse with Go's "function ... not defined".  Local time is UTC.
"""

from __future__ import annotations

from tagpilot.core.message.failures import (
    CommitTemplateError,
    RemovedTemplateFieldError,
    TemplateExecutionError,
    TemplateParseError,
)
from tagpilot.core.message.render import (
    DEFAULT_MESSAGE_TEMPLATE,
    RenderLimits,
    render_commit_message,
)

__all__ = [
    "DEFAULT_MESSAGE_TEMPLATE",
    "CommitTemplateError",
    "RemovedTemplateFieldError",
    "RenderLimits",
    "TemplateExecutionError",
    "TemplateParseError",
    "render_commit_message",
]
