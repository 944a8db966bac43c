"""``tagpilot get image repository|policy|update|all``, ``get source git`` and ``get
kustomizations``: Flux's tables.

The columns, the table layout and the messages for an empty or missing result are those of
``flux get`` (``-A`` adds a NAMESPACE column, ``all`` prefixes names with the kind and ends
each table with an empty line).  ``-o json|yaml`` prints the objects themselves, as a
``List`` or, with a NAME, the one object.  Objects come from the daemon or, without one, from
the state file and ``--manifests`` (:mod:`tagpilot.cli.objects`).
``export image …`` prints objects from ``--manifests`` the way ``flux export`` prints live
ones: with the defaults the API server would have filled in (``with_server_defaults``).
The lead adds ``get_group`` and ``export_group`` to the ``tagpilot`` command group.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from tagpilot.api.descriptors import Column, KindDescriptor, cli_kinds
from tagpilot.api.export import export_document
from tagpilot.api.goyaml import emit_document
from tagpilot.api.kinds import AnyObject
from tagpilot.api.server_defaults import with_server_defaults
from tagpilot.cli.failures import fail, flux_errors
from tagpilot.cli.kind_commands import add_kind_groups, kind_groups
from tagpilot.cli.objects import (
    DEFAULT_NAMESPACE,
    DEFAULT_SERVER,
    DEFAULT_STATE,
    NS_HELP,
    LocalSource,
    ObjectSource,
    ObjectView,
    source_from_flags,
)
from tagpilot.cli.render import condition, format_table, ready_and_message, rfc3339
from tagpilot.core.errors import InvalidInputError, SourceLocation
from tagpilot.ports import AutomationRun

__all__ = [
    "GetOptions",
    "StatusSelector",
    "export_group",
    "get_group",
    "missing_message",
    "render_documents",
    "render_pushes",
    "render_table",
    "source_options",
    "with_server_defaults",
]


def _flag(value: bool) -> str:
    return "True" if value else "False"


def _cell(column: Column, view: ObjectView) -> str:
    if column.read is None:
        return _flag(view.suspended)
    value = column.read(view.status)
    return rfc3339(value) if column.time else str(value or "")


def _cells(view: ObjectView) -> list[str]:
    """The kind's columns (its descriptor's), then READY and MESSAGE."""
    columns = [_cell(column, view) for column in view.descriptor.columns]
    return [*columns, *ready_and_message(view.status)]


@dataclass(frozen=True)
class StatusSelector:
    """``--status-selector type=status`` (or ``type!=status``), compared case-insensitively."""

    condition_type: str
    status: str
    negated: bool = False

    @classmethod
    def parse(cls, text: str) -> StatusSelector:
        """Read the flag; ``InvalidInputError`` when it is not ``type=status``."""
        negated = "!=" in text
        parts = text.split("!=" if negated else "=", 1)
        if len(parts) != 2 or not parts[0]:
            raise InvalidInputError(
                f"expected status selector in type=status format, but found: {text}",
                location=SourceLocation(field="--status-selector", value=text),
            )
        return cls(parts[0], parts[1], negated)

    def matches(self, view: ObjectView) -> bool:
        """True when the object's condition has (or, negated, has not) the wanted status."""
        found = condition(view.status, self.condition_type)
        equal = found is not None and found.status.lower() == self.status.lower()
        return equal != self.negated


@dataclass(frozen=True)
class GetOptions:
    """What ``get`` was asked for: namespace (None with ``-A``), header, output, selector."""

    namespace: str | None = DEFAULT_NAMESPACE
    no_header: bool = False
    output: str = "table"
    selector: StatusSelector | None = None

    def selected(self, views: Sequence[ObjectView]) -> list[ObjectView]:
        """The views ``--status-selector`` lets through (all without one)."""
        return [view for view in views if self.selector is None or self.selector.matches(view)]


def _name_cells(view: ObjectView, options: GetOptions, prefixed: bool) -> list[str]:
    name = f"{view.kind.lower()}/{view.name}" if prefixed else view.name
    return [name] if options.namespace is not None else [view.namespace, name]


