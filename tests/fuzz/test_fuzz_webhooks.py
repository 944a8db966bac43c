"""Fuzz webhook verification and payload parsing: every delivery gets a verdict, never a crash.

``verify`` runs on whatever an unauthenticated client sends to a hook path, so bodies,
headers and tokens are all drawn at random — with correct signatures often enough to
reach the payload parsers behind them.  Property: a ``Verified`` or a ``Rejected`` with
400, 401 or 413 whose reason never contains the token.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import pytest
from fuzz_support import PROFILES, Profile, run_property
from hypothesis import strategies as st

from tagpilot.api.receiver import RECEIVER_TYPES, UNSUPPORTED_RECEIVER_TYPES, Receiver
from tagpilot.server.payloads import canonical_image, pushed_images
from tagpilot.server.webhooks import Rejected, Verified, verify

SERVED_TYPES = sorted(set(RECEIVER_TYPES) - set(UNSUPPORTED_RECEIVER_TYPES))
PAYLOAD_KEYS = [
    *("push_data", "repository", "repo_name", "docker_url", "target", "request", "host",
      "context", "subject", "package", "registry_package", "package_version", "package_url",
      "event_data", "resources", "resource_url", "payload", "tag"),
]  # fmt: skip
IMAGE_TEXTS = st.one_of(
    st.sampled_from(["ghcr.io/acme/app:1.0", "acme/app", "", ":::", "a" * 300, "UPPER/x"]),
    st.text(max_size=20),
)
JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), IMAGE_TEXTS),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.one_of(st.sampled_from(PAYLOAD_KEYS), st.text(max_size=5)), inner),
    ),
    max_leaves=20,
)
BODIES = st.one_of(
    JSON_VALUES.map(lambda value: json.dumps(value).encode()),
    st.binary(max_size=64),
    st.integers(1, 5000).map(lambda depth: b"[" * depth + b"]" * depth),
    st.integers(1, 5000).map(lambda depth: b'{"a":' * depth + b"1" + b"}" * depth),
    st.sampled_from([b"", b"{}", b"null", b'{"x": 1' + b"0" * 5000 + b"}", b"\xff\xfe{}"]),
)
SIGNATURE_HEADERS = {
    "X-Signature": ("sha1", "sha256", "sha512"),
    "X-Hub-Signature-256": ("sha256",),
    "X-Hub-Signature": ("sha1", "sha256"),
    "X-Nexus-Webhook-Signature": ("sha1",),
}
TOKEN_HEADERS = ["X-Gitlab-Token", "Authorization"]
EVENT_HEADERS = ["X-GitHub-Event", "X-Gitlab-Event", "X-Event-Key", "Ce-Type"]
CONTENT_TYPES = [
    *("application/json", "application/json; charset=utf-8", "APPLICATION/JSON",
      "application/x-www-form-urlencoded", "text/plain", "", ";;;"),
]  # fmt: skip


def _receiver(kind: str, events: list[str]) -> Receiver:
    spec: dict[str, Any] = {
        "type": kind,
        "resources": [{"kind": "ImageRepository", "name": "app"}],
        "secretRef": {"name": "hook-token"},
    }
    if events:
        spec["events"] = events
    return Receiver.model_validate(
        {"metadata": {"name": "hook", "namespace": "apps"}, "spec": spec}
    )


@st.composite
def deliveries(draw: st.DrawFn) -> tuple[Receiver, bytes, dict[str, str], bytes]:
    """A receiver, its token, headers (often correctly signed) and a body."""
    events = draw(st.lists(st.sampled_from(["push", "ping", "Push Hook", "x"]), max_size=2))
    receiver = _receiver(draw(st.sampled_from(SERVED_TYPES)), events)
    token = draw(st.binary(min_size=1, max_size=24))
    body = draw(BODIES)
    if draw(st.booleans()):
        body = b"payload=" + body.replace(b"&", b"%26")
    headers: dict[str, str] = {"Content-Type": draw(st.sampled_from(CONTENT_TYPES))}
    for name, algorithms in SIGNATURE_HEADERS.items():
        if draw(st.booleans()):
            algorithm = draw(st.sampled_from(algorithms))
            mac = hmac.new(token, body, getattr(hashlib, algorithm)).hexdigest()
            bare = name == "X-Nexus-Webhook-Signature"
            headers[name] = draw(st.sampled_from([mac if bare else f"{algorithm}={mac}", ""]))
    for name in TOKEN_HEADERS:
        if draw(st.booleans()):
            headers[name] = draw(st.one_of(st.just(token.decode("latin-1")), st.text(max_size=9)))
    for name in EVENT_HEADERS:
        if draw(st.booleans()):
            headers[name] = draw(st.sampled_from(["push", "ping", "Push Hook", "", "é"]))
    return receiver, token, headers, body


def _verdict_is_sound(case: tuple[Receiver, bytes, dict[str, str], bytes]) -> None:
    receiver, token, headers, body = case
    verdict = verify(receiver, token, headers, body)
    assert isinstance(verdict, Verified | Rejected)
    if isinstance(verdict, Rejected):
        assert verdict.status in (400, 401, 413)
        if len(token) >= 6:
            assert token.decode("latin-1") not in verdict.reason


@pytest.mark.parametrize("profile", PROFILES)
def test_every_delivery_gets_a_verdict_and_reasons_never_hold_the_token(
    profile: Profile,
) -> None:
    run_property(profile, deliveries(), _verdict_is_sound)


def _images_are_names(case: tuple[str, Any]) -> None:
    kind, document = case
    images = pushed_images(kind, document if isinstance(document, dict) else {"x": document})
    assert all(isinstance(image, str) and image for image in images)


@pytest.mark.parametrize("profile", PROFILES)
def test_pushed_images_reads_any_json_object(profile: Profile) -> None:
    run_property(profile, st.tuples(st.sampled_from(SERVED_TYPES), JSON_VALUES), _images_are_names)


@pytest.mark.parametrize("profile", PROFILES)
def test_canonical_image_answers_a_name_or_none_for_any_text(profile: Profile) -> None:
    def check(text: str) -> None:
        assert canonical_image(text) is None or isinstance(canonical_image(text), str)

    run_property(profile, IMAGE_TEXTS, check)
