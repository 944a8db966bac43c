"""``tagpilot controller``: reconcile Flux's image objects inside a Kubernetes cluster."""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
from pathlib import Path

import click

from tagpilot.adapters.clock import SystemClock
from tagpilot.adapters.cluster.applier import ApiApplier
from tagpilot.adapters.files import FileTreeEditor
from tagpilot.adapters.git.artifact import CliGitSource
from tagpilot.adapters.git.updater import CliGitUpdater
from tagpilot.adapters.kube.client import KubeClient
from tagpilot.adapters.kube.config import KubeConfig, load_kubeconfig
from tagpilot.adapters.kube.lease import LeaseTiming
from tagpilot.adapters.kustomize.builder import KustomizeBuilder
from tagpilot.adapters.registry.pool import RegistryPool
from tagpilot.adapters.state_dir import StateLock
from tagpilot.adapters.store import SqliteStore
from tagpilot.cli.run_cmd import address
from tagpilot.core.errors import InvalidInputError
from tagpilot.core.goduration import parse_go_duration
from tagpilot.reconcile.context import ReconcileContext
from tagpilot.runtime.backoff import Backoff
from tagpilot.runtime.controller import CONTROLLER_KINDS, ControllerOptions, run_controller
from tagpilot.runtime.logs import configure_logging

__all__ = ["controller_command"]

RUNTIME_NAMESPACE_ENV = "RUNTIME_NAMESPACE"


@click.command("controller")
@click.option(
    "--kubeconfig",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    help="Talk to the cluster of this kubeconfig (default: $KUBECONFIG, the pod's service "
    "account, then ~/.kube/config).",
)
@click.option("--context", "context_name", help="The kubeconfig context to use.")
@click.option(
    "--controllers",
    default="image",
    show_default=True,
    help="What to reconcile, comma-separated: 'image' (ImageRepository, ImagePolicy, "
    "ImageUpdateAutomation), 'source' (GitRepository; leave it out where Flux's "
    "source-controller runs), 'kustomize' (Kustomization: applies manifests).",
)
@click.option(
    "--watch-all-namespaces/--watch-own-namespace",
    default=True,
    show_default=True,
    help="Watch objects in every namespace, or only in the runtime namespace.",
)
@click.option(
    "--watch-label-selector",
    help="Only reconcile image objects matching this label selector (sharding: "
    "'sharding.fluxcd.io/key in (shard1)', the main instance '!sharding.fluxcd.io/key').",
)
@click.option(
    "--enable-leader-election",
    is_flag=True,
    help="Run several replicas: only the holder of the Lease reconciles.",
)
@click.option(
    "--leader-election-lease-duration",
    default=35.0,
    show_default=True,
    type=float,
    help="Seconds a non-leader waits before taking over an unrenewed Lease.",
)
@click.option(
    "--leader-election-renew-deadline",
    default=30.0,
    show_default=True,
    type=float,
    help="Seconds the leader keeps trying to renew before it gives up and exits.",
)
@click.option(
    "--leader-election-retry-period",
    default=5.0,
    show_default=True,
    type=float,
    help="Seconds between attempts to acquire or renew the Lease.",
)
@click.option(
    "--min-retry-delay",
    default="750ms",
    show_default=True,
    help="Delay before the first retry of a failed reconcile (a Go duration).",
)
@click.option(
    "--max-retry-delay",
    default="15m",
    show_default=True,
    help="Longest delay between retries; each failure doubles it up to here.",
)
@click.option(
    "--concurrent", default=4, show_default=True, type=click.IntRange(1, 64),
    help="Objects reconciled at once.",
)  # fmt: skip
@click.option(
    "--http-address",
    default="0.0.0.0:9797",
    show_default=True,
    help="Where to serve /healthz, /readyz and /metrics.",
)
@click.option(
    "--state-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("/var/lib/tagpilot"),
    show_default=True,
    help="A cache for tag lists, git mirrors and run history (an emptyDir in a pod).",
)
@click.option(
    "--log-format", type=click.Choice(["console", "json"]), default="json", show_default=True
)
@click.option("-v", "--verbose", count=True, help="More logging.")
def controller_command(
    kubeconfig: Path | None,
    context_name: str | None,
    controllers: str,
    watch_all_namespaces: bool,
    watch_label_selector: str | None,
    enable_leader_election: bool,
    leader_election_lease_duration: float,
    leader_election_renew_deadline: float,
    leader_election_retry_period: float,
    min_retry_delay: str,
    max_retry_delay: str,
    concurrent: int,
    http_address: str,
    state_dir: Path,
    log_format: str,
    verbose: int,
) -> None:
    """Reconcile ImageRepositories, ImagePolicies and ImageUpdateAutomations in a cluster.

    A drop-in for Flux's image-reflector-controller and image-automation-controller:
    statuses, conditions and events are written to the objects as Flux writes them.
    SIGTERM lets a git push in flight finish and releases the Lease.
    """
    configure_logging(log_format, verbose)
    timing = _lease_timing(
        leader_election_lease_duration,
        leader_election_renew_deadline,
        leader_election_retry_period,
    )
    retry = _retry(min_retry_delay, max_retry_delay)
    chosen = _controllers(controllers)
    host, port = address(http_address)
    config = load_kubeconfig(kubeconfig, context_name)
    runtime_namespace = os.environ.get(RUNTIME_NAMESPACE_ENV) or config.namespace
    options = ControllerOptions(
        runtime_namespace=runtime_namespace,
        identity=f"{socket.gethostname()}_{secrets.token_hex(4)}",
        watch_namespace=None if watch_all_namespaces else runtime_namespace,
        label_selector=watch_label_selector or None,
        leader_election=enable_leader_election,
        lease_timing=timing,
        retry=retry,
        controllers=chosen,
        concurrency=concurrent,
        host=host,
        port=port,
    )
    state_dir.mkdir(parents=True, exist_ok=True)
    lock = StateLock(state_dir)
    try:
        code = asyncio.run(_main(config, state_dir, options))
    finally:
        lock.release()
    raise SystemExit(code)


