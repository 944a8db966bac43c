"""Verify one webhook delivery for a Receiver, the way notification-controller does.

Pure: :func:`verify` takes the Receiver, its token, the request headers and body, and
returns :class:`Verified` (with the event name and the images the body names) or
:class:`Rejected` (with the HTTP status and a reason that never contains the token).
Called by the webhook route of :mod:`tagpilot.server.app`.  Every comparison with the token
or a MAC is constant-time.

How each type is authenticated (the path itself, ``/hook/sha256(token+name+namespace)``,
is always the first secret):

=============  ==================================================================
generic        the secret path only (as Flux)
generic-hmac   ``X-Signature: sha1|sha256|sha512=<hex HMAC of the body>``
github         ``X-Hub-Signature-256: sha256=<hex>`` (Flux also falls back to the SHA-1
               ``X-Hub-Signature``; tagpilot does not); event ``X-GitHub-Event``
gitlab         ``X-Gitlab-Token`` equals the token; event ``X-Gitlab-Event``
bitbucket      ``X-Hub-Signature: sha1|sha256|sha512=<hex>`` (Bitbucket Server);
               event ``X-Event-Key``
harbor         ``Authorization`` equals the token
nexus          ``X-Nexus-Webhook-Signature: <hex HMAC-SHA1 of the body>``
dockerhub      the secret path only (Docker Hub signs nothing); body: a JSON object with
               ``push_data`` and ``repository``
quay           the secret path only (Quay signs nothing); body: JSON with ``docker_url``
acr            the secret path only; body: a JSON object with ``target``
cdevents       the secret path only; body must be a CloudEvents JSON object with
               ``context`` and ``subject``; event ``Ce-Type``
=============  ==================================================================

Status codes: a missing or wrong signature or token is 401 (Flux answers 400 for every
failed check; tagpilot separates "who are you" from "what is this"); a body that is not
the promised JSON, an unsupported content type or an event outside ``spec.events`` is 400;
a body over :data:`MAX_BODY_BYTES` is 413.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from starlette.requests import Request

from tagpilot.api.receiver import Receiver, ReceiverSpec
from tagpilot.server.payloads import (
    JsonObject,
    MalformedPayloadError,
    form_payload,
    json_object,
    pushed_images,
)

__all__ = [
    "MAX_BODY_BYTES",
    "Rejected",
    "Verdict",
    "Verified",
    "hmac_signature_matches",
    "read_limited",
    "verify",
]

MAX_BODY_BYTES = 1 << 20
"""The largest body accepted (1 MiB); registries send a few kilobytes."""


async def read_limited(request: Request, limit: int) -> bytes | None:
    """The body, or None as soon as it is known to exceed ``limit`` bytes."""
    declared = request.headers.get("content-length", "")
    # A 5,000-digit Content-Length is refused by its length before int() is asked to read it.
    if declared.isdigit() and (len(declared) > len(str(limit)) or int(declared) > limit):
        return None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


_HMAC_ALGORITHMS = ("sha1", "sha256", "sha512")


@dataclass(frozen=True)
class Verified:
    """An authentic delivery: the sender's event name and the images its body names."""

    event: str | None = None
    images: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rejected:
    """A refused delivery: the HTTP status to answer and why (safe to show and log)."""

    status: int
    reason: str


Verdict = Verified | Rejected


@dataclass(frozen=True)
class _Delivery:
    spec: ReceiverSpec
    token: bytes
    headers: Mapping[str, str]
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


def verify(
    receiver: Receiver, secret_token: bytes, headers: Mapping[str, str], body: bytes
) -> Verdict:
    """Authenticate and parse one delivery to ``receiver`` (see the module table)."""
    if len(body) > MAX_BODY_BYTES:
        return Rejected(413, f"body is larger than {MAX_BODY_BYTES} bytes")
    lowered = {name.lower(): value for name, value in headers.items()}
    delivery = _Delivery(receiver.spec, secret_token, lowered, body)
    try:
        return _VERIFIERS[receiver.spec.type](delivery)
    except MalformedPayloadError as error:
        return Rejected(400, str(error))


def hmac_signature_matches(
    signature: str | None,
    body: bytes,
    token: bytes,
    algorithms: tuple[str, ...] = _HMAC_ALGORITHMS,
) -> bool:
    """Whether ``signature`` (``<algorithm>=<hex>``) is the HMAC of ``body`` keyed by ``token``."""
    algorithm, separator, hex_mac = (signature or "").partition("=")
    if not separator or algorithm not in algorithms:
        return False
    try:
        given = bytes.fromhex(hex_mac)
    except ValueError:
        return False
    expected = hmac.new(token, body, getattr(hashlib, algorithm)).digest()
    return hmac.compare_digest(given, expected)


