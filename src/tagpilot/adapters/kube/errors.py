"""What the Kubernetes API said, as tagpilot's two error families.

::

    RetryableError
    └── KubeApiError              any other refusal or 429/5xx; ``retry_after`` from Retry-After
        ├── NotFoundError         404
        ├── ConflictError         409: a stale resourceVersion, an SSA field conflict
        │   └── AlreadyExistsError    409 on create: the name is taken
        └── GoneError             410 / reason Expired: a resourceVersion too old to watch from
    StalledError
    └── KubeRequestRefused        400/401/403/422: retrying the same request cannot help
        ├── UnauthorizedError     401: the credentials are not accepted
        ├── ForbiddenError        403: RBAC does not allow it
        └── InvalidError          422: the object fails validation

Every one carries ``status`` (HTTP code), ``reason`` (the Status body's reason, such as
``NotFound``) and ``api_message`` (the apiserver's own words, which never hold secrets).  The
message names the verb and path: ``kube-apiserver refused GET /api/v1/...: 403 Forbidden: ...``.
Request bodies are never quoted.  Connection failures and timeouts are plain
``RetryableError``s that name the server URL (raised by the client).
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from tagpilot.core.errors import RetryableError, StalledError

__all__ = [
    "AlreadyExistsError",
    "ConflictError",
    "ForbiddenError",
    "GoneError",
    "InvalidError",
    "KubeApiError",
    "KubeRequestRefused",
    "NotFoundError",
    "UnauthorizedError",
    "error_from_status",
    "parse_retry_after",
]

_HTTP_REASONS = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    409: "Conflict",
    410: "Expired",
    415: "UnsupportedMediaType",
    422: "Invalid",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
    504: "Timeout",
}


def _describe(request: str, status: int, reason: str, api_message: str) -> str:
    text = f"kube-apiserver refused {request}: {status} {reason}"
    return f"{text}: {api_message}" if api_message else text


class KubeApiError(RetryableError):
    """The apiserver answered with an error status that may pass (or that the caller handles)."""

    def __init__(
        self,
        request: str,
        status: int,
        reason: str,
        api_message: str,
        *,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(
            _describe(request, status, reason, api_message), reason=reason, retry_after=retry_after
        )
        self.request = request
        """``VERB /path`` of the refused request (no query, no body)."""
        self.status = status
        """The HTTP status code."""
        self.api_message = api_message
        """The apiserver's message, verbatim."""


class NotFoundError(KubeApiError):
    """404: the object (or the resource type) does not exist."""


class ConflictError(KubeApiError):
    """409: a write carried a stale resourceVersion, or server-side apply met another manager."""


class AlreadyExistsError(ConflictError):
    """409 on create: an object with that name exists already."""


class GoneError(KubeApiError):
    """410 / reason Expired: the resourceVersion is too old; list again, then watch."""


class KubeRequestRefused(StalledError):  # noqa: N818 (the name the callers use)
    """The apiserver refused the request for a reason repeating it cannot change."""

    def __init__(self, request: str, status: int, reason: str, api_message: str) -> None:
        super().__init__(_describe(request, status, reason, api_message), reason=reason)
        self.request = request
        """``VERB /path`` of the refused request (no query, no body)."""
        self.status = status
        """The HTTP status code."""
        self.api_message = api_message
        """The apiserver's message, verbatim."""
        self.retry_after: float | None = None
        """Always None: kept so both families read alike."""


class UnauthorizedError(KubeRequestRefused):
    """401: the token or client certificate is not accepted."""


class ForbiddenError(KubeRequestRefused):
    """403: the identity is not allowed to do this (RBAC)."""


class InvalidError(KubeRequestRefused):
    """422: the object fails validation; ``api_message`` lists the fields."""


_RETRYABLE: dict[int, type[KubeApiError]] = {
    404: NotFoundError,
    409: ConflictError,
    410: GoneError,
}
_REFUSED: dict[int, type[KubeRequestRefused]] = {
    400: KubeRequestRefused,
    401: UnauthorizedError,
    403: ForbiddenError,
    405: KubeRequestRefused,
    415: KubeRequestRefused,
    422: InvalidError,
}


def _status_fields(body: bytes | dict[str, Any]) -> tuple[str, str, int | None]:
    """(reason, message, code) of a ``Status`` body; empty strings when it is not one."""
    status: Any = body
    if isinstance(body, bytes):
        try:
            status = json.loads(body)
        except ValueError:
            return "", body[:200].decode("utf-8", "replace").strip(), None
    if not isinstance(status, dict) or status.get("kind") != "Status":
        return "", "", None
    code = status.get("code")
    return (
        str(status.get("reason") or ""),
        str(status.get("message") or ""),
        code if isinstance(code, int) else None,
    )


def error_from_status(
    request: str,
    status: int,
    body: bytes | dict[str, Any],
    retry_after: float | None = None,
) -> KubeApiError | KubeRequestRefused:
    """The error for an apiserver answer ``status`` with ``body`` (a ``Status``, usually)."""
    reason, message, code = _status_fields(body)
    status = code or status
    reason = reason or _HTTP_REASONS.get(status, "Unknown")
    if status == 409 and reason == "AlreadyExists":
        return AlreadyExistsError(request, status, reason, message)
    if status in _REFUSED:
        return _REFUSED[status](request, status, reason, message)
    if reason == "Expired":
        return GoneError(request, status, reason, message)
    kind = _RETRYABLE.get(status, KubeApiError)
    return kind(request, status, reason, message, retry_after=retry_after)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)
