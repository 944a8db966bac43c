"""``tagpilot policy eval``: which tag an ImagePolicy selects, and why the others lost.

Prints the chosen tag alone on stdout (scripts can ``$(...)`` it); warnings go to stderr.
``--explain`` adds every tag's verdict; ``-o json`` prints the whole evaluation.  Exit 1
when no tag qualifies, 2 when the policy file or a flag is invalid.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TextIO

import click

from tagpilot.adapters.manifests import load_paths
from tagpilot.api.image import ImagePolicy
from tagpilot.api.loader import LoadedObject
from tagpilot.cli.errors import EXIT_FAILED
from tagpilot.core.errors import InvalidInputError, SourceLocation
from tagpilot.core.policy import Evaluation
from tagpilot.reconcile.image_policy import compile_image_policy

__all__ = ["policy_group"]


@click.group("policy")
def policy_group() -> None:
    """Evaluate ImagePolicies offline."""


@policy_group.command("eval")
@click.option(
    "-f",
    "--file",
    "policy_file",
    required=True,
    type=click.Path(path_type=Path),
    help="YAML file with the ImagePolicy (other documents are ignored).",
)
@click.option("--name", help="Which ImagePolicy, when the file holds several.")
@click.option("--tag", "tags", multiple=True, help="A tag the repository holds (repeatable).")
@click.option("--tags-file", type=click.File("r"), help="File with one tag per line; - for stdin.")
@click.option(
    "-o", "--output", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option("--explain", is_flag=True, help="Also print every tag's verdict on stderr.")
def eval_command(
    policy_file: Path,
    name: str | None,
    tags: tuple[str, ...],
    tags_file: TextIO | None,
    output: str,
    explain: bool,
) -> None:
    """Print the tag the ImagePolicy in POLICY_FILE selects from the given tags."""
    loaded = _find_policy(policy_file, name)
    assert isinstance(loaded.obj, ImagePolicy)
    compiled = compile_image_policy(loaded.obj, loaded.source)
    evaluation = compiled.evaluate(_gather_tags(tags, tags_file))
    if output == "json":
        _print_json(evaluation)
    else:
        _print_text(evaluation, explain=explain)
    if evaluation.latest is None:
        sys.exit(EXIT_FAILED)


def _find_policy(path: Path, name: str | None) -> LoadedObject:
    policies = [o for o in load_paths([path]).objects if isinstance(o.obj, ImagePolicy)]
    if name is not None:
        policies = [o for o in policies if o.name == name]
    if len(policies) == 1:
        return policies[0]
    if not policies:
        what = f"no ImagePolicy named '{name}'" if name else "no ImagePolicy"
        raise InvalidInputError(f"{what} in this file", location=SourceLocation(str(path)))
    names = ", ".join(o.name for o in policies)
    raise InvalidInputError(
        f"several ImagePolicies ({names}); choose one with --name",
        location=SourceLocation(str(path)),
    )


def _gather_tags(tags: tuple[str, ...], tags_file: TextIO | None) -> list[str]:
    gathered = list(tags)
    if tags_file is not None:
        lines = (line.strip() for line in tags_file)
        gathered += [line for line in lines if line and not line.startswith("#")]
    if not gathered:
        raise InvalidInputError("no tags given: use --tag T (repeatable) or --tags-file F|-")
    return gathered


def _print_json(evaluation: Evaluation) -> None:
    document = dict(evaluation.to_json())
    if evaluation.error is not None:
        document["error"] = str(evaluation.error)
    click.echo(json.dumps(document, indent=2))


def _print_text(evaluation: Evaluation, *, explain: bool) -> None:
    if explain:
        for verdict in evaluation.verdicts:
            click.echo(f"{verdict.status:>14}  {verdict.tag}  {verdict.reason}", err=True)
    for warning in evaluation.warnings:
        click.echo(f"warning: {warning}", err=True)
    if evaluation.latest is not None:
        click.echo(evaluation.latest)
    else:
        click.echo(f"error: no tag qualifies: {evaluation.error}", err=True)
