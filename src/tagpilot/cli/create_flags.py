"""Flux ``create`` flag rules: turn flag values into spec fragments, with Flux's messages.

The rules and error texts are those of ``flux create image|source|secret`` (flux2
``cmd/flux/create*.go``), except where :mod:`tagpilot.cli.create` documents a deliberate
difference.  Pure functions: strings in, dicts out, :class:`InvalidInputError` on bad input.
Called by ``tagpilot create``.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from tagpilot.api.duration import Duration
from tagpilot.api.image import compile_regex
from tagpilot.core.errors import InvalidInputError

__all__ = [
    "commit_spec",
    "digest_settings",
    "filter_tags",
    "git_ref",
    "git_url_scheme",
    "parse_labels",
    "policy_choice",
    "require",
    "validate_extract",
    "validate_object_name",
]

_NAME = re.compile(r"^[a-z0-9]([a-z0-9\-]){0,61}[a-z0-9]$")
_LABEL_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_EXTRACT_NAME = re.compile(r"\$(?:\{(\w+)\}|(\w+))", re.UNICODE)


def validate_object_name(name: str) -> None:
    """Flux's ``create`` name rule: 2-63 characters, lowercase alphanumerics and ``-``."""
    if not _NAME.match(name):
        raise InvalidInputError(
            f"name '{name}' is invalid, it should adhere to standard defined in RFC 1123, "
            "the name can only contain alphanumeric characters or '-'"
        )


def _label_key_problem(key: str) -> str | None:
    prefix, _, name = key.rpartition("/")
    if prefix and (len(prefix) > 253 or not _DNS_SUBDOMAIN.match(prefix)):
        return "prefix part must be a lowercase RFC 1123 subdomain"
    if not name or len(name) > 63 or not _LABEL_NAME.match(name):
        return (
            "name part must be 1-63 characters: alphanumerics, '-', '_' or '.', "
            "alphanumeric at both ends"
        )
    return None


def parse_labels(values: tuple[str, ...]) -> dict[str, str]:
    """``--label k=v,k2=v2`` (repeatable) → a dict, checked like Kubernetes label rules."""
    labels: dict[str, str] = {}
    for label in (item for value in values for item in value.split(",")):
        parts = label.split("=")
        if len(parts) != 2:
            raise InvalidInputError(f"invalid label format '{label}', must be key=value")
        key, value = parts
        problem = _label_key_problem(key)
        if problem:
            raise InvalidInputError(f"invalid label '{key}': {problem}")
        if value and (len(value) > 63 or not _LABEL_NAME.match(value)):
            raise InvalidInputError(
                f"invalid label value '{value}': must be at most 63 characters, "
                "alphanumerics, '-', '_' or '.', alphanumeric at both ends"
            )
        labels[key] = value
    return labels


def validate_extract(template: str, pattern: str) -> None:
    """Every named ``$name``/``${name}`` in ``template`` must be a group of ``pattern``."""
    names = set(compile_regex(pattern).groupindex)
    position = 0
    while (start := template.find("$", position)) >= 0:
        if template.startswith("$$", start):
            position = start + 2
            continue
        match = _EXTRACT_NAME.match(template, start)
        if match is None:
            raise InvalidInputError("--filter-extract is malformed")
        group = match.group(1) or match.group(2)
        is_number = group.isdigit() and not (group.startswith("0") and len(group) > 1)
        if not is_number and group not in names:
            raise InvalidInputError(
                f"capture group ${group} used in --filter-extract not found in --filter-regex"
            )
        position = match.end()


def _order(flag: str, value: str) -> dict[str, str]:
    if value not in ("asc", "desc"):
        raise InvalidInputError(f'{flag} must be one of ["asc", "desc"]')
    return {"order": value}


