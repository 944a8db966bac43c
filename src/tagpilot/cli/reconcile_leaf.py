"""``tagpilot reconcile <kind> NAME``: through the daemon, or straight through a cluster's API.

Without ``--kubeconfig`` the running daemon is asked, as the other flux-style verbs do.  With
it, the command does what ``flux reconcile`` does against a cluster where the controller runs:
it sets the object's ``reconcile.fluxcd.io/requestedAt`` annotation to now, waits until
``status.lastHandledReconcileAt`` equals that value and the Ready condition has settled, and
prints the Ready outcome (``fetched revision …`` for a source, ``applied revision …`` for a
Kustomization).  ``reconcile kustomization NAME --with-source`` first does the same for the
Kustomization's ``spec.sourceRef`` and waits for it, so a new commit is fetched and applied in
one command.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from tagpilot.adapters.kube import KubeClient, NotFoundError, load_kubeconfig
from tagpilot.adapters.kube.resources import (
    GIT_REPOSITORIES,
    IMAGE_POLICIES,
    IMAGE_REPOSITORIES,
    IMAGE_UPDATE_AUTOMATIONS,
    KUSTOMIZATIONS,
    Resource,
)
from tagpilot.api.descriptors import GIT_REPOSITORY, KUSTOMIZATION, KindDescriptor
from tagpilot.api.meta import REQUESTED_AT_ANNOTATION as REQUESTED_AT
from tagpilot.cli.actions import (
    WaitSettings,
    daemon_needed,
    daemon_options,
    reconcile_object,
    timeout_seconds,
)
from tagpilot.cli.daemon_client import DaemonClient
from tagpilot.cli.failures import fail, flux_errors
from tagpilot.cli.render import ACTION, SUCCESS, WAITING, condition, requested_at, success_line
from tagpilot.cli.views import view_of
from tagpilot.core.errors import InvalidInputError, RetryableError, SourceLocation
from tagpilot.ports import ObjectKey

__all__ = ["reconcile_leaf", "source_key"]

_RESOURCES: dict[str, Resource] = {
    r.kind: r
    for r in (
        IMAGE_REPOSITORIES,
        IMAGE_POLICIES,
        IMAGE_UPDATE_AUTOMATIONS,
        GIT_REPOSITORIES,
        KUSTOMIZATIONS,
    )
}
_POLL_SECONDS = 0.5


def source_key(spec: Mapping[str, Any] | None, namespace: str) -> ObjectKey:
    """The GitRepository a Kustomization's ``spec.sourceRef`` names (its namespace by default)."""
    ref = (spec or {}).get("sourceRef") or {}
    kind, name = str(ref.get("kind", "")), str(ref.get("name", ""))
    if kind != GIT_REPOSITORY.kind or not name:
        raise InvalidInputError(
            f"--with-source: sourceRef {kind or '?'}/{name or '?'} is not a GitRepository "
            "(the only source kind tagpilot reconciles)",
            location=SourceLocation(field="spec.sourceRef", value=f"{kind}/{name}"),
        )
    return ObjectKey(kind, str(ref.get("namespace") or namespace), name)


def _not_found(info: KindDescriptor, name: str, namespace: str) -> str:
    return f"{info.kind} {name} not found in {namespace} namespace"


def _settled(status: Mapping[str, Any], token: str) -> bool:
    if status.get("lastHandledReconcileAt") != token:
        return False
    conditions = {str(c.get("type")): c for c in status.get("conditions") or ()}
    if (conditions.get("Reconciling") or {}).get("status") == "True":
        return False
    return (conditions.get("Ready") or {}).get("status") in ("True", "False")


