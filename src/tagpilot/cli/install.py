"""``tagpilot install --export``: print what runs tagpilot in a cluster, as one YAML stream.

The output is deterministic (no timestamps, fixed order) so it can be committed and diffed;
apply it with ``kubectl apply --server-side -f -``.  ``--crds skip`` leaves CRDs out: use it
where Flux's CRDs are installed, because tagpilot never replaces a CRD it does not own.
Applying straight to a cluster is not offered: the export is the reviewable artifact.
"""

from __future__ import annotations

import io

import click
from ruamel.yaml import YAML

from tagpilot.api.crds import Props
from tagpilot.api.install import (
    CONTROLLER_NAMES,
    DEFAULT_NAMESPACE,
    InstallOptions,
    install_documents,
)

__all__ = ["install", "render_documents"]


def render_documents(documents: list[Props]) -> str:
    """The documents as one multi-document YAML text, each starting with ``---``."""
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.width = 4096
    yaml.explicit_start = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    stream = io.StringIO()
    yaml.dump_all(documents, stream)
    return stream.getvalue()


def _list(_ctx: click.Context, _param: click.Parameter, value: str | None) -> tuple[str, ...]:
    if not value:
        return ()
    return tuple(part.strip() for part in value.split(",") if part.strip())


@click.command("install")
@click.option(
    "--export",
    is_flag=True,
    help="Print the objects as YAML on stdout (required: nothing is applied directly).",
)
@click.option(
    "-n",
    "--namespace",
    default=DEFAULT_NAMESPACE,
    show_default=True,
    help="Namespace of the controller, its ServiceAccount and its Leases.",
)
@click.option(
    "--crds",
    type=click.Choice(["create", "skip"]),
    default="create",
    show_default=True,
    help="skip: leave CRDs out (where Flux's CRDs are installed already).",
)
@click.option(
    "--source-crds",
    is_flag=True,
    help="Also emit the GitRepository CRD (for clusters without Flux's source-controller).",
)
@click.option(
    "--shards",
    callback=_list,
    metavar="A,B",
    help="One more Deployment per shard, selecting sharding.fluxcd.io/key in (<shard>).",
)
@click.option(
    "--controllers",
    default="image",
    show_default=True,
    callback=_list,
    metavar="LIST",
    help=f"What the controller runs, comma-separated from {','.join(CONTROLLER_NAMES)}; "
    "kustomize adds the Kustomization CRD and the deploy RBAC (cluster-admin-equivalent).",
)
@click.option("--image", metavar="REF", help="Controller image.  [default: tagpilot:<version>]")
@click.option(
    "--version",
    "version",
    metavar="V",
    help="Version for the labels and the default image tag.  [default: this tagpilot's]",
)
def install(
    export: bool,
    namespace: str,
    crds: str,
    source_crds: bool,
    shards: tuple[str, ...],
    controllers: tuple[str, ...],
    image: str | None,
    version: str | None,
) -> None:
    """Print the Namespace, CRDs, RBAC, Deployments, Service and NetworkPolicies.

    \b
    tagpilot install --export | kubectl apply --server-side -f -
    tagpilot install --export --crds skip -n flux-system   # beside Flux's CRDs
    tagpilot install --export --source-crds --controllers image,source,kustomize
    """
    if not export:
        raise click.UsageError(
            "only --export is supported: "
            "tagpilot install --export | kubectl apply --server-side -f -"
        )
    options = InstallOptions(
        namespace=namespace,
        crds="skip" if crds == "skip" else "create",
        source_crds=source_crds,
        shards=shards,
        controllers=controllers,
        image=image,
        **({"version": version} if version is not None else {}),
    )
    problems = options.check()
    if problems:
        raise click.UsageError("; ".join(problems))
    click.echo(render_documents(install_documents(options)), nl=False)
