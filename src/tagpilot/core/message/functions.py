"""The function map of commit message templates: Go built-ins overlaid with Sprig.

Like Flux's ``template.New(...).Funcs(sprig.HermeticTxtFuncMap())``, Sprig names win
over built-ins (Sprig's ``slice`` replaces Go's).  Used by ``render``.
"""

from __future__ import annotations

from tagpilot.core.message.builtins import BUILTINS
from tagpilot.core.message.calls import FuncSpec
from tagpilot.core.message.sprig_crypto import CRYPTO_FUNCS
from tagpilot.core.message.sprig_dates import DATE_FUNCS
from tagpilot.core.message.sprig_dicts import DICT_FUNCS
from tagpilot.core.message.sprig_encoding import ENCODING_FUNCS
from tagpilot.core.message.sprig_lists import LIST_FUNCS
from tagpilot.core.message.sprig_math import MATH_FUNCS
from tagpilot.core.message.sprig_paths import PATH_FUNCS
from tagpilot.core.message.sprig_regex import REGEX_FUNCS
from tagpilot.core.message.sprig_semver import SEMVER_FUNCS
from tagpilot.core.message.sprig_strings import STRING_FUNCS
from tagpilot.core.message.sprig_text import TEXT_FUNCS
from tagpilot.core.message.sprig_values import VALUE_FUNCS

__all__ = ["FUNCTIONS", "SPRIG_FUNCTIONS"]

_FAMILIES = (
    TEXT_FUNCS,
    REGEX_FUNCS,
    STRING_FUNCS,
    LIST_FUNCS,
    DICT_FUNCS,
    MATH_FUNCS,
    ENCODING_FUNCS,
    PATH_FUNCS,
    DATE_FUNCS,
    SEMVER_FUNCS,
    CRYPTO_FUNCS,
    VALUE_FUNCS,
)

SPRIG_FUNCTIONS: dict[str, FuncSpec] = {spec.name: spec for family in _FAMILIES for spec in family}
"""Every Sprig function a template may call, by name."""

FUNCTIONS: dict[str, FuncSpec] = {**BUILTINS, **SPRIG_FUNCTIONS}
