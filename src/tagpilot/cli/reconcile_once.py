"""``tagpilot reconcile PATH... --once [--dry-run]``: one pass over the manifests, then exit.

Scans every ImageRepository now (``--respect-intervals`` reuses a scan younger than the
repository's interval instead), selects, writes back, commits and pushes; prints one line
per object, what needs attention (broken markers, skipped files, policy warnings, tags moving
backwards), the pushed commits (or, with ``--dry-run``, the diff and commit message
instead).  Exits 1 when any object is not Ready or an automation left marked values alone or
moved a tag backwards.  For CI jobs and cron.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import click

from tagpilot.api.descriptors import IMAGE_UPDATE
from tagpilot.api.image import ImageRepositoryStatus
from tagpilot.api.meta import REASON_DEPENDENCY_NOT_READY
from tagpilot.cli.app import build_app, engine_options
from tagpilot.cli.errors import EXIT_FAILED
from tagpilot.core.errors import InvalidInputError
from tagpilot.core.timefmt import rfc3339
from tagpilot.ports import ObjectKey
from tagpilot.reconcile.image_update import HELD_BACK
from tagpilot.reconcile.outcome import Outcome, ready_condition
from tagpilot.runtime.once import OnceReport, run_once

__all__ = ["reconcile_command", "reconcile_paths"]


_RETRY_PREFIX = re.compile(r"retrying in [0-9a-zµ.]+:? (error: )?")


@dataclass(frozen=True)
class _Run:
    """A finished one-shot pass and what the output needs to know about it."""

    report: OnceReport
    started_at: str
    """When the pass started (RFC 3339): scans older than this were reused."""
    respect_intervals: bool


def reconcile_paths(
    paths: Sequence[Path],
    *,
    once: bool,
    dry_run: bool,
    state: Path,
    age_key_file: Path | None,
    output: str,
    exclude: Sequence[str] = (),
    respect_intervals: bool = False,
) -> None:
    """Run the one-shot pass and report; exit 1 if any object failed, needs attention or a
    file was left out."""
    if not once:
        raise InvalidInputError(
            "reconciling manifest paths needs --once (or run the daemon: tagpilot run PATH...)"
        )
    run, left_out = asyncio.run(
        _run(paths, state, age_key_file, dry_run, respect_intervals, exclude)
    )
    if output == "json":
        click.echo(json.dumps(_as_json(run.report), indent=2))
    else:
        _print(run, dry_run=dry_run)
    for problem in left_out:  # the other objects ran; the exit code still says so
        click.echo(f"error: left out {problem}", err=True)
    if run.report.failed or _needing_attention(run.report) or left_out:
        sys.exit(EXIT_FAILED)


async def _run(
    paths: Sequence[Path],
    state: Path,
    age_key_file: Path | None,
    dry_run: bool,
    respect_intervals: bool,
    exclude: Sequence[str],
) -> tuple[_Run, list[InvalidInputError]]:
    app = build_app(paths, state=state, age_key_file=age_key_file, dry_run=dry_run, exclude=exclude)
    app.engine.ctx.trust_stored_scans = respect_intervals
    for warning in app.engine.insecure_warnings():
        click.echo(f"warning: {warning}", err=True)
    try:
        report = await run_once(app.engine)
    finally:
        await app.aclose()
    return _Run(report, rfc3339(app.engine.ctx.started_at), respect_intervals), app.problems


def _needing_attention(report: OnceReport) -> list[ObjectKey]:
    """Automations that succeeded but left marked values alone or moved a tag backwards.

    Policy warnings are shown but do not fail the run: a policy may be legal and meant.
    """
    return [
        key
        for key, outcome in report.outcomes.items()
        if key.kind == IMAGE_UPDATE.kind and outcome.warnings and outcome.ready
    ]


def _line(key: ObjectKey, outcome: Outcome) -> tuple[str, str]:
    # An automation that held back keeps its last status (say, an earlier push): the line
    # must not read as if that happened in this run.
    ready = ready_condition(outcome.status)
    if outcome.suspended or ready is None:
        return "-", "suspended"
    message = _unprefixed(key, ready.message)
    if any(warning.startswith(HELD_BACK) for warning in outcome.warnings):
        return "✗", "not updated in this run (see below); last status: " + message
    if ready.status == "True":
        return "✔", _headline(message, outcome.warnings)
    message = _RETRY_PREFIX.sub("", message, count=1)
    if ready.reason == REASON_DEPENDENCY_NOT_READY:
        message += "; fix the object it depends on (see above) and run again"
    return "✗", message


def _unprefixed(key: ObjectKey, message: str) -> str:
    """The message without a leading ``Kind ns/name:``: the line already names the object."""
    prefix = f"{key.kind} {key.namespace}/{key.name}: "
    while message.startswith(prefix):
        message = message[len(prefix) :]
    return message


def _headline(message: str, warnings: Sequence[str]) -> str:
    """The Ready message without the warnings it repeats: they are printed one per line."""
    return message.split("; ", 1)[0] if warnings else message


def _print(run: _Run, *, dry_run: bool) -> None:
    report = run.report
    for key, outcome in report.outcomes.items():
        mark, message = _line(key, outcome)
        click.echo(f"{mark} {key.kind} {key.namespace}/{key.name}: {message}")
        _print_reused_scan(run, outcome)
        for warning in outcome.warnings:
            click.echo("  warning: " + warning.replace("\n", "\n    "))
        pushed = outcome.run is not None  # the push's own event carries the commit message
        for event in outcome.events if pushed else ():
            if event.type == "Normal":
                click.echo("  " + event.message.replace("\n", "\n  ").rstrip())
        if dry_run and outcome.preview is not None:
            _print_preview(outcome)
    failed, attention = len(report.failed), len(_needing_attention(report))
    click.echo(
        f"{len(report.outcomes)} objects reconciled, {failed} failed"
        + (f", {attention} need attention" if attention else "")
        + (" (dry run: nothing pushed, no state written)" if dry_run else "")
    )


def _print_reused_scan(run: _Run, outcome: Outcome) -> None:
    """Say so when ``--respect-intervals`` kept a scan made before this run."""
    status = outcome.status
    if not run.respect_intervals or not isinstance(status, ImageRepositoryStatus):
        return
    scanned = status.last_scan_result.scan_time if status.last_scan_result else None
    if scanned is not None and scanned < run.started_at:
        click.echo(
            f"  tags from the scan at {scanned}, not rescanned: its interval has not "
            "passed (--respect-intervals)"
        )


def _print_preview(outcome: Outcome) -> None:
    assert outcome.preview is not None
    if not outcome.preview.diffs:
        click.echo("  no changes: nothing would be committed")
        return
    click.echo(f"  changes under update.path '{outcome.preview.base}':")
    for diff in outcome.preview.diffs.values():
        click.echo(diff.rstrip("\n"))
    click.echo("commit message:")
    click.echo("  " + outcome.preview.message.replace("\n", "\n  ").rstrip())


def _as_json(report: OnceReport) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for key, outcome in report.outcomes.items():
        row: dict[str, object] = {
            "kind": key.kind,
            "namespace": key.namespace,
            "name": key.name,
            "ready": outcome.ready,
            "status": outcome.document,
            "warnings": list(outcome.warnings),
        }
        if outcome.preview is not None:
            row["preview"] = {
                "diffs": dict(outcome.preview.diffs),
                "message": outcome.preview.message,
            }
        rows.append(row)
    return rows


@click.command("reconcile")
@click.argument("targets", nargs=-1, required=True)
@click.option("--once", is_flag=True, help="One pass over the manifests, then exit.")
@click.option("--dry-run", is_flag=True, help="Show the diff and commit message; push nothing.")
@click.option(
    "--respect-intervals",
    is_flag=True,
    help="Reuse a stored scan younger than the repository's spec.interval (for cron); "
    "by default every ImageRepository is scanned now.",
)
@engine_options
@click.option("-o", "--output", type=click.Choice(["text", "json"]), default="text")
def reconcile_command(
    targets: tuple[str, ...],
    once: bool,
    dry_run: bool,
    respect_intervals: bool,
    state: Path,
    age_key_file: Path | None,
    output: str,
    exclude: tuple[str, ...] = (),
) -> None:
    """Reconcile the manifests under PATH... once (--once), or ask the daemon about one object.

    \b
    tagpilot reconcile clusters/my-cluster --once [--dry-run] [--respect-intervals]
    """
    reconcile_paths(
        [Path(t) for t in targets],
        once=once,
        dry_run=dry_run,
        state=state,
        age_key_file=age_key_file,
        output=output,
        exclude=exclude,
        respect_intervals=respect_intervals,
    )
