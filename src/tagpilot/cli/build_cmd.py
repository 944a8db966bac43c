"""``tagpilot build kustomization NAME --path DIR``: a Kustomization's manifests, without a cluster.

Like ``flux build kustomization``: the Kustomization object is read from ``--kustomization-file``
and/or ``--manifests`` (never from a cluster), ``DIR`` is built in its place of ``spec.path``
with the object's spec (prefix and suffix, ``targetNamespace``, patches, images, components,
SOPS decryption, ``postBuild`` substitution), the objects get ``commonMetadata`` and Flux's owner
labels as the controller would apply them, and the result is printed as multi-document YAML.

The build root, against which ``../`` references are confined as they are inside a source
artifact, is the git checkout that holds ``DIR`` (or ``DIR`` itself outside a checkout).
Variables of ``postBuild.substituteFrom`` come from the Secrets found in the given manifests;
SOPS files there are decrypted with the same age identities as the build.  Secret values are
printed as ``***`` unless ``--reveal-secrets`` is given.  Every failure is one ``✗`` line:
exit 2 when the input must change (a build, substitution or decryption error, a missing
object), 1 for anything else.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click

from tagpilot.adapters.kustomize.build import BuildRequest, build
from tagpilot.adapters.manifests import Manifests, load_manifests
from tagpilot.adapters.sops import AgeIdentities
from tagpilot.adapters.sops.keys import (
    identities_from_env,
    identities_from_secret,
    load_identity_file,
)
from tagpilot.api.descriptors import KUSTOMIZATION
from tagpilot.api.goyaml import emit_document
from tagpilot.api.kustomization import Kustomization
from tagpilot.cli.errors import EXIT_FAILED, EXIT_INVALID
from tagpilot.cli.failures import fail
from tagpilot.cli.kind_commands import add_kind_groups, kind_groups
from tagpilot.cli.objects import DEFAULT_NAMESPACE, NS_HELP
from tagpilot.core.errors import InvalidInputError, SourceLocation, StalledError, TagpilotError
from tagpilot.core.kustomize.envsubst import (
    SubstitutionError,
    merge_variables,
    substitute_object,
    substitution_disabled,
)
from tagpilot.core.kustomize.stages import prepare

__all__ = [
    "MASK",
    "BuildInput",
    "build_group",
    "failing_with",
    "find_kustomization",
    "identities_from_flags",
    "input_options",
    "mask_secrets",
    "render_kustomization",
    "render_loaded",
]

MASK = "***"
"""What a Secret value is printed as without ``--reveal-secrets``."""

_C = TypeVar("_C", bound=Callable[..., Any])


@dataclass(frozen=True)
class BuildInput:
    """What one ``build kustomization`` was asked for."""

    name: str
    namespace: str
    directory: Path
    manifest_paths: tuple[Path, ...]
    identities: AgeIdentities
    strict: bool = True
    """An undefined ``postBuild`` variable fails the build (tagpilot's controller fails too)."""


def identities_from_flags(age_key_file: Path | None) -> AgeIdentities:
    """age identities from ``--age-key-file`` and the SOPS environment variables."""
    found = identities_from_env(os.environ)
    if age_key_file is not None:
        found = load_identity_file(age_key_file) + found
    return found


def find_kustomization(manifests: Manifests, request: BuildInput) -> Kustomization:
    """The Kustomization asked for among the loaded objects; an error naming the files."""
    for loaded in manifests.objects:
        obj = loaded.obj
        if (
            isinstance(obj, Kustomization)
            and obj.name == request.name
            and obj.namespace == request.namespace
        ):
            return obj
    files = ", ".join(str(path) for path in request.manifest_paths)
    raise InvalidInputError(
        f"Kustomization '{request.namespace}/{request.name}' not found in {files}",
        location=SourceLocation(field="NAME", value=request.name),
    )


def _checkout_root(directory: Path) -> Path:
    """The git checkout holding ``directory`` (where ``.git`` is), else ``directory``."""
    for candidate in (directory, *directory.parents):
        if (candidate / ".git").exists():
            return candidate
    return directory


def _decryption_keys(ks: Kustomization, manifests: Manifests, given: AgeIdentities) -> Any:
    """The given identities, and those of ``decryption.secretRef`` when the manifests hold it."""
    decryption = ks.spec.decryption
    if decryption is None:
        return None
    keys = given
    ref = decryption.secret_ref
    if ref is not None and (ks.namespace, ref.name) in manifests.secrets.secrets:
        secret = manifests.secrets.get(
            ks.namespace, ref.name, wanted_by=_owner(ks), reason="DecryptionFailed"
        )
        keys = keys + identities_from_secret(secret.values, secret=f"{ks.namespace}/{ref.name}")
    return keys


def _owner(ks: Kustomization) -> str:
    return f"Kustomization {ks.namespace}/{ks.name}"


def _substituted(
    ks: Kustomization, manifests: Manifests, objects: list[dict[str, Any]], *, strict: bool
) -> list[dict[str, Any]]:
    """``postBuild`` substitution with ``substitute`` and the Secrets of the manifests."""
    post = ks.spec.post_build
    if post is None:
        return objects
    sources: list[dict[str, str]] = []
    for ref in post.substitute_from or ():
        if ref.kind != "Secret":
            if ref.optional:
                continue
            raise SubstitutionError(
                f"{_owner(ks)}: spec.postBuild.substituteFrom {ref.kind}/{ref.name}: "
                "only Secrets are read (from the given manifests)"
            )
        if ref.optional and (ks.namespace, ref.name) not in manifests.secrets.secrets:
            continue
        secret = manifests.secrets.get(
            ks.namespace, ref.name, wanted_by=_owner(ks), reason="BuildFailed"
        )
        sources.append({k: v.decode("utf-8", "replace") for k, v in secret.values.items()})
    variables = merge_variables(sources, post.substitute)
    always = post.substitute_strategy == "Always"
    return [
        obj
        if substitution_disabled(obj)
        else substitute_object(obj, variables, strict=strict, always=always)
        for obj in objects
    ]


def render_kustomization(request: BuildInput) -> list[dict[str, Any]]:
    """The objects the Kustomization builds to, as the controller would apply them."""
    manifests = load_manifests(
        request.manifest_paths,
        identities=request.identities,
        default_namespace=request.namespace,
    )
    return render_loaded(manifests, request)


def render_loaded(manifests: Manifests, request: BuildInput) -> list[dict[str, Any]]:
    """:func:`render_kustomization` with the Kustomization (and the Secrets it names) already
    loaded, from files or from a cluster."""
    directory = request.directory.absolute()
    if not directory.is_dir():
        raise InvalidInputError(
            "not a directory", location=SourceLocation(field="--path", value=str(directory))
        )
    ks = find_kustomization(manifests, request)
    root = _checkout_root(directory)
    keys = _decryption_keys(ks, manifests, request.identities)
    built = build(BuildRequest(root, directory.relative_to(root).as_posix(), ks.spec, keys))
    metadata = ks.spec.common_metadata
    return prepare(
        _substituted(ks, manifests, built, strict=request.strict),
        owner_name=ks.name,
        owner_namespace=ks.namespace,
        common_labels=metadata.labels if metadata else None,
        common_annotations=metadata.annotations if metadata else None,
    )


def mask_secrets(objects: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The objects with every ``v1`` Secret's ``data`` and ``stringData`` values as ``***``."""
    masked = []
    for obj in objects:
        copy = dict(obj)
        if obj.get("apiVersion") == "v1" and obj.get("kind") == "Secret":
            for field in ("data", "stringData"):
                if isinstance(obj.get(field), Mapping):
                    copy[field] = dict.fromkeys(obj[field], MASK)
        masked.append(copy)
    return masked


def _printable(obj: Mapping[str, Any]) -> dict[str, Any]:
    """``obj`` without the null ``creationTimestamp`` apply needs and a reader does not."""
    metadata = {k: v for k, v in obj["metadata"].items() if (k, v) != ("creationTimestamp", None)}
    return {**obj, "metadata": metadata}


def failing_with(code_for: Callable[[TagpilotError], int]) -> Callable[[_C], _C]:
    """A command whose ``TagpilotError`` is one ``✗`` line and exit ``code_for(error)``."""

    def decorate(command: _C) -> _C:
        @functools.wraps(command)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            try:
                return command(*args, **kwargs)
            except TagpilotError as error:
                fail(str(error), code_for(error))

        return guarded  # type: ignore[return-value]

    return decorate


def _build_exit_code(error: TagpilotError) -> int:
    """Exit 2 when the input must change, else 1."""
    return EXIT_INVALID if isinstance(error, StalledError) else EXIT_FAILED


def input_options(*, kustomization_help: str, manifests_help: str) -> Callable[[_C], _C]:
    """NAME's inputs, shared by ``build`` and ``diff``: ``--path``, ``-f``, ``--manifests``,
    ``-n``, ``--age-key-file`` and ``--strict-substitute``."""
    options = (
        click.option(
            "--path",
            "directory",
            required=True,
            type=click.Path(path_type=Path, file_okay=False),
            help="The kustomization's directory in a local checkout, built in place of spec.path.",
        ),
        click.option(
            "-f",
            "--kustomization-file",
            type=click.Path(path_type=Path, exists=True, dir_okay=False),
            help=kustomization_help,
        ),
        click.option(
            "--manifests",
            multiple=True,
            type=click.Path(path_type=Path, exists=True),
            help=manifests_help,
        ),
        click.option(
            "-n", "--namespace", default=DEFAULT_NAMESPACE, show_default=True, help=NS_HELP
        ),
        click.option(
            "--age-key-file",
            type=click.Path(path_type=Path, exists=True, dir_okay=False),
            help="age identities for SOPS-encrypted files (also SOPS_AGE_KEY_FILE, SOPS_AGE_KEY).",
        ),
        click.option(
            "--strict-substitute/--no-strict-substitute",
            default=True,
            show_default=True,
            help="Fail on an undefined postBuild variable without a default, as tagpilot's "
            "controller does; --no-strict-substitute makes it empty, as flux build does unless "
            "asked.",
        ),
    )

    def decorate(command: _C) -> _C:
        for option in reversed(options):
            command = option(command)
        return command

    return decorate


@click.command("kustomization")
@click.argument("name")
@input_options(
    kustomization_help="A file holding the Kustomization object.",
    manifests_help="Manifest file or directory (repeatable) holding the Kustomization and the "
    "Secrets its postBuild.substituteFrom and decryption.secretRef name.",
)
@click.option(
    "--reveal-secrets",
    is_flag=True,
    help="Print Secret data and stringData values; without it they are printed as ***.",
)
@failing_with(_build_exit_code)
def build_kustomization(
    name: str,
    directory: Path,
    kustomization_file: Path | None,
    manifests: tuple[Path, ...],
    namespace: str,
    age_key_file: Path | None,
    strict_substitute: bool,
    reveal_secrets: bool,
) -> None:
    """Build Kustomization NAME from a local DIR and print its objects, like flux build.

    The Kustomization comes from --kustomization-file or --manifests (no cluster is read).
    DIR is built with the object's spec: namePrefix/nameSuffix, targetNamespace, patches,
    images, components, SOPS decryption (keys from --age-key-file, the environment and the
    decryption.secretRef Secret when the manifests hold it) and postBuild substitution;
    commonMetadata and the kustomize.toolkit.fluxcd.io/name|namespace labels are added.
    References outside DIR must stay inside the git checkout that holds it.

    Secret values are masked as *** unless --reveal-secrets is given: a revealed build
    prints decrypted secrets on stdout.
    """
    paths = (*((kustomization_file,) if kustomization_file else ()), *manifests)
    if not paths:
        raise InvalidInputError(
            "give the Kustomization object with --kustomization-file or --manifests",
            location=SourceLocation(field="--kustomization-file"),
        )
    identities = identities_from_flags(age_key_file)
    request = BuildInput(name, namespace, directory, paths, identities, strict_substitute)
    objects = render_kustomization(request)
    shown = objects if reveal_secrets else mask_secrets(objects)
    click.echo("---\n".join(emit_document(_printable(obj)) for obj in shown), nl=False)


build_group = click.Group("build", help="Build objects from local files, like flux build.")
add_kind_groups(build_group, kind_groups(lambda _: build_kustomization, [KUSTOMIZATION]))
