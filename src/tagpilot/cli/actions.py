"""``tagpilot reconcile|suspend|resume image …`` and ``events``, as flux does them.

``reconcile``, ``suspend`` and ``resume`` ask the running daemon (``tagpilot run``) through its
JSON API and print Flux's ``► ✔ ◎`` lines (``reconcile`` can also ask a cluster's controller:
:mod:`tagpilot.cli.reconcile_leaf`); a reconcile request carries ``requestedAt`` (as Flux's
``reconcile.fluxcd.io/requestedAt`` annotation does) and the command waits until the object's
``lastHandledReconcileAt`` moves and its Ready condition settles.  Without a daemon they say
so and exit 1.  ``events`` prints Flux's events table, from the daemon or the state file.
``events_command``, ``suspend_group`` and ``resume_group`` are added to the ``tagpilot``
group by :mod:`tagpilot.cli.main`; ``reconcile_command(manifest_reconcile)``
(:mod:`tagpilot.cli.reconcile_group`, where a manifest path does not load this module) is
re-exported here.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from tagpilot.api.descriptors import CLI_GROUPS, KindDescriptor, cli_kinds, find_descriptor
from tagpilot.api.duration import parse_go_duration
from tagpilot.cli.daemon_client import DEFAULT_SERVER, DaemonClient, DaemonUnavailableError
from tagpilot.cli.failures import fail, flux_errors
from tagpilot.cli.get import missing_message, source_options
from tagpilot.cli.kind_commands import add_kind_groups, kind_groups
from tagpilot.cli.objects import DEFAULT_NAMESPACE, NS_HELP, source_from_flags
from tagpilot.cli.reconcile_group import reconcile_command
from tagpilot.cli.render import (
    ACTION,
    FAILURE,
    SUCCESS,
    WAITING,
    condition,
    events_table,
    ready_and_message,
    requested_at,
    success_line,
)
from tagpilot.core.errors import InvalidInputError, RetryableError, SourceLocation
from tagpilot.ports import ObjectKey

TRACE = "Trace"
"""Events of this type record routine detail for the log; Flux never shows them to users."""

__all__ = [
    "NO_DAEMON_HINTS",
    "OBJECT_WORDS",
    "WaitSettings",
    "daemon_needed",
    "daemon_options",
    "events_command",
    "reconcile_command",
    "reconcile_object",
    "resume_group",
    "suspend_group",
    "timeout_seconds",
]

OBJECT_WORDS = frozenset(
    word for group in CLI_GROUPS.values() for word in (group.name, *group.aliases)
)
"""First arguments of ``reconcile`` that name an object kind rather than a manifest path."""

NO_DAEMON_HINTS = {
    "reconcile": "start 'tagpilot run' or use 'tagpilot reconcile PATH --once'",
    "suspend": "to suspend durably, set 'spec.suspend: true' in the object's manifest",
    "resume": "to resume durably, remove 'spec.suspend: true' from the object's manifest",
}
_POLL_SECONDS = 0.25


def _echo(symbol: str, text: str) -> None:
    click.echo(f"{symbol} {text}")


def _settled(status: Any, handled_before: object) -> bool:
    handled = status.last_handled_reconcile_at
    if handled is None or handled == handled_before:
        return False
    reconciling = condition(status, "Reconciling")
    if reconciling is not None and reconciling.status == "True":
        return False
    return ready_and_message(status)[0] in ("True", "False")


@dataclass(frozen=True)
class WaitSettings:
    """The daemon to ask and how long to wait for it to finish a requested reconcile."""

    client: DaemonClient
    timeout_seconds: float
    poll_seconds: float = _POLL_SECONDS


def _wait_for(wait: WaitSettings, key: ObjectKey, before: object, status: Any) -> Any:
    """Poll until the reconcile asked for at ``before`` settled; its typed status."""
    deadline = time.monotonic() + wait.timeout_seconds
    while not _settled(status, before):
        if time.monotonic() > deadline:
            raise RetryableError(f"timed out waiting for {key.kind} {key.name} reconciliation")
        time.sleep(wait.poll_seconds)
        view = wait.client.get_object(key)
        if view is None:
            fail(_not_found(key))
        status = view.status
    ready, message = ready_and_message(status)
    if ready != "True":
        fail(f"{key.kind} reconciliation failed: '{message}'")
    return status


def reconcile_object(info: KindDescriptor, name: str, namespace: str, wait: WaitSettings) -> None:
    """Ask the daemon to reconcile one object now and wait for the result (``flux reconcile``)."""
    key = ObjectKey(info.kind, namespace, name)
    view = wait.client.get_object(key)
    if view is None:
        fail(_not_found(key))
    if view.suspended:
        fail("resource is suspended")
    _echo(ACTION, f"annotating {info.kind} {name} in {namespace} namespace")
    body = {"requestedAt": requested_at(datetime.now(UTC))}
    result = wait.client.act(key, "reconcile", body)
    if result is None:
        fail(_not_found(key))
    _echo(SUCCESS, f"{info.kind} annotated")
    _echo(WAITING, f"waiting for {info.kind} reconciliation")
    final = _wait_for(wait, key, view.status.last_handled_reconcile_at, result.view.status)
    _echo(SUCCESS, success_line(final))


def timeout_seconds(text: str) -> float:
    """``--timeout`` (a Go duration) in seconds; a clear error naming the flag."""
    try:
        return parse_go_duration(text) / 1e9
    except ValueError as error:
        raise InvalidInputError(
            str(error), location=SourceLocation(field="--timeout", value=text)
        ) from error


def daemon_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """``-n/--namespace``, ``--server`` and ``--timeout``, as the daemon verbs take them."""
    options = (
        click.option(
            "-n", "--namespace", default=DEFAULT_NAMESPACE, show_default=True, help=NS_HELP
        ),
        click.option("--server", default=DEFAULT_SERVER, show_default=True),
        click.option("--timeout", default="5m0s", show_default=True, help="How long to wait."),
    )
    for option in reversed(options):
        command = option(command)
    return command


@contextmanager
def daemon_needed(action: str) -> Iterator[None]:
    """Turn "nothing listens at --server" into Flux's failure line with what to do instead."""
    try:
        yield
    except DaemonUnavailableError as error:
        fail(f"{error}: {NO_DAEMON_HINTS[action]}")


