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
* a ``--select-semver`` range or ``--commit-template`` that the reconcilers would refuse
  (a parse error, the removed ``.Updated`` field) is refused here (exit 2);
* without ``--export`` nothing is written: tagpilot has no object store yet (exit 2).

The group object is :data:`create`; the lead wires it into ``tagpilot.cli.main:cli``.
"""

from __future__ import annotations

from typing import Any

import click

from tagpilot.api.automation import ImageUpdateAutomation
from tagpilot.api.duration import Duration
from tagpilot.api.image import ImagePolicy, ImageRepository
from tagpilot.api.source import GitRepository
from tagpilot.cli.create_checks import check_commit_template, check_semver_range
from tagpilot.cli.create_common import (
    NO_STORE_MESSAGE,
    GoDuration,
    build_object,
    common_options,
    finish,
    interval_option,
    object_metadata,
    text_flags,
)
from tagpilot.cli.create_flags import (
    commit_spec,
    digest_settings,
    filter_tags,
    git_ref,
    git_url_scheme,
    policy_choice,
    require,
)
from tagpilot.cli.create_secret import secret
from tagpilot.core.errors import InvalidInputError
from tagpilot.core.imageref import parse_repository

__all__ = ["NO_STORE_MESSAGE", "GoDuration", "create"]


@click.group()
def create() -> None:
    """Create Flux objects (print them with --export)."""


@create.group()
def image() -> None:
    """Create ImageRepository, ImagePolicy and ImageUpdateAutomation objects."""


@create.group()
def source() -> None:
    """Create source objects (GitRepository)."""


@image.command("repository")
@click.argument("name")
@text_flags(
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
@interval_option
@common_options
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
    metadata = object_metadata(name, namespace, labels)
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
    finish(build_object(ImageRepository, {"metadata": metadata, "spec": spec}), export)


@image.command("policy")
@click.argument("name")
@text_flags(
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
@common_options
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
    metadata = object_metadata(name, namespace, labels)
    if not image_ref:
        raise InvalidInputError(
            "the name of an ImageRepository in the namespace is required (--image-ref)"
        )
    if select_semver:
        check_semver_range("--select-semver", select_semver)
    spec: dict[str, Any] = {
        "imageRepositoryRef": {"name": image_ref},
        "policy": policy_choice(select_semver, select_alpha, select_numeric),
    }
    tag_filter = filter_tags(filter_regex, filter_extract)
    if tag_filter:
        spec["filterTags"] = tag_filter
    spec.update(digest_settings(reflect_digest, interval))
    finish(build_object(ImagePolicy, {"metadata": metadata, "spec": spec}), export)


@image.command("update")
@click.argument("name")
@text_flags(
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
@interval_option
@common_options
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
    metadata = object_metadata(name, namespace, labels)
    require(
        (
            (git_repo_ref, "a reference to a GitRepository is required (--git-repo-ref)"),
            (checkout_branch, "the Git repository branch is required (--checkout-branch)"),
            (author_name, "the author name is required (--author-name)"),
            (author_email, "the author email is required (--author-email)"),
        )
    )
    if commit_template:
        check_commit_template("--commit-template", commit_template)
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
    finish(build_object(ImageUpdateAutomation, {"metadata": metadata, "spec": spec}), export)


@source.command("git")
@click.argument("name")
@text_flags(
    ("--url", "Git address, e.g. ssh://git@host/org/repository."),
    ("--branch", "Git branch."),
    ("--tag", "Git tag."),
    ("--tag-semver", "Git tag semver range."),
    ("--commit", "Git commit SHA."),
    ("--ref-name", "Git reference name, e.g. refs/heads/main."),
    ("--secret-ref", "The name of an existing secret with SSH or basic credentials."),
)
@click.option("--recurse-submodules", is_flag=True, help="Include Git submodules in the artifact.")
@interval_option
@common_options
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
    metadata = object_metadata(name, namespace, labels)
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
    finish(build_object(GitRepository, {"metadata": metadata, "spec": spec}), export)


create.add_command(secret)