def policy_choice(semver: str, alpha: str, numeric: str) -> dict[str, Any]:
    """``--select-semver|--select-alpha|--select-numeric`` → ``spec.policy`` (exactly one)."""
    given = [
        flag
        for flag, value in (("semver", semver), ("alpha", alpha), ("numeric", numeric))
        if value
    ]
    if len(given) > 1:
        raise InvalidInputError(
            "only one of --select-semver, --select-alpha or --select-numeric can be specified"
        )
    if semver:
        return {"semver": {"range": semver}}
    if alpha:
        return {"alphabetical": _order("--select-alpha", alpha)}
    if numeric:
        return {"numerical": _order("--select-numeric", numeric)}
    raise InvalidInputError(
        "a policy must be provided with either --select-semver or --select-alpha"
    )


def filter_tags(regex: str, extract: str) -> dict[str, str] | None:
    """``--filter-regex`` / ``--filter-extract`` → ``spec.filterTags`` (None without a regex)."""
    if not regex:
        if extract:
            raise InvalidInputError(
                "cannot specify --filter-extract without specifying --filter-regex"
            )
        return None
    try:
        compile_regex(regex)
    except ValueError:
        raise InvalidInputError("--filter-regex is an invalid regex pattern") from None
    if extract:
        validate_extract(extract, regex)
        return {"pattern": regex, "extract": extract}
    return {"pattern": regex}


def digest_settings(reflect: str, interval: Duration | None) -> dict[str, Any]:
    """``--reflect-digest`` and the policys ``--interval`` (only with ``Always``) → spec fields."""
    if reflect and reflect not in ("Never", "IfNotPresent", "Always"):
        raise InvalidInputError(
            'invalid value for --reflect-digest, must be one of ["Never", "IfNotPresent", "Always"]'
        )
    settings: dict[str, Any] = {"digestReflectionPolicy": reflect} if reflect else {}
    if interval is not None and reflect != "Always":
        raise InvalidInputError(
            "the --interval flag can only be used with the 'Always' digest reflection policy, "
            "use --reflect-digest=Always"
        )
    if reflect == "Always" and interval is None:
        raise InvalidInputError(
            "--reflect-digest=Always needs --interval (how often to re-check the digest)"
        )
    if interval is not None:
        settings["interval"] = interval
    return settings


def require(pairs: tuple[tuple[str, str], ...]) -> None:
    """Raise the message of the first empty value in ``(value, message)`` pairs."""
    for value, message in pairs:
        if not value:
            raise InvalidInputError(message)


def commit_spec(
    author_name: str, author_email: str, template: str, key_secret: str, key_type: str
) -> dict[str, Any]:
    """Author, signing key and template flags → ``spec.git.commit``."""
    commit: dict[str, Any] = {"author": {"email": author_email, "name": author_name}}
    if key_type and not key_secret:
        raise InvalidInputError("--signing-key-type requires --signing-key-secret")
    if key_type and key_type not in ("gpg", "ssh"):
        raise InvalidInputError('--signing-key-type must be one of ["gpg", "ssh"]')
    if key_secret:
        commit["signingKey"] = {"secretRef": {"name": key_secret}}
        if key_type:
            commit["signingKey"]["type"] = key_type
    if template:
        commit["messageTemplate"] = template
    return commit


def git_url_scheme(url: str) -> str:
    """Check a Git URL (ssh, http or https) and return its scheme."""
    if not url:
        raise InvalidInputError("url is required")
    scheme = urlsplit(url).scheme
    if scheme not in ("ssh", "http", "https"):
        raise InvalidInputError(
            f"git URL scheme '{scheme}' not supported, can be: ssh, http and https"
        )
    return scheme


def git_ref(branch: str, tag: str, semver: str, commit: str, ref_name: str) -> dict[str, str]:
    """``create source git`` ref flags → ``spec.ref`` (commit > name > semver > tag > branch)."""
    if not any((branch, tag, semver, commit, ref_name)):
        raise InvalidInputError(
            "a Git ref is required, use one of the following: "
            "--branch, --tag, --commit, --ref-name or --tag-semver"
        )
    if commit:
        return {"commit": commit, **({"branch": branch} if branch else {})}
    for key, value in (("name", ref_name), ("semver", semver), ("tag", tag)):
        if value:
            return {key: value}
    return {"branch": branch}
