"""``tagpilot reconcile PATH... --once [--dry-run]``: one pass over the manifests, then exit.

Scans, selects, writes back, commits and pushes; prints one line per object, the pushed
commits (or, with ``--dry-run``, the diff and commit message instead), and exits 1 when any
object is not Ready.  For CI jobs and cron.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import click

from tagpilot.cli.app import build_app, engine_options
from tagpilot.cli.errors import EXIT_FAILED
from tagpilot.core.errors import InvalidInputError
from tagpilot.reconcile.outcome import Outcome, ready_condition
from tagpilot.runtime.once import OnceReport, run_once

__all__ = ["reconcile_command", "reconcile_paths"]


def reconcile_paths(
    paths: Sequence[Path],
    *,
    once: bool,
    dry_run: bool,
    state: Path,
    age_key_file: Path | None,
    output: str,
) -> None:
    """Run the one-shot pass and report; exit 1 if any object failed."""
    if not once:
        raise InvalidInputError(
            "reconciling manifest paths needs --once (or run the daemon: tagpilot run PATH...)"
        )
    report = asyncio.run(_run(paths, state, age_key_file, dry_run))
    if output == "json":
        click.echo(json.dumps(_as_json(report), indent=2))
    else:
        _print(report, dry_run=dry_run)
    if report.failed:
        sys.exit(EXIT_FAILED)


async def _run(
    paths: Sequence[Path], state: Path, age_key_file: Path | None, dry_run: bool
) -> OnceReport:
    app = build_app(paths, state=state, age_key_file=age_key_file, dry_run=dry_run)
    for warning in app.engine.insecure_warnings():
        click.echo(f"warning: {warning}", err=True)
    try:
        return await run_once(app.engine)
    finally:
        await app.aclose()


def _line(outcome: Outcome) -> tuple[str, str]:
    ready = ready_condition(outcome.status)
    if outcome.suspended or ready is None:
        return "-", "suspended"
    return ("✔" if ready.status == "True" else "✗"), ready.message


def _print(report: OnceReport, *, dry_run: bool) -> None:
    for key, outcome in report.outcomes.items():
        mark, message = _line(outcome)
        click.echo(f"{mark} {key.kind} {key.namespace}/{key.name}: {message}")
        for event in outcome.events:
            if event.type == "Normal" and event.message.startswith("pushed commit"):
                click.echo("  " + event.message.replace("\n", "\n  ").rstrip())
        if dry_run and outcome.preview is not None:
            _print_preview(outcome)
    failed = len(report.failed)
    click.echo(
        f"{len(report.outcomes)} objects reconciled, {failed} failed"
        + (" (dry run: nothing pushed, no state written)" if dry_run else "")
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
@engine_options
@click.option("-o", "--output", type=click.Choice(["text", "json"]), default="text")
def reconcile_command(
    targets: tuple[str, ...],
    once: bool,
    dry_run: bool,
    state: Path,
    age_key_file: Path | None,
    output: str,
) -> None:
    """Reconcile the manifests under PATH... once (--once), or ask the daemon about one object.

    \b
    tagpilot reconcile clusters/my-cluster --once [--dry-run]
    """
    reconcile_paths(
        [Path(t) for t in targets],
        once=once,
        dry_run=dry_run,
        state=state,
        age_key_file=age_key_file,
        output=output,
    )