def _header_bytes(value: str) -> bytes:
    """The header's bytes as sent (HTTP servers decode header values as Latin-1)."""
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        return value.encode("utf-8")


def _token_matches(value: str | None, token: bytes) -> bool:
    return value is not None and hmac.compare_digest(_header_bytes(value), token)


def _event_allowed(delivery: _Delivery, event: str | None, images: tuple[str, ...] = ()) -> Verdict:
    if delivery.spec.accepts_event(event):
        return Verified(event, images)
    return Rejected(400, f"event '{event or ''}' is not in spec.events")


def _generic(delivery: _Delivery) -> Verdict:
    return Verified()


def _generic_hmac(delivery: _Delivery) -> Verdict:
    if not hmac_signature_matches(delivery.header("X-Signature"), delivery.body, delivery.token):
        return Rejected(401, "X-Signature is missing or is not the HMAC of the body")
    return Verified()


def _signed_json(delivery: _Delivery) -> bytes:
    """The JSON payload of a GitHub-style delivery (raw or the form's ``payload`` field)."""
    content_type = (delivery.header("Content-Type") or "").split(";")[0].strip().lower()
    if content_type == "application/json":
        return delivery.body
    if content_type == "application/x-www-form-urlencoded":
        return form_payload(delivery.body)
    raise MalformedPayloadError(f"unsupported Content-Type '{content_type}'")


def _github(delivery: _Delivery) -> Verdict:
    signature = delivery.header("X-Hub-Signature-256")
    if not hmac_signature_matches(signature, delivery.body, delivery.token, ("sha256",)):
        return Rejected(401, "X-Hub-Signature-256 is missing or does not match the body")
    payload = _signed_json(delivery)
    images = pushed_images("github", _lenient_json(payload))
    return _event_allowed(delivery, delivery.header("X-GitHub-Event"), images)


def _lenient_json(payload: bytes) -> JsonObject:
    try:
        return json_object(payload, what="GitHub")
    except MalformedPayloadError:
        return {}


def _gitlab(delivery: _Delivery) -> Verdict:
    if not _token_matches(delivery.header("X-Gitlab-Token"), delivery.token):
        return Rejected(401, "X-Gitlab-Token is missing or wrong")
    return _event_allowed(delivery, delivery.header("X-Gitlab-Event"))


def _bitbucket(delivery: _Delivery) -> Verdict:
    if not hmac_signature_matches(
        delivery.header("X-Hub-Signature"), delivery.body, delivery.token
    ):
        return Rejected(401, "X-Hub-Signature is missing or does not match the body")
    _signed_json(delivery)
    return _event_allowed(delivery, delivery.header("X-Event-Key"))


def _harbor(delivery: _Delivery) -> Verdict:
    if not _token_matches(delivery.header("Authorization"), delivery.token):
        return Rejected(401, "Authorization header is missing or wrong")
    if not delivery.body.strip():
        return Verified()
    return Verified(images=pushed_images("harbor", json_object(delivery.body, what="Harbor")))


def _nexus(delivery: _Delivery) -> Verdict:
    signature = delivery.header("X-Nexus-Webhook-Signature")
    if not hmac_signature_matches(f"sha1={signature or ''}", delivery.body, delivery.token):
        return Rejected(401, "X-Nexus-Webhook-Signature is missing or does not match the body")
    json_object(delivery.body, what="Nexus")
    return Verified()


def _image_body(kind: str, what: str, *required: str) -> Callable[[_Delivery], Verdict]:
    """A secret-path-only type whose body must be a JSON object with ``required`` keys."""

    def check(delivery: _Delivery) -> Verdict:
        document = json_object(delivery.body, what=what)
        missing = [key for key in required if key not in document]
        if missing:
            raise MalformedPayloadError(f"{what} payload has no {', '.join(missing)}")
        return Verified(images=pushed_images(kind, document))

    return check


def _cdevents(delivery: _Delivery) -> Verdict:
    document = json_object(delivery.body, what="CDEvents")
    if not isinstance(document.get("context"), dict) or not isinstance(
        document.get("subject"), dict
    ):
        raise MalformedPayloadError("CDEvents payload needs 'context' and 'subject' objects")
    return _event_allowed(delivery, delivery.header("Ce-Type"))


_VERIFIERS: dict[str, Callable[[_Delivery], Verdict]] = {
    "generic": _generic,
    "generic-hmac": _generic_hmac,
    "github": _github,
    "gitlab": _gitlab,
    "bitbucket": _bitbucket,
    "harbor": _harbor,
    "nexus": _nexus,
    "dockerhub": _image_body("dockerhub", "Docker Hub", "push_data", "repository"),
    "quay": _image_body("quay", "Quay", "docker_url"),
    "acr": _image_body("acr", "ACR", "target"),
    "cdevents": _cdevents,
}
