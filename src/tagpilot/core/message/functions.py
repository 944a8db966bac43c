"""The function map of commit message templates: Go built-ins overlaid with Sprig.

Like Flux's ``template.New(...).Funcs(sprig.HermeticTxtFuncMap())``, Sprig names win
over built-ins (Sprig's ``slice`` replaces Go's).  Used by ``render``.
"""

from __future__ import annotations

from tagpilot.core.message.builtins import BUILTINS
from tagpilot.core.message.calls import FuncSpec
from tagpilot.core.message.sprig_lists import LIST_FUNCS
from tagpilot.core.message.sprig_text import TEXT_FUNCS

__all__ = ["FUNCTIONS"]

FUNCTIONS: dict[str, FuncSpec] = {
    **BUILTINS,
    **{spec.name: spec for spec in (*TEXT_FUNCS, *LIST_FUNCS)},
}
