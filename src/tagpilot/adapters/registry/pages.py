"""Reading distribution API answers: status codes, tag-list pages, ``Link`` headers, digests.

Used by both registry clients (async, and the synchronous lister).  Everything here checks
the registry's answer and raises a :mod:`~tagpilot.adapters.registry.errors` error that says
what was wrong with it.
"""

from __future__ import annotations

import json
import re
import urllib.parse

from tagpilot.adapters.registry.answer import Answer
from tagpilot.adapters.registry.errors import (
    MalformedResponseError,
    ManifestNotFoundError,
    RegistryAuthError,
    RegistryError,
    RepositoryNotFoundError,
)
from tagpilot.core.imageref import Repository
from tagpilot.core.tags import ScannedTags, escape_untrusted, is_valid_tag

__all__ = [
    "MANIFEST_ACCEPT",
    "TagListing",
    "check_status",
    "next_page_url",
    "read_digest",
    "read_tags_page",
]

MANIFEST_ACCEPT = ", ".join(
    (
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    )
)
"""Manifest media types we accept, so the digest is the one clients pull by."""

_NEXT_LINK = re.compile(r'<([^>]*)>\s*;[^,]*?rel="?next"?', re.IGNORECASE)
_DIGEST = re.compile(r"[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}")
_SNIPPET = 60
_CODE = re.compile(r"[A-Z0-9_]{1,40}")
MAX_PAGES = 100_000
"""Most pages one listing may span; past it the registry is refused rather than truncated."""
MAX_PAGES_WITHOUT_NEW_TAGS = 3
"""Consecutive linked pages that bring no tag not already seen before the listing is refused."""


def _error_codes(response: Answer) -> list[str]:
    try:
        document = json.loads(response.content)
        return [str(e.get("code")) for e in document.get("errors", []) if isinstance(e, dict)]
    except (ValueError, AttributeError, TypeError):
        return []


def _shown(codes: list[str]) -> str:
    """Error codes for a message: the registry wrote them, so anything unusual is escaped."""
    return ", ".join(c if _CODE.fullmatch(c) else escape_untrusted(c, 40) for c in codes)


def _not_found(codes: list[str], repository: Repository, what: str) -> RegistryError:
    if "NAME_UNKNOWN" in codes or not what.startswith("manifest"):
        return RepositoryNotFoundError(
            f"repository {repository.path} not found on {repository.registry} (NAME_UNKNOWN);"
            " check the image name, or push an image first"
        )
    return ManifestNotFoundError(f"{what} not found in {repository} (MANIFEST_UNKNOWN)")


def check_status(response: Answer, repository: Repository, what: str) -> None:
    """Raise the error matching a non-200 answer to a request for ``what``."""
    status = response.status_code
    if status == 200:
        return
    codes = _error_codes(response)
    if status == 404:
        raise _not_found(codes, repository, what)
    if status in (401, 403):
        raise RegistryAuthError(
            f"registry {repository.registry} denied access to {repository.path}"
            f" (HTTP {status} {_shown(codes)}); check the credentials' pull permission"
        )
    if status == 407:
        raise RegistryAuthError(
            f"the proxy refused the request to {repository.registry} (HTTP 407);"
            " check the proxy address and credentials (proxySecretRef / --proxy)"
        )
    detail = f" ({_shown(codes)})" if codes else ""
    raise RegistryError(f"registry answered HTTP {status}{detail} for the {what} of {repository}")


def _snippet(body: bytes) -> str:
    text = body[:_SNIPPET].decode("utf-8", "replace")
    return escape_untrusted(text, _SNIPPET) + ("..." if len(body) > _SNIPPET else "")


def read_tags_page(response: Answer, repository: Repository) -> list[str]:
    """The tags in one ``tags/list`` page; ``"tags": null`` (an emptied repository) is ``[]``."""
    body = response.content
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise MalformedResponseError(
            f"tag list of {repository} is not JSON (starts with {_snippet(body)})"
        ) from error
    if not isinstance(document, dict) or "tags" not in document:
        raise MalformedResponseError(
            f"tag list of {repository} is not an object with 'tags' (got {_snippet(body)})"
        )
    tags = document["tags"]
    if tags is None:
        return []
    if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
        raise MalformedResponseError(
            f"tag list of {repository}: 'tags' must be a list of strings (got {_snippet(body)})"
        )
    return tags