def _unique(names: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(names))


def _targets(
    info: KindDescriptor,
    names: Sequence[str],
    every: bool,
    namespace: str,
    client: DaemonClient,
) -> list[ObjectKey]:
    """The objects to act on: those named, or with ``--all`` every one in the namespace."""
    if not names and not every:
        raise InvalidInputError(f"{info.human} name is required")
    if not names:
        names = [view.name for view in client.list_objects(info.kind, namespace)]
        if not names:
            fail(missing_message(info.kind, None, namespace))
    return [ObjectKey(info.kind, namespace, name) for name in _unique(names)]


def _not_found(key: ObjectKey) -> str:
    return f"{key.kind} {key.name} not found in {key.namespace} namespace"


def _missing(key: ObjectKey) -> bool:
    click.echo(f"{FAILURE} {_not_found(key)}", err=True)
    return False


def _suspend_one(wait: WaitSettings, info: KindDescriptor, key: ObjectKey) -> bool:
    if wait.client.get_object(key) is None:
        return _missing(key)
    _echo(ACTION, f"suspending {info.human} {key.name} in {key.namespace} namespace")
    if wait.client.act(key, "suspend", {}) is None:
        return _missing(key)
    _echo(SUCCESS, f"{info.human} suspended")
    return True


def _resume_one(
    wait: WaitSettings, info: KindDescriptor, key: ObjectKey, *, then_wait: bool
) -> bool:
    view = wait.client.get_object(key)
    if view is None:
        return _missing(key)
    _echo(ACTION, f"resuming {info.human} {key.name} in {key.namespace} namespace")
    result = wait.client.act(key, "resume", {"requestedAt": requested_at(datetime.now(UTC))})
    if result is None:
        return _missing(key)
    _echo(SUCCESS, f"{info.human} resumed")
    if then_wait and result.queued:
        _echo(WAITING, f"waiting for {info.kind} reconciliation")
        before = view.status.last_handled_reconcile_at
        final = _wait_for(wait, key, before, result.view.status)
        _echo(SUCCESS, f"{info.kind} {key.name} reconciliation completed")
        _echo(SUCCESS, success_line(final))
    return True


