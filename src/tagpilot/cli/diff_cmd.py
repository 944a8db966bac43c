"""``tagpilot diff kustomization NAME --path DIR``: what the next apply would change (flux diff).

DIR is built exactly as ``build kustomization`` builds it; every object is then applied to the
cluster as a server-side dry run and compared with its live copy.  The Kustomization object
comes from ``--kustomization-file``/``--manifests`` when given, else from the cluster (with
the Secrets its ``decryption.secretRef`` and ``postBuild.substituteFrom`` name); its inventory
in the cluster says what pruning would delete when ``spec.prune`` is true.  No controller needs
to run and nothing is written.

Output is flux's: ``► Kind/namespace/name created|drifted|deleted``, a unified diff of the live
object and the dry-run result after each drifted one, Secret values masked (``***``, a changed
one ``*** (before)``/``*** (after)``); a count of every action on stderr.  Exit codes are
flux's: 0 no differences, 1 differences, 2 an error (one ``✗`` line, never a traceback).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import click

from tagpilot.adapters.cluster.dryrun import DiffRequest, diff_objects
from tagpilot.adapters.cluster.objects import ParsedObjects, Refused, cluster_manifests, secret_data
from tagpilot.adapters.kube import SECRETS, KubeClient, NotFoundError
from tagpilot.adapters.kube.config import load_kubeconfig
from tagpilot.adapters.kube.resources import KUSTOMIZATIONS
from tagpilot.adapters.manifests import Manifests, load_manifests
from tagpilot.api.descriptors import KUSTOMIZATION
from tagpilot.api.kustomization import Kustomization
from tagpilot.cli.build_cmd import (
    BuildInput,
    failing_with,
    find_kustomization,
    identities_from_flags,
    input_options,
    render_loaded,
)
from tagpilot.cli.errors import EXIT_INVALID
from tagpilot.cli.kind_commands import add_kind_groups, kind_groups
from tagpilot.core.errors import InvalidInputError, SourceLocation
from tagpilot.core.kustomize.diff import ObjectDiff, has_changes, render, summary
from tagpilot.core.kustomize.drift_ignore import rules_of
from tagpilot.core.kustomize.inventory import InventoryEntry
from tagpilot.core.secrets import SecretData

__all__ = ["EXIT_DIFFERENT", "diff_group", "diff_kustomization"]

EXIT_DIFFERENT = 1
"""flux diff's exit code when the next apply would change something."""


def _secret_names(ks: Kustomization) -> list[str]:
    """The Secrets the build reads: the decryption keys and the substitution variables."""
    names = []
    if ks.spec.decryption is not None and ks.spec.decryption.secret_ref is not None:
        names.append(ks.spec.decryption.secret_ref.name)
    post = ks.spec.post_build
    for ref in (post.substitute_from or ()) if post is not None else ():
        if ref.kind == "Secret":
            names.append(ref.name)
    return list(dict.fromkeys(names))


async def _cluster_secrets(client: KubeClient, ks: Kustomization) -> list[SecretData]:
    found = []
    for name in _secret_names(ks):
        try:
            raw = await client.get(SECRETS, ks.namespace, name)
        except NotFoundError:
            continue  # the build says which one is missing, and who wants it
        data = secret_data(raw)
        if data is not None:
            found.append(data)
    return found


async def _from_cluster(client: KubeClient, raw: dict[str, Any] | None, ref: str) -> Manifests:
    """The cluster's Kustomization and the Secrets it names, as a manifest load has them."""
    if raw is None:
        raise InvalidInputError(
            f"Kustomization '{ref}' not found in the cluster: give it with --kustomization-file",
            location=SourceLocation(field="NAME", value=ref),
        )
    loaded = ParsedObjects().parse(KUSTOMIZATION.kind, raw)
    if isinstance(loaded, Refused):
        raise InvalidInputError(f"Kustomization '{ref}' in the cluster: {loaded.reason}")
    assert isinstance(loaded.obj, Kustomization)
    return cluster_manifests([loaded], await _cluster_secrets(client, loaded.obj))


def _inventory(raw: dict[str, Any] | None) -> list[InventoryEntry]:
    inventory = ((raw or {}).get("status") or {}).get("inventory") or {}
    return [InventoryEntry.from_json(entry) for entry in inventory.get("entries") or ()]


async def _diff(
    request: BuildInput, kubeconfig: Path | None, context: str | None
) -> list[ObjectDiff]:
    """Build, dry-run and judge every object (and what pruning would delete)."""
    async with KubeClient(load_kubeconfig(kubeconfig, context)) as client:
        try:
            raw = await client.get(KUSTOMIZATIONS, request.namespace, request.name)
        except NotFoundError:
            raw = None
        if request.manifest_paths:
            manifests = load_manifests(
                request.manifest_paths,
                identities=request.identities,
                default_namespace=request.namespace,
            )
        else:
            manifests = await _from_cluster(client, raw, f"{request.namespace}/{request.name}")
        objects = render_loaded(manifests, request)
        ks = find_kustomization(manifests, request)
        diff = DiffRequest(objects, ks.name, ks.namespace, _inventory(raw), prune=ks.spec.prune,
                           ignore=rules_of(ks.spec))  # fmt: skip
        return await diff_objects(client, diff)


@click.command("kustomization")
@click.argument("name")
@input_options(
    kustomization_help="A file holding the Kustomization object (default: the cluster's).",
    manifests_help="Manifest file or directory (repeatable) holding the Kustomization and the "
    "Secrets it names, instead of the cluster's.",
)
@click.option(
    "--kubeconfig",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    help="The cluster to compare with (default: $KUBECONFIG, then ~/.kube/config).",
)
@click.option("--context", "context_name", help="The kubeconfig context to use.")
@failing_with(lambda _: EXIT_INVALID)  # 1 means "differences" here
def diff_kustomization(
    name: str,
    directory: Path,
    kustomization_file: Path | None,
    manifests: tuple[Path, ...],
    namespace: str,
    kubeconfig: Path | None,
    context_name: str | None,
    age_key_file: Path | None,
    strict_substitute: bool,
) -> None:
    """Diff Kustomization NAME built from a local DIR against the cluster, like flux diff.

    DIR is built as 'build kustomization' builds it, then every object is applied as a
    server-side dry run (nothing is written; no controller needs to run).  Prints
    '► Kind/namespace/name created|drifted|deleted', the unified diff of each drifted object
    (live → merged; server-owned fields left out), and what pruning would delete when
    spec.prune is true.  Secret values are never printed: '***', or '*** (before)' and
    '*** (after)' for one that changes.

    Exit status: 0 no differences, 1 differences, 2 an error.
    """
    paths = (*((kustomization_file,) if kustomization_file else ()), *manifests)
    identities = identities_from_flags(age_key_file)
    request = BuildInput(name, namespace, directory, paths, identities, strict_substitute)
    diffs = asyncio.run(_diff(request, kubeconfig, context_name))
    click.echo(render(diffs), nl=False)
    click.echo(summary(diffs), err=True)
    if has_changes(diffs):
        raise click.exceptions.Exit(EXIT_DIFFERENT)


diff_group = click.Group("diff", help="Compare local files with the cluster, like flux diff.")
add_kind_groups(diff_group, kind_groups(lambda _: diff_kustomization, [KUSTOMIZATION]))