def _controllers(text: str) -> frozenset[str]:
    """``--controllers``: known names only, at least one."""
    names = frozenset(part.strip() for part in text.split(",") if part.strip())
    unknown = sorted(names - set(CONTROLLER_KINDS))
    if unknown or not names:
        raise InvalidInputError(
            f"--controllers {text!r}: unknown {', '.join(unknown) or 'empty list'}; "
            f"choose from {', '.join(sorted(CONTROLLER_KINDS))}"
        )
    return names


def _retry(minimum: str, maximum: str) -> Backoff:
    """Flux's ``--min-retry-delay``/``--max-retry-delay`` as the scheduler's backoff."""
    shortest = _seconds(minimum, "--min-retry-delay")
    longest = _seconds(maximum, "--max-retry-delay")
    if not 0 < shortest <= longest:
        raise InvalidInputError(
            f"--min-retry-delay {minimum} must be positive and at most --max-retry-delay {maximum}"
        )
    return Backoff(base=shortest, factor=2.0, maximum=longest)


def _seconds(text: str, option: str) -> float:
    try:
        return parse_go_duration(text) / 1e9
    except ValueError as error:
        raise InvalidInputError(f"{option} {text!r}: {error}") from None


def _lease_timing(lease: float, renew: float, retry: float) -> LeaseTiming:
    """client-go's rule: retry period < renew deadline < lease duration, all positive."""
    if not 0 < retry < renew < lease:
        raise InvalidInputError(
            f"leader election timing: need 0 < --leader-election-retry-period ({retry:g}) "
            f"< --leader-election-renew-deadline ({renew:g}) "
            f"< --leader-election-lease-duration ({lease:g})"
        )
    return LeaseTiming(lease, renew, retry)


async def _main(config: KubeConfig, state_dir: Path, options: ControllerOptions) -> int:
    store = SqliteStore(state_dir / "state.db")
    registry = RegistryPool()
    ctx = ReconcileContext(
        clock=SystemClock(),
        store=store,
        registry=registry,
        git=CliGitUpdater(state_dir),
        editor=FileTreeEditor(),
    )
    client = KubeClient(config)
    if "source" in options.controllers:
        ctx.git_source = CliGitSource(state_dir)
    if "kustomize" in options.controllers:
        ctx.applier = ApiApplier(client)
        ctx.builder = KustomizeBuilder()
    try:
        return await run_controller(client, ctx, options)
    finally:
        await client.aclose()
        await registry.aclose()
        store.close()