class _Cluster:
    """``flux reconcile`` through the API: annotate, then poll the status."""

    def __init__(self, client: KubeClient, timeout: float) -> None:
        self._client = client
        self._timeout = timeout

    async def get(self, info: KindDescriptor, namespace: str, name: str) -> dict[str, Any]:
        """The object, or flux's not-found failure."""
        try:
            return await self._client.get(_RESOURCES[info.kind], namespace, name)
        except NotFoundError:
            fail(_not_found(info, name, namespace))

    async def reconcile(self, info: KindDescriptor, namespace: str, name: str) -> dict[str, Any]:
        """Request a reconcile of one object, wait for it, print flux's lines; the object."""
        raw = await self.get(info, namespace, name)
        if (raw.get("spec") or {}).get("suspend"):
            fail("resource is suspended")
        click.echo(f"{ACTION} annotating {info.kind} {name} in {namespace} namespace")
        token = requested_at(datetime.now(UTC))
        patch = {"metadata": {"annotations": {REQUESTED_AT: token}}}
        await self._client.merge_patch(_RESOURCES[info.kind], namespace, name, patch)
        click.echo(f"{SUCCESS} {info.kind} annotated")
        click.echo(f"{WAITING} waiting for {info.kind} reconciliation")
        deadline = time.monotonic() + self._timeout
        while not _settled(raw.get("status") or {}, token):
            if time.monotonic() > deadline:
                raise RetryableError(f"timed out waiting for {info.kind} {name} reconciliation")
            await asyncio.sleep(_POLL_SECONDS)
            raw = await self.get(info, namespace, name)
        view = view_of(
            info.kind, namespace, name, spec=raw.get("spec"), status=raw["status"], suspended=False
        )
        ready = condition(view.status, "Ready")
        if ready is None or ready.status != "True":
            fail(f"{info.kind} reconciliation failed: '{ready.message if ready else ''}'")
        click.echo(f"{SUCCESS} {success_line(view.status)}")
        return raw


async def _in_cluster(
    info: KindDescriptor, key: ObjectKey, kubeconfig: Path | None, context: str | None,
    timeout: float, with_source: bool,
) -> None:  # fmt: skip
    async with KubeClient(load_kubeconfig(kubeconfig, context)) as client:
        cluster = _Cluster(client, timeout)
        if with_source:
            raw = await cluster.get(info, key.namespace, key.name)
            source = source_key(raw.get("spec"), key.namespace)
            await cluster.reconcile(GIT_REPOSITORY, source.namespace, source.name)
        await cluster.reconcile(info, key.namespace, key.name)


def _through_daemon(
    info: KindDescriptor, key: ObjectKey, wait: WaitSettings, with_source: bool
) -> None:
    if with_source:
        view = wait.client.get_object(key)
        if view is None:
            fail(_not_found(info, key.name, key.namespace))
        source = source_key(view.spec, key.namespace)
        reconcile_object(GIT_REPOSITORY, source.name, source.namespace, wait)
    reconcile_object(info, key.name, key.namespace, wait)


def reconcile_leaf(info: KindDescriptor) -> click.Command:
    """``reconcile <kind> NAME``; ``--with-source`` on Kustomizations."""

    @click.command(
        info.word,
        help=f"Reconcile {info.kind} NAME now and wait: through the running daemon, or with "
        "--kubeconfig through the cluster's API (the reconcile.fluxcd.io/requestedAt annotation, "
        "as flux reconcile does).",
    )
    @click.argument("name")
    @daemon_options
    @click.option(
        "--kubeconfig",
        type=click.Path(path_type=Path, exists=True, dir_okay=False),
        help="Ask the controller in this cluster instead of the daemon.",
    )
    @click.option("--context", "context_name", help="The kubeconfig context to use.")
    @flux_errors
    def command(
        name: str,
        namespace: str,
        server: str,
        timeout: str,
        kubeconfig: Path | None,
        context_name: str | None,
        with_source: bool = False,
    ) -> None:
        key = ObjectKey(info.kind, namespace, name)
        seconds = timeout_seconds(timeout)
        if kubeconfig is not None or context_name is not None:
            asyncio.run(_in_cluster(info, key, kubeconfig, context_name, seconds, with_source))
            return
        with daemon_needed("reconcile"):
            _through_daemon(info, key, WaitSettings(DaemonClient(server), seconds), with_source)

    if info.kind == KUSTOMIZATION.kind:
        command = click.option(
            "--with-source",
            is_flag=True,
            help="Reconcile the Kustomization's source (its GitRepository) first, and wait.",
        )(command)
    return command
