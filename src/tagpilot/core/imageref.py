"""Image names as Flux reads them: parse, validate and normalise repositories and references.

The ImageRepository reconciler calls :func:`parse_repository` on ``spec.image`` (stalling on
error, reason ``ImageURLInvalid``); the registry adapter calls :func:`scheme` to pick http or
https; setters and the CLI call :func:`parse_reference` for full ``name:tag@digest`` strings.
The rules follow go-containerregistry's ``name`` package, which Flux uses:

* the part before the first ``/`` is a registry only if it contains ``.`` or ``:``
  (``localhost/app`` is a Docker Hub repository, ``localhost:5000/app`` is not);
* no registry means Docker Hub, ``docker.io`` is rewritten to ``index.docker.io``, and a
  single-component Docker Hub repository gets ``library/``;
* repositories use ``a-z0-9_-./`` and are 2 to 255 characters long;
* plain HTTP is used for insecure registries, ``localhost``, ``*.localhost``, loopback
  addresses and RFC 1918 IPv4 addresses.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from tagpilot.core.errors import InvalidInputError, SourceLocation

__all__ = [
    "DOCKER_HUB",
    "ImageRefError",
    "Reference",
    "Repository",
    "parse_reference",
    "parse_repository",
    "scheme",
]

DOCKER_HUB = "index.docker.io"
"""The registry go-containerregistry (and so Flux) uses for names without a registry."""

_DOCKER_HUB_ALIAS = "docker.io"
_REPOSITORY_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_-./")
_TAG_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.")
_DIGEST_CHARS = frozenset("sh:0123456789abcdef")
_DIGEST_LENGTH = len("sha256:") + 64
_HOST_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")
_IPV6_AUTHORITY = re.compile(r"\[[0-9A-Fa-f:.]+\](?::[0-9]*)?")
_LOCAL_SUFFIX = re.compile(r".*\.localhost(?::\d{1,5})?")
_LOOPBACK_V4 = re.compile(r"127\.0\.0\.1(?::\d{1,5})?")
_LOOPBACK_V6 = re.compile(r"::1|\[::1\](?::\d{1,5})?")
_PRIVATE_V4 = tuple(
    ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
)


class ImageRefError(InvalidInputError):
    """An image name Flux would refuse; the reason is ``ImageURLInvalid``."""

    reason = "ImageURLInvalid"


@dataclass(frozen=True)
class Repository:
    """A normalised repository: ``registry`` host[:port] and ``path`` (``library/`` added)."""

    registry: str
    path: str
    insecure: bool = False

    @property
    def canonical_name(self) -> str:
        """``<registry>/<path>``, as Flux reports it in ``status.canonicalImageName``."""
        return f"{self.registry}/{self.path}"

    @property
    def scheme(self) -> str:
        """``http`` or ``https`` for this registry (see :func:`scheme`)."""
        return scheme(self.registry, insecure=self.insecure)

    @property
    def base_url(self) -> str:
        """The registry's root URL, e.g. ``https://ghcr.io``."""
        return f"{self.scheme}://{self.registry}"

    def __str__(self) -> str:
        return self.canonical_name


@dataclass(frozen=True)
class Reference:
    """A full image reference: repository plus an optional tag and an optional digest."""

    repository: Repository
    tag: str | None = None
    digest: str | None = None

    def __str__(self) -> str:
        text = self.repository.canonical_name
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text


def _fail(message: str, text: str, field: str | None) -> ImageRefError:
    return ImageRefError(message, location=SourceLocation(field=field, value=text))


def _check_element(kind: str, value: str, allowed: frozenset[str], lo: int, hi: int) -> str | None:
    if not lo <= len(value) <= hi:
        return f"{kind} must be between {lo} and {hi} characters in length: {value}"
    if not set(value) <= allowed:
        return f"{kind} can only contain the characters `{''.join(sorted(allowed))}`: {value}"
    return None


def _check_registry(host: str) -> str | None:
    """Approximate Go's ``url.Parse("//" + host).Host == host`` check."""
    message = f"registries must be valid RFC 3986 URI authorities: {host}"
    if host.startswith("["):
        return None if _IPV6_AUTHORITY.fullmatch(host) else message
    name, colon, port = host.rpartition(":")
    if not colon:
        name, port = host, ""
    if port and not port.isdigit():
        return message
    return None if name and set(name) <= _HOST_CHARS else message


