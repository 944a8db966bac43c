"""Objects as the Kubernetes API server would store them: unset fields with a CRD default
filled in, other unset fields left out (what ``flux export`` and ``flux get -o yaml`` show)."""

from __future__ import annotations

from typing import Any

from tagpilot.api.automation import ImageUpdateAutomation
from tagpilot.api.image import ImagePolicy, ImageRepository
from tagpilot.api.kinds import AnyObject

__all__ = ["with_server_defaults"]


def with_server_defaults(obj: AnyObject) -> AnyObject:
    """``obj`` as the API server stores it: unset fields that have CRD defaults filled in."""
    if isinstance(obj, ImageRepository):
        spec: Any = obj.spec.model_copy(
            update={
                "exclusion_list": obj.spec.effective_exclusion_list,
                "provider": obj.spec.provider,
            }
        )
    elif isinstance(obj, ImagePolicy):
        spec = obj.spec.model_copy(
            update={
                "digest_reflection_policy": obj.spec.digest_reflection_policy,
                "policy": _policy_with_order(obj.spec.policy),
            }
        )
    elif isinstance(obj, ImageUpdateAutomation):
        update = obj.spec.update.model_copy(update={"strategy": obj.spec.update.strategy})
        spec = obj.spec.model_copy(update={"update": update})
    else:
        return obj
    return obj.model_copy(update={"spec": spec})


def _policy_with_order(choice: Any) -> Any:
    """``alphabetical`` and ``numerical`` default their ``order`` to ``asc``."""
    for name in ("alphabetical", "numerical"):
        chosen = getattr(choice, name)
        if chosen is not None:
            filled = chosen.model_copy(update={"order": chosen.order})
            return choice.model_copy(update={name: filled})
    return choice