def render_table(
    views: Sequence[ObjectView],
    info: KindDescriptor,
    options: GetOptions,
    *,
    prefixed: bool = False,
) -> str:
    """The ``flux get`` table of ``views``; ``prefixed`` writes NAME as ``kind/name`` (``all``)."""
    columns = [column.header for column in info.columns] + ["READY", "MESSAGE"]
    header = None
    if not options.no_header:
        header = (
            ("NAME", *columns) if options.namespace is not None else ("NAMESPACE", "NAME", *columns)
        )
    rows = [
        [*_name_cells(view, options, prefixed), *_cells(view)] for view in options.selected(views)
    ]
    return format_table(header, rows)


def _changes_cell(run: AutomationRun) -> str:
    changes = [f"{c.get('old', '')} -> {c.get('new', '')}" for c in run.changes]
    return "\n".join(dict.fromkeys(changes)) or "-"


def render_pushes(runs: Sequence[AutomationRun], options: GetOptions) -> str:
    """An automation's recent pushes (the run history), newest first, as a table."""
    header = None if options.no_header else ("PUSHED", "COMMIT", "BRANCH", "CHANGES")
    rows = [
        [
            rfc3339(run.time.isoformat()),
            (run.commit or "")[:7],
            run.branch or "",
            _changes_cell(run),
        ]
        for run in runs
    ]
    return format_table(header, rows)


def missing_message(kind: str, name: str | None, namespace: str | None) -> str:
    """Flux's words for an empty result: no objects, or no object called ``name``."""
    where = "any" if namespace is None else f'"{namespace}"'
    if name:
        return f"{kind} object '{name}' not found in {where} namespace"
    return f"no {kind} objects found in {where} namespace"


def _document(view: ObjectView) -> dict[str, Any]:
    document: dict[str, Any] = {
        "apiVersion": view.descriptor.api_version,
        "kind": view.kind,
        "metadata": {**view.metadata, "name": view.name, "namespace": view.namespace},
    }
    if view.spec is not None:  # unknown: a state file without --manifests or a kept object
        document["spec"] = dict(view.spec)
    document["status"] = view.document
    return document


def render_documents(views: Sequence[ObjectView], output: str, *, single: bool) -> str:
    """The objects as JSON or YAML: one object when ``single``, else a ``List``."""
    documents = [_document(view) for view in views]
    tree: Mapping[str, Any] = (
        documents[0] if single else {"apiVersion": "v1", "items": documents, "kind": "List"}
    )
    if output == "json":
        return json.dumps(tree, indent=4, ensure_ascii=False) + "\n"
    return emit_document(tree)


def _fetch(
    source: ObjectSource, kind: str, name: str | None, options: GetOptions
) -> list[ObjectView]:
    views = source.list_objects(kind, options.namespace)
    return [view for view in views if name is None or view.name == name]


def _print_kind(
    source: ObjectSource, info: KindDescriptor, name: str | None, options: GetOptions
) -> None:
    views = _fetch(source, info.kind, name, options)
    if options.output != "table":
        if name and not views:
            fail(missing_message(info.kind, name, options.namespace))
        chosen = options.selected(views)
        text = render_documents(chosen, options.output, single=bool(name and chosen))
        click.echo(text, nl=False)
        return
    if not views:
        fail(missing_message(info.kind, name, options.namespace), 1 if name else 0)
    click.echo(render_table(views, info, options), nl=False)
    if name and len(views) == 1 and views[0].runs:
        click.echo("\n" + render_pushes(views[0].runs, options), nl=False)


def _image_kinds() -> list[KindDescriptor]:
    return [info for info in cli_kinds() if info.group == "image"]


def _print_all(source: ObjectSource, options: GetOptions) -> None:
    if options.output != "table":
        views = [
            view for info in _image_kinds() for view in _fetch(source, info.kind, None, options)
        ]
        text = render_documents(options.selected(views), options.output, single=False)
        click.echo(text, nl=False)
        return
    printed = False
    for info in _image_kinds():
        views = _fetch(source, info.kind, None, options)
        if views:
            printed = True
            click.echo(render_table(views, info, options, prefixed=True))
    if not printed:
        fail(missing_message("image", None, options.namespace), 0)