def _split_registry(name: str) -> tuple[str, str]:
    first, slash, rest = name.partition("/")
    if slash and ("." in first or ":" in first):
        return first, rest
    return "", name


def _build_repository(name: str, insecure: bool) -> tuple[Repository | None, str | None]:
    if not name:
        return None, "a repository name must be specified"
    registry, path = _split_registry(name)
    problem = _check_element("repository", path, _REPOSITORY_CHARS, 2, 255)
    if problem is None and registry:
        problem = _check_registry(registry)
    if problem:
        return None, problem
    registry = registry or DOCKER_HUB
    if registry == _DOCKER_HUB_ALIAS:
        registry = DOCKER_HUB
    if registry == DOCKER_HUB and "/" not in path:
        path = f"library/{path}"
        problem = _check_element("repository", path, _REPOSITORY_CHARS, 2, 255)
    return Repository(registry, path, insecure), problem


def _split_tag(name: str) -> tuple[str, str | None]:
    base, colon, tag = name.rpartition(":")
    if colon and "/" not in tag:
        return base, tag
    return name, None


def _parse_tagged(text: str, insecure: bool) -> tuple[Reference | None, str | None]:
    base, tag = _split_tag(text)
    if tag is not None:
        problem = _check_element("tag", tag, _TAG_CHARS, 1, 127)
        if problem:
            return None, problem
    repository, problem = _build_repository(base, insecure)
    if repository is None or problem:
        return None, problem
    return Reference(repository, tag=tag), None


def _parse_digested(text: str, insecure: bool) -> tuple[Reference | None, str | None]:
    parts = text.split("@")
    if len(parts) != 2:
        return None, f"a digest must contain exactly one '@' separator, saw: {text}"
    base, digest = parts
    problem = _check_element("digest", digest, _DIGEST_CHARS, _DIGEST_LENGTH, _DIGEST_LENGTH)
    if problem:
        return None, problem
    tagged, problem = _parse_tagged(base, insecure)
    if tagged is None:
        return None, problem
    return Reference(tagged.repository, tag=tagged.tag, digest=digest), None


def parse_reference(text: str, *, insecure: bool = False, field: str | None = None) -> Reference:
    """Parse ``[registry/]path[:tag][@digest]``; raise :class:`ImageRefError` naming the fault.

    ``field`` names where the text came from (e.g. ``spec.image``) for the error message.
    """
    if text.startswith(("http://", "https://")):
        raise _fail(f"image reference must not contain a URL scheme: {text}", text, field)
    reference, tag_problem = _parse_tagged(text, insecure)
    if reference is not None:
        return reference
    reference, digest_problem = _parse_digested(text, insecure)
    if reference is not None:
        return reference
    detail = digest_problem if "@" in text else tag_problem
    raise _fail(f"could not parse reference {text!r}: {detail}", text, field)


def parse_repository(
    image: str, *, insecure: bool = False, field: str | None = "spec.image"
) -> Repository:
    """Parse an ImageRepository ``spec.image``: a repository with no scheme, tag or digest.

    The error messages are Flux's (``should not include URL scheme``/``a tag``).
    """
    scheme_part, sep, _ = image.partition("://")
    if sep:
        message = f"image '{image}' should not include URL scheme; remove '{scheme_part}://'"
        raise _fail(message, image, field)
    reference = parse_reference(image, insecure=insecure, field=field)
    rest = image.removeprefix(reference.repository.registry)
    pieces = rest.split(":")
    if len(pieces) > 1:
        raise _fail(
            f"image '{image}' should not include a tag; remove ':{pieces[1]}'", image, field
        )
    return reference.repository


def _is_private_v4(registry: str) -> bool:
    try:
        address = ipaddress.ip_address(registry.split(":", maxsplit=1)[0])
    except ValueError:
        return False
    return any(address in network for network in _PRIVATE_V4)


def scheme(registry: str, *, insecure: bool = False) -> str:
    """Return ``http`` for insecure, local, loopback and RFC 1918 registries, else ``https``."""
    local = (
        insecure
        or _is_private_v4(registry)
        or registry == "localhost"
        or registry.startswith("localhost:")
        or _LOCAL_SUFFIX.fullmatch(registry) is not None
        or _LOOPBACK_V4.fullmatch(registry) is not None
        or _LOOPBACK_V6.fullmatch(registry) is not None
    )
    return "http" if local else "https"
