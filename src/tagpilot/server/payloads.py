"""Read webhook bodies: JSON decoding and the image a registry says it pushed.

Pure functions over bytes, called by :mod:`tagpilot.server.webhooks` once a delivery is
authenticated.  A body that must be JSON and is not raises :class:`MalformedPayloadError` (the
server answers 400).  ``pushed_images`` returns the canonical repository names a body
names (``index.docker.io/library/nginx``, ``ghcr.io/org/app``), without tags; an empty
tuple means the body names none, so no restriction applies.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

from tagpilot.core.errors import TagpilotError
from tagpilot.core.imageref import parse_reference

__all__ = [
    "MalformedPayloadError",
    "canonical_image",
    "form_payload",
    "json_object",
    "pushed_images",
]

JsonObject = dict[str, Any]


class MalformedPayloadError(ValueError):
    """The body is not what the sender type promises (not JSON, not an object, bad shape)."""


def json_object(body: bytes, *, what: str) -> JsonObject:
    """Decode ``body`` as a JSON object; ``MalformedPayloadError`` naming ``what`` otherwise."""
    try:
        decoded = json.loads(body)
    except ValueError as error:  # not UTF-8, not JSON, or an integer past 4300 digits
        raise MalformedPayloadError(f"{what} payload is not valid JSON: {error}") from None
    except RecursionError:
        raise MalformedPayloadError(f"{what} payload is nested too deeply") from None
    if not isinstance(decoded, dict):
        raise MalformedPayloadError(f"{what} payload must be a JSON object")
    return decoded


def form_payload(body: bytes) -> bytes:
    """The ``payload`` field of a form-encoded GitHub delivery (empty when absent)."""
    try:
        fields = parse_qs(body.decode("utf-8"), strict_parsing=False)
    except UnicodeDecodeError:
        raise MalformedPayloadError("form-encoded payload is not UTF-8") from None
    return fields.get("payload", [""])[0].encode()


def canonical_image(reference: str) -> str | None:
    """The canonical repository of an image reference (tag and digest dropped), or None."""
    try:
        return parse_reference(reference.strip()).repository.canonical_name
    except (TagpilotError, ValueError):
        return None


def _dig(document: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(document, dict):
            return None
        document = document.get(key)
    return document


def _strings(values: Iterable[Any]) -> list[str]:
    return [value for value in values if isinstance(value, str) and value]


def _dockerhub(document: JsonObject) -> list[str]:
    return _strings([_dig(document, "repository", "repo_name")])


def _quay(document: JsonObject) -> list[str]:
    return _strings([document.get("docker_url")])


def _harbor(document: JsonObject) -> list[str]:
    resources = _dig(document, "event_data", "resources")
    if not isinstance(resources, list):
        return []
    return _strings(_dig(resource, "resource_url") for resource in resources)


def _github(document: JsonObject) -> list[str]:
    urls = [
        _dig(document, wrapper, "package_version", "package_url")
        for wrapper in ("package", "registry_package")
    ]
    return _strings(urls)


def _acr(document: JsonObject) -> list[str]:
    host, repository = _dig(document, "request", "host"), _dig(document, "target", "repository")
    if isinstance(host, str) and isinstance(repository, str) and host and repository:
        return [f"{host}/{repository}"]
    return []


_IMAGE_READERS: dict[str, Callable[[JsonObject], list[str]]] = {
    "dockerhub": _dockerhub,
    "quay": _quay,
    "harbor": _harbor,
    "github": _github,
    "acr": _acr,
}


def pushed_images(receiver_type: str, document: JsonObject) -> tuple[str, ...]:
    """The canonical repositories ``document`` says were pushed to, for image-aware types.

    Docker Hub: ``repository.repo_name``; Quay: ``docker_url``; Harbor:
    ``event_data.resources[].resource_url``; GitHub package events:
    ``package.package_version.package_url`` (or ``registry_package``); ACR:
    ``request.host`` + ``target.repository``.  Other types name no image.  A reference
    that does not parse is kept as written, so it still restricts (and matches nothing).
    """
    reader = _IMAGE_READERS.get(receiver_type)
    if reader is None:
        return ()
    found = (canonical_image(reference) or reference for reference in reader(document))
    return tuple(dict.fromkeys(found))