def source_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``--server``, ``--state`` and ``--manifests`` to a click command."""
    options = (
        click.option(
            "--server",
            default=DEFAULT_SERVER,
            show_default=True,
            help="Address of the running tagpilot daemon.",
        ),
        click.option(
            "--state",
            type=click.Path(dir_okay=False, path_type=Path),
            default=DEFAULT_STATE,
            show_default="$XDG_STATE_HOME/tagpilot/state.db",
            help="State file to read when no daemon answers.",
        ),
        click.option(
            "--manifests",
            multiple=True,
            type=click.Path(exists=True, path_type=Path),
            help="Manifest file or directory (repeatable) to list objects from without a daemon.",
        ),
    )
    for option in reversed(options):
        command = option(command)
    return command


def _get_options(command: Callable[..., Any]) -> Callable[..., Any]:
    options = (
        click.option(
            "-n", "--namespace", default=DEFAULT_NAMESPACE, show_default=True, help=NS_HELP
        ),
        click.option(
            "-A", "--all-namespaces", is_flag=True, help="List objects across all namespaces."
        ),
        click.option("--no-header", is_flag=True, help="Skip the header line."),
        click.option(
            "-o",
            "--output",
            type=click.Choice(["table", "json", "yaml"]),
            default="table",
            show_default=True,
        ),
        click.option(
            "--status-selector",
            default="",
            help="Only objects whose condition has this status, e.g. ready=false.",
        ),
    )
    for option in reversed(options):
        command = option(command)
    return source_options(command)


def _options(
    namespace: str, all_namespaces: bool, no_header: bool, output: str, status_selector: str
) -> GetOptions:
    selector = StatusSelector.parse(status_selector) if status_selector else None
    return GetOptions(None if all_namespaces else namespace, no_header, output, selector)


def _kind_command(info: KindDescriptor) -> click.Command:
    @click.command(info.word, help=f"Print the status of {info.kind} objects, as flux does.")
    @click.argument("name", required=False)
    @_get_options
    @flux_errors
    def command(
        name: str | None, server: str, state: Path, manifests: tuple[Path, ...], **flags: Any
    ) -> None:
        _print_kind(source_from_flags(server, state, manifests), info, name, _options(**flags))

    return command


@click.command("all")
@_get_options
@flux_errors
def _all_command(server: str, state: Path, manifests: tuple[Path, ...], **flags: Any) -> None:
    """Print the status of every image repository, policy and update automation."""
    _print_all(source_from_flags(server, state, manifests), _options(**flags))


@click.group("get")
def get_group() -> None:
    """Print objects and their status, like flux get."""


_get_kinds = kind_groups(_kind_command, cli_kinds())
next(group for group in _get_kinds if group.name == "image").add_command(_all_command)
add_kind_groups(get_group, _get_kinds)


def _export_leaf(info: KindDescriptor) -> click.Command:
    @click.command(
        info.word, help=f"Print {info.kind} objects from --manifests, as flux export does."
    )
    @click.argument("name", required=False)
    @click.option("--all", "every", is_flag=True, help="Every object of the kind in the namespace.")
    @click.option("-n", "--namespace", default=DEFAULT_NAMESPACE, show_default=True, help=NS_HELP)
    @click.option(
        "--manifests",
        multiple=True,
        required=True,
        type=click.Path(exists=True, path_type=Path),
        help="Manifest file or directory (repeatable) holding the objects.",
    )
    @flux_errors
    def command(name: str | None, every: bool, namespace: str, manifests: tuple[Path, ...]) -> None:
        if not name and not every:
            raise InvalidInputError("name is required")
        objects = LocalSource(Path(), manifests).manifest_objects(info.kind)
        in_namespace = [obj for obj in objects if obj.namespace == namespace]
        chosen = sorted(
            (obj for obj in in_namespace if name is None or obj.name == name),
            key=lambda obj: obj.name,
        )
        if not chosen:
            if name:
                fail(missing_message(info.kind, name, namespace))
            fail(f"no objects found in {namespace} namespace", 0)
        click.echo(_export_text(chosen), nl=False)

    return command


def _export_text(objects: Iterable[AnyObject]) -> str:
    documents = (export_document(with_server_defaults(obj)) for obj in objects)
    return "".join("---\n" + emit_document(document) for document in documents)


export_group = click.Group("export", help="Print objects as YAML, like flux export.")
add_kind_groups(export_group, kind_groups(_export_leaf, cli_kinds()))