def next_page_url(
    response: Answer,
    current: str,
    seen: set[str],
    repository: Repository | None = None,
) -> str | None:
    """The absolute URL of the next page from ``Link: <...>; rel="next"``, or ``None``.

    Relative links resolve against ``current``.  A link to another host or scheme, or back to
    a page already read, is refused: following it could leak credentials or never end.
    ``repository`` only names the listing in the error message.
    """
    header = response.headers.get("link")
    match = _NEXT_LINK.search(header) if header else None
    if match is None:
        return None
    target: str = urllib.parse.urljoin(current, str(match.group(1)))
    here, there = urllib.parse.urlsplit(current), urllib.parse.urlsplit(target)
    if (here.scheme, here.netloc) != (there.scheme, there.netloc):
        raise MalformedResponseError(
            "pagination link points to another server"
            f" ({escape_untrusted(f'{there.scheme}://{there.netloc}')});"
            " refusing to follow it"
        )
    if target in seen:
        of = f" of {repository}" if repository is not None else ""
        raise MalformedResponseError(
            f"pagination{of} loops back to an already read page ({escape_untrusted(target)});"
            " refusing to follow it"
        )
    return target


class TagListing:
    """The tags of one paginated listing so far, and the guards that keep it finite.

    Every page must bring a tag not seen before: a registry whose ``Link`` headers keep
    leading to fresh URLs with the same tags would otherwise be followed until the deadline,
    collecting duplicates.  Tags keep the registry's order; a tag repeated across pages is
    kept once.  Tags that break the OCI tag grammar (terminal escapes, newlines, NUL, 10 KB
    strings) are dropped here, before anything can print, store or commit them; they are
    counted, and a few kept as examples for the one warning about them.
    """

    def __init__(self, repository: Repository, max_tags: int = 1_000_000) -> None:
        self.repository = repository
        self._max_tags = max_tags
        self.pages_read: set[str] = set()
        self._tags: dict[str, None] = {}
        self._dropped: dict[str, None] = {}
        self._pages_without_new_tags = 0

    def result(self) -> ScannedTags:
        """The valid tags and the count (with a few examples) of the distinct ones dropped."""
        examples = tuple(list(self._dropped)[:3])
        return ScannedTags(tuple(self._tags), len(self._dropped), examples)

    def start_page(self, url: str) -> None:
        """Note that ``url`` is about to be read; refuse it when the listing does not end."""
        if len(self.pages_read) >= MAX_PAGES:
            raise MalformedResponseError(
                f"tag list of {self.repository} spans more than {MAX_PAGES} pages;"
                " refusing to follow its pagination further"
            )
        if self._pages_without_new_tags >= MAX_PAGES_WITHOUT_NEW_TAGS:
            raise MalformedResponseError(
                f"pagination of {self.repository} keeps linking to pages with no new tags"
                f" ({self._pages_without_new_tags} in a row, next {escape_untrusted(url)});"
                " refusing to follow it further"
            )
        self.pages_read.add(url)

    def first_url(self, base: str, page_size: int | None) -> str:
        """The URL of the first page of the listing on the registry at ``base``."""
        url = f"{base}/v2/{self.repository.path}/tags/list"
        return f"{url}?n={page_size}" if page_size else url

    def read(self, response: Answer, url: str) -> str | None:
        """Take the page read from ``url``; the next page's URL, or ``None`` at the end."""
        check_status(response, self.repository, "tag list")
        self.add_page(read_tags_page(response, self.repository))
        return next_page_url(response, url, self.pages_read, self.repository)

    def add_page(self, tags: list[str]) -> None:
        """Add one page's tags, counting the pages in a row that brought nothing new."""
        before = len(self._tags) + len(self._dropped)
        for tag in tags:
            (self._tags if is_valid_tag(tag) else self._dropped)[tag] = None
        seen = len(self._tags) + len(self._dropped)
        grew = seen > before
        if seen > self._max_tags:
            raise MalformedResponseError(
                f"tag list of {self.repository} holds more than {self._max_tags} tags;"
                " refusing to read further (Limits.max_tags)"
            )
        self._pages_without_new_tags = 0 if grew else self._pages_without_new_tags + 1


def read_digest(response: Answer, repository: Repository, tag: str) -> str:
    """The ``Docker-Content-Digest`` header of a manifest ``HEAD``."""
    digest = str(response.headers.get("docker-content-digest", ""))
    if not _DIGEST.fullmatch(digest):
        raise MalformedResponseError(
            f"manifest HEAD for {repository}:{tag} has no valid Docker-Content-Digest header"
            f" (got {escape_untrusted(digest)})"
        )
    return digest
