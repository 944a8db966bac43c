"""Post-build substitution of a Kustomization's built objects, with its variables read.

``postBuild.substituteFrom`` names Secrets and ConfigMaps in the Kustomization's namespace.
Secrets come from the run's Secret index (the API's Secrets in a cluster); ConfigMaps are
read from the API server with the controller's own identity, as Flux reads both even when
``serviceAccountName`` impersonates an account for the apply.  Precedence and the
``optional`` rule are :func:`tagpilot.core.kustomize.variables.collect_variables`.  Values
never reach a message: errors name the object and the key only.
"""

from __future__ import annotations

from typing import Any

from tagpilot.api.kustomization import Kustomization, SubstituteReference
from tagpilot.core.errors import RetryableError, TagpilotError
from tagpilot.core.kustomize.envsubst import substitute_object, substitution_disabled
from tagpilot.core.kustomize.variables import collect_variables
from tagpilot.ports import ObjectApplier
from tagpilot.reconcile.context import ReconcileContext

__all__ = ["substituted"]


def _secret(ks: Kustomization, ctx: ReconcileContext, name: str) -> dict[str, str] | None:
    place = (ks.namespace, name)
    if place not in ctx.secrets.secrets and place not in ctx.secrets.unavailable:
        return None
    # A Secret that exists but could not be loaded (a SOPS file for another key) is an
    # error even for an optional entry: the object is there, it is just unreadable.
    secret = ctx.secrets.get(
        ks.namespace,
        name,
        reason="BuildFailed",
        wanted_by=f"Kustomization {ks.namespace}/{ks.name}",
    )
    return {k: v.decode("utf-8", "replace") for k, v in secret.values.items()}


async def _config_map(ks: Kustomization, reader: ObjectApplier, name: str) -> dict[str, str] | None:
    stub = {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": ks.namespace}}  # fmt: skip
    try:
        live = await reader.get(stub)
    except TagpilotError as error:
        raise RetryableError(
            f"substitute from 'ConfigMap/{name}' error: {error.message}", reason="BuildFailed"
        ) from error
    if live is None:
        return None
    return {str(k): str(v) for k, v in (live.get("data") or {}).items()}


async def _read(
    ks: Kustomization, ctx: ReconcileContext, reader: ObjectApplier, ref: SubstituteReference
) -> dict[str, str] | None:
    if ref.kind == "Secret":
        return _secret(ks, ctx, ref.name)
    return await _config_map(ks, reader, ref.name)


async def substituted(
    ks: Kustomization, ctx: ReconcileContext, reader: ObjectApplier, objects: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """``objects`` with ``postBuild`` variables substituted (unchanged without ``postBuild``).

    ``reader`` is the controller's own applier, never the impersonating one."""
    post = ks.spec.post_build
    if post is None:
        return objects
    refs = post.substitute_from or []
    found: dict[tuple[str, str], dict[str, str] | None] = {
        (ref.kind, ref.name): await _read(ks, ctx, reader, ref) for ref in refs
    }
    variables = collect_variables(refs, found, post.substitute, namespace=ks.namespace)
    always = post.substitute_strategy == "Always"
    return [
        obj if substitution_disabled(obj) else substitute_object(obj, variables, always=always)
        for obj in objects
    ]
