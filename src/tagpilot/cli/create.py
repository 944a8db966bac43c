"""``tagpilot create image|source|secret ... --export``: Flux's ``create`` verbs and YAML.

The flags, defaults and error messages are the Flux CLI's (``flux create image repository
|policy|update``, ``flux create source git``, ``flux create secret git``); ``create secret
registry`` follows ``kubectl create secret docker-registry``.  Deliberate differences:

* ``--select-semver`` together with ``--select-alpha``/``--select-numeric`` is an error
  (Flux silently writes an empty ``policy: {}``);
* secrets can be read from stdin (``--password-stdin``, ``--docker-password-stdin``) so they
  stay out of shell history and ``ps``; the argv flags still work for compatibility;
* ``create secret git`` for SSH does not fetch host keys over the network: give
  ``--known-hosts-file`` (never trust on first use);
* without ``--export`` nothing is written: tagpilot has no object store yet (exit 1).

The group object is :data:`create`; the lead wires it into ``tagpilot.cli.main:cli``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click
from pydantic import ValidationError

from tagpilot.api.automation import ImageUpdateAutomation
from tagpilot.api.create_flags import (
    commit_spec,
    digest_settings,
    filter_tags,
    git_ref,
    git_url_scheme,
    parse_labels,
    policy_choice,
    require,
    validate_object_name,
)
from tagpilot.api.duration import Duration, parse_go_duration
from tagpilot.api.export import export_objects
from tagpilot.api.gitauth import SshKeyOptions, http_auth_values, ssh_auth_values
from tagpilot.api.image import ImagePolicy, ImageRepository
from tagpilot.api.kinds import AnyObject
from tagpilot.api.problems import problems_from
from tagpilot.api.secret import docker_config_json, docker_registry_secret, string_data_secret
from tagpilot.api.source import GitRepository
from tagpilot.cli.secret_sops import SopsExport, sops_options
from tagpilot.core.errors import InvalidInputError, TagpilotError
from tagpilot.core.imageref import parse_repository

__all__ = ["NO_STORE_MESSAGE", "GoDuration", "create"]

NO_STORE_MESSAGE = "tagpilot has no object store yet: use --export to print the manifest"

F = TypeVar("F", bound=Callable[..., Any])


class GoDuration(click.ParamType):  # type: ignore[type-arg]
    """A click parameter holding a Go duration (``1m``, ``90s``, ``1.5h``)."""

    name = "duration"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> Duration:
        """Parse ``value``; click reports a bad one as a usage error (exit 2)."""
        if isinstance(value, Duration):
            return value
        try:
            return Duration.of(nanoseconds=parse_go_duration(str(value)))
        except ValueError as error:
            self.fail(f"time: invalid duration {value!r}: {error}", param, ctx)


def _common(command: F) -> F:
    """The flags every ``create`` command shares (Flux's persistent ``create`` flags)."""
    command = click.option("--export", is_flag=True, help="Export in YAML format to stdout.")(
        command
    )
    command = click.option(
        "--label",
        "labels",
        multiple=True,
        help="Set labels on the resource (label1=value1,label2=value2).",
    )(command)
    return click.option(
        "-n",
        "--namespace",
        default="flux-system",
        show_default=True,
        help="The namespace of the object.",
    )(command)


def _text_flags(*specs: tuple[str, ...]) -> Callable[[F], F]:
    """String flags defaulting to ``""``: ``(flag, help)`` or ``(flag, help, parameter name)``."""

    def apply(command: F) -> F:
        for flag, help_text, *dest in reversed(specs):
            command = click.option(flag, *dest, default="", help=help_text)(command)
        return command

    return apply


def _interval_option(command: F) -> F:
    return click.option(
        "--interval",
        type=GoDuration(),
        default="1m",
        show_default=True,
        help="Source sync interval.",
    )(command)


def _metadata(name: str, namespace: str, labels: tuple[str, ...]) -> dict[str, Any]:
    validate_object_name(name)
    metadata: dict[str, Any] = {"name": name, "namespace": namespace}
    parsed = parse_labels(labels)
    if parsed:
        metadata["labels"] = parsed
    return metadata


def _build(model: type[AnyObject], document: dict[str, Any]) -> AnyObject:
    """Validate a document assembled from flags; problems become one input error."""
    try:
        return model.model_validate(document)
    except ValidationError as error:
        detail = "; ".join(problem.describe() for problem in problems_from(error, model))
        raise InvalidInputError(f"invalid {model.KIND}: {detail}") from None


def _finish(obj: AnyObject, export: bool, sops: SopsExport | None = None) -> None:
    exported = export_objects([obj])
    if sops is not None:
        exported = sops.apply(exported, export=export)
    if not export:
        raise TagpilotError(NO_STORE_MESSAGE)
    click.echo(exported, nl=False)


@click.group()
def create() -> None:
    """Create Flux objects (print them with --export)."""


@create.group()
def image() -> None:
    """Create ImageRepository, ImagePolicy and ImageUpdateAutomation objects."""


@create.group()
def source() -> None:
    """Create source objects (GitRepository)."""


@create.group()
def secret() -> None:
    """Create Secrets for Git and registry authentication."""


@image.command("repository")
@click.argument("name")
@_text_flags(
    ("--image", "The image repository to scan; e.g., library/alpine.", "image_name"),
    ("--secret-ref", "The name of a docker-registry secret to use for credentials."),
    ("--cert-ref", "The name of a secret to use for TLS certificates."),
)
@click.option(
    "--scan-timeout",
    type=GoDuration(),
    default=None,
    help="A timeout for scanning; defaults to the interval.",
)
@_interval_option
@_common
def create_image_repository(
    *,
    name: str,
    image_name: str,
    secret_ref: str,
    cert_ref: str,
    scan_timeout: Duration | None,
    interval: Duration,
    export: bool,
    labels: tuple[str, ...],
    namespace: str,
) -> None:
    """Create an ImageRepository (what to scan)."""
    metadata = _metadata(name, namespace, labels)
    if not image_name:
        raise InvalidInputError("an image repository (--image) is required")
    parse_repository(image_name, field="--image")
    spec: dict[str, Any] = {"image": image_name, "interval": interval}
    if scan_timeout is not None and scan_timeout.nanoseconds:
        if scan_timeout.nanoseconds >= 3_600_000_000_000:
            raise InvalidInputError(
                f"--scan-timeout {scan_timeout.text} is not accepted: the timeout field allows "
                "no h unit, so it must be shorter than 1h"
            )
        spec["timeout"] = scan_timeout
    if secret_ref:
        spec["secretRef"] = {"name": secret_ref}
    if cert_ref:
        spec["certSecretRef"] = {"name": cert_ref}
    _finish(_build(ImageRepository, {"metadata": metadata, "spec": spec}), export)


@image.command("policy")
@click.argument("name")
@_text_flags(
    ("--image-ref", "The name of an image repository object."),
    ("--select-semver", "A semver range to apply to tags; e.g., '1.x'."),
    ("--select-alpha", 'Alphabetical sorting: "asc" selects the last, "desc" the first.'),
    ("--select-numeric", 'Numeric sorting: "asc" selects the last, "desc" the first.'),
    ("--filter-regex", "Regular expression pattern used to filter the image tags."),
    (
        "--filter-extract",
        "Replacement pattern (capture groups from --filter-regex) used for sorting.",
    ),
    ("--reflect-digest", "Digest reflection policy: Never, IfNotPresent or Always."),
)
@click.option(
    "--interval",
    type=GoDuration(),
    default=None,
    help="How often to re-check the digest (only with Always).",
)
@_common
def create_image_policy(
    *,
    name: str,
    image_ref: str,
    select_semver: str,
    select_alpha: str,
    select_numeric: str,
    filter_regex: str,
    filter_extract: str,
    reflect_digest: str,
    interval: Duration | None,
    export: bool,
    labels: tuple[str, ...],
    namespace: str,
) -> None:
    """Create an ImagePolicy (how to pick the latest tag)."""
    metadata = _metadata(name, namespace, labels)
    if not image_ref:
        raise InvalidInputError(
            "the name of an ImageRepository in the namespace is required (--image-ref)"
        )
    spec: dict[str, Any] = {
        "imageRepositoryRef": {"name": image_ref},
        "policy": policy_choice(select_semver, select_alpha, select_numeric),
    }
    tag_filter = filter_tags(filter_regex, filter_extract)
    if tag_filter:
        spec["filterTags"] = tag_filter
    spec.update(digest_settings(reflect_digest, interval))
    _finish(_build(ImagePolicy, {"metadata": metadata, "spec": spec}), export)


@image.command("update")
@click.argument("name")
@_text_flags(
    ("--git-repo-ref", "The name of a GitRepository with the upstream Git repository."),
    ("--git-repo-namespace", "The GitRepository's namespace; defaults to the automation's."),
    ("--git-repo-path", "Path to the manifests to update; defaults to the repository root."),
    ("--checkout-branch", "The branch to checkout."),
    ("--push-branch", "The branch to push commits to; defaults to the checkout branch."),
    ("--commit-template", "A template for commit messages."),
    ("--author-name", "The name to use for commit author."),
    ("--author-email", "The email to use for commit author."),
    ("--signing-key-secret", "A Secret with the commit signing key."),
    ("--signing-key-type", "Signing key type: gpg (default) or ssh."),
)
@_interval_option
@_common
def create_image_update(
    *,
    name: str,
    git_repo_ref: str,
    git_repo_namespace: str,
    git_repo_path: str,
    checkout_branch: str,
    push_branch: str,
    commit_template: str,
    author_name: str,
    author_email: str,
    signing_key_secret: str,
    signing_key_type: str,
    interval: Duration,
    export: bool,
    labels: tuple[str, ...],
    namespace: str,
) -> None:
    """Create an ImageUpdateAutomation (write selected images back to Git)."""
    metadata = _metadata(name, namespace, labels)
    require(
        (
            (git_repo_ref, "a reference to a GitRepository is required (--git-repo-ref)"),
            (checkout_branch, "the Git repository branch is required (--checkout-branch)"),
            (author_name, "the author name is required (--author-name)"),
            (author_email, "the author email is required (--author-email)"),
        )
    )
    source_ref = {"kind": "GitRepository", "name": git_repo_ref}
    if git_repo_namespace:
        source_ref["namespace"] = git_repo_namespace
    git: dict[str, Any] = {
        "checkout": {"ref": {"branch": checkout_branch}},
        "commit": commit_spec(
            author_name, author_email, commit_template, signing_key_secret, signing_key_type
        ),
    }
    if push_branch:
        git["push"] = {"branch": push_branch}
    spec: dict[str, Any] = {"sourceRef": source_ref, "git": git, "interval": interval}
    if git_repo_path:
        spec["update"] = {"path": git_repo_path, "strategy": "Setters"}
    _finish(_build(ImageUpdateAutomation, {"metadata": metadata, "spec": spec}), export)


@source.command("git")
@click.argument("name")
@_text_flags(
    ("--url", "Git address, e.g. ssh://git@host/org/repository."),
    ("--branch", "Git branch."),
    ("--tag", "Git tag."),
    ("--tag-semver", "Git tag semver range."),
    ("--commit", "Git commit SHA."),
    ("--ref-name", "Git reference name, e.g. refs/heads/main."),
    ("--secret-ref", "The name of an existing secret with SSH or basic credentials."),
)
@click.option("--recurse-submodules", is_flag=True, help="Include Git submodules in the artifact.")
@_interval_option
@_common
def create_source_git(
    *,
    name: str,
    url: str,
    branch: str,
    tag: str,
    tag_semver: str,
    commit: str,
    ref_name: str,
    secret_ref: str,
    recurse_submodules: bool,
    interval: Duration,
    export: bool,
    labels: tuple[str, ...],
    namespace: str,
) -> None:
    """Create a GitRepository source."""
    metadata = _metadata(name, namespace, labels)
    git_url_scheme(url)
    spec: dict[str, Any] = {
        "url": url,
        "interval": interval,
        "ref": git_ref(branch, tag, tag_semver, commit, ref_name),
    }
    if recurse_submodules:
        spec["recurseSubmodules"] = True
    if secret_ref:
        spec["secretRef"] = {"name": secret_ref}
    _finish(_build(GitRepository, {"metadata": metadata, "spec": spec}), export)


def _stdin_secret(given: str, from_stdin: bool, flag: str) -> str:
    if from_stdin:
        if given:
            raise InvalidInputError(f"{flag} and {flag}-stdin cannot be used together")
        return sys.stdin.read().rstrip("\r\n")
    return given


def _read_file(path: str, flag: str) -> str:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError as error:
        raise InvalidInputError(f"{flag}: cannot read {path}: {error.strerror}") from None


@secret.command("git")
@click.argument("name")
@_text_flags(
    ("--url", "Git address, e.g. ssh://git@host/org/repository."),
)
@click.option("-u", "--username", default="", help="Basic authentication username.")
@click.option(
    "-p", "--password", default="", help="Basic authentication password (prefer --password-stdin)."
)
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin.")
@_text_flags(
    ("--bearer-token", "Bearer authentication token."),
    ("--private-key-file", "Path to a private key file for the Git SSH server."),
    ("--known-hosts-file", "Path to known_hosts lines for the SSH server."),
)
@click.option(
    "--ssh-key-algorithm",
    default="ecdsa",
    show_default=True,
    help="Generated key algorithm: rsa, ecdsa, ed25519.",
)
@click.option(
    "--ssh-ecdsa-curve", default="p384", show_default=True, help="ECDSA curve: p256, p384, p521."
)
@click.option("--ssh-rsa-bits", default=2048, show_default=True, help="RSA key size.")
@_text_flags(
    ("--ca-crt-file", "Path to a TLS CA certificate file for self-signed servers."),
)
@_common
@sops_options
def create_secret_git(
    *,
    sops: bool,
    sops_age: tuple[str, ...],
    sops_path: str,
    name: str,
    url: str,
    username: str,
    password: str,
    password_stdin: bool,
    bearer_token: str,
    private_key_file: str,
    known_hosts_file: str,
    ssh_key_algorithm: str,
    ssh_ecdsa_curve: str,
    ssh_rsa_bits: int,
    ca_crt_file: str,
    export: bool,
    labels: tuple[str, ...],
    namespace: str,
) -> None:
    """Create a Secret with Git credentials (SSH key and known_hosts, or HTTP/S basic/bearer)."""
    metadata = _metadata(name, namespace, labels)
    scheme = git_url_scheme(url)
    password = _stdin_secret(password, password_stdin, "--password")
    if scheme == "ssh":
        options = SshKeyOptions(ssh_key_algorithm, ssh_ecdsa_curve, ssh_rsa_bits)
        key = (
            _read_file(private_key_file, "--private-key-file").encode()
            if private_key_file
            else None
        )
        known_hosts = _read_file(known_hosts_file, "--known-hosts-file") if known_hosts_file else ""
        values = ssh_auth_values(key, known_hosts, password, options)
    else:
        ca_crt = _read_file(ca_crt_file, "--ca-crt-file") if ca_crt_file else ""
        values = http_auth_values(username, password, bearer_token, ca_crt)
    obj = string_data_secret(metadata["name"], namespace, values, metadata.get("labels"))
    _finish(obj, export, SopsExport(sops, sops_age, sops_path))


@secret.command("registry")
@click.argument("name")
@click.option(
    "--docker-server",
    default="https://index.docker.io/v1/",
    show_default=True,
    help="Registry server.",
)
@_text_flags(
    ("--docker-username", "Username for registry authentication."),
    ("--docker-password", "Password (prefer --docker-password-stdin)."),
)
@click.option(
    "--docker-password-stdin", is_flag=True, help="Read the registry password from stdin."
)
@_text_flags(
    ("--docker-email", "Email for the registry (optional)."),
)
@_common
@sops_options
def create_secret_registry(
    *,
    sops: bool,
    sops_age: tuple[str, ...],
    sops_path: str,
    name: str,
    docker_server: str,
    docker_username: str,
    docker_password: str,
    docker_password_stdin: bool,
    docker_email: str,
    export: bool,
    labels: tuple[str, ...],
    namespace: str,
) -> None:
    """Create a kubernetes.io/dockerconfigjson Secret, like kubectl's docker-registry secret."""
    metadata = _metadata(name, namespace, labels)
    docker_password = _stdin_secret(docker_password, docker_password_stdin, "--docker-password")
    require(
        (
            (docker_username, "--docker-username is required"),
            (docker_password, "--docker-password (or --docker-password-stdin) is required"),
        )
    )
    config = docker_config_json(
        docker_server, docker_username, docker_password, docker_email or None
    )
    secret_obj = docker_registry_secret(metadata["name"], namespace, config, metadata.get("labels"))
    _finish(secret_obj, export, SopsExport(sops, sops_age, sops_path))