def _suspend_leaf(info: KindDescriptor) -> click.Command:
    @click.command(
        info.word,
        help=f"Suspend {info.kind} objects through the running daemon: it stops reconciling them.",
    )
    @click.argument("names", nargs=-1)
    @click.option("--all", "every", is_flag=True, help="Every object of the kind in the namespace.")
    @click.option("-n", "--namespace", default=DEFAULT_NAMESPACE, show_default=True, help=NS_HELP)
    @click.option("--server", default=DEFAULT_SERVER, show_default=True)
    @flux_errors
    def command(names: tuple[str, ...], every: bool, namespace: str, server: str) -> None:
        waiting = WaitSettings(DaemonClient(server), 0)
        with daemon_needed("suspend"):
            keys = _targets(info, names, every, namespace, waiting.client)
            done = [_suspend_one(waiting, info, key) for key in keys]
        if not all(done):
            raise click.exceptions.Exit(1)

    return command


def _resume_leaf(info: KindDescriptor) -> click.Command:
    @click.command(
        info.word,
        help=f"Resume suspended {info.kind} objects through the running daemon and, for "
        "one object, wait for the reconcile that follows.",
    )
    @click.argument("names", nargs=-1)
    @click.option("--all", "every", is_flag=True, help="Every object of the kind in the namespace.")
    @click.option("--wait/--no-wait", default=None, help="Wait for the reconcile after resuming.")
    @daemon_options
    @flux_errors
    def command(
        names: tuple[str, ...],
        every: bool,
        wait: bool | None,
        namespace: str,
        server: str,
        timeout: str,
    ) -> None:
        waiting = WaitSettings(DaemonClient(server), timeout_seconds(timeout))
        then_wait = wait if wait is not None else (len(names) == 1 and not every)
        with daemon_needed("resume"):
            keys = _targets(info, names, every, namespace, waiting.client)
            done = [_resume_one(waiting, info, key, then_wait=then_wait) for key in keys]
        if not all(done):
            raise click.exceptions.Exit(1)

    return command


def _toggle_group(action: str) -> click.Group:
    if action == "suspend":
        text, leaf = "Suspend reconciliation of objects (needs the daemon).", _suspend_leaf
    else:
        text, leaf = "Resume reconciliation of suspended objects (needs the daemon).", _resume_leaf
    group = click.Group(action, help=text)
    add_kind_groups(group, kind_groups(leaf, cli_kinds()))
    return group


suspend_group = _toggle_group("suspend")
resume_group = _toggle_group("resume")


def _for_key(text: str, namespace: str) -> ObjectKey:
    kind_name, _, name = text.partition("/")
    info = find_descriptor(kind_name)
    if info is None or info.group is None or not name:
        kinds = ", ".join(known.kind for known in cli_kinds())
        raise InvalidInputError(
            f"expected Kind/name with Kind one of {kinds}",
            location=SourceLocation(field="--for", value=text),
        )
    return ObjectKey(info.kind, namespace, name)


@click.command("events")
@click.option("--for", "for_object", help="Only the events of this object, as Kind/name.")
@click.option("-n", "--namespace", default=DEFAULT_NAMESPACE, show_default=True, help=NS_HELP)
@click.option("-A", "--all-namespaces", is_flag=True, help="Events of every namespace.")
@source_options
@flux_errors
def events_command(
    for_object: str | None,
    namespace: str,
    all_namespaces: bool,
    server: str,
    state: Path,
    manifests: tuple[Path, ...],
) -> None:
    """Print the events of objects, oldest first, like flux events."""
    key = _for_key(for_object, namespace) if for_object else None
    scope = None if all_namespaces else namespace
    found = source_from_flags(server, state, manifests).list_events(scope, key)
    events = [event for event in found if event.type != TRACE]  # Flux never shows Trace
    if not events:
        where = "" if scope is None else f" in {scope} namespace"
        fail(f"No events found{where}.", 0)
    now = datetime.now(UTC)
    click.echo(events_table(events, now, with_namespace=scope is None), nl=False)
