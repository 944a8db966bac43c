"""verify(): how each Receiver type authenticates a delivery, and what it reads from it."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest
from server_support import TOKEN, hmac_hex, receiver

from tagpilot.server.webhooks import MAX_BODY_BYTES, Rejected, Verified, verify

REPO = [{"kind": "ImageRepository", "name": "app"}]
BODY = b'{"hello": "world"}'
DOCKERHUB = json.dumps(
    {"push_data": {"tag": "1.2.3"}, "repository": {"repo_name": "acme/app"}}
).encode()
QUAY = json.dumps({"docker_url": "quay.io/acme/app", "updated_tags": ["1.2.3"]}).encode()
HARBOR = json.dumps(
    {
        "type": "PUSH_ARTIFACT",
        "event_data": {
            "resources": [{"tag": "1.2.3", "resource_url": "harbor.example.com/acme/app:1.2.3"}]
        },
    }
).encode()
GITHUB_PACKAGE = json.dumps(
    {
        "action": "published",
        "package": {
            "package_type": "CONTAINER",
            "package_version": {"package_url": "ghcr.io/acme/app:1.2.3"},
        },
    }
).encode()
ACR = json.dumps(
    {
        "action": "push",
        "target": {"repository": "app", "tag": "1.2.3"},
        "request": {"host": "acme.azurecr.io"},
    }
).encode()
CDEVENT = json.dumps(
    {"context": {"type": "dev.cdevents.artifact.published.0.1.1"}, "subject": {"id": "x"}}
).encode()


def _github(body: bytes, event: str = "package", **extra: str) -> dict[str, str]:
    signature = "sha256=" + hmac_hex("sha256", body)
    return {
        "X-Hub-Signature-256": signature,
        "X-GitHub-Event": event,
        "Content-Type": "application/json",
        **extra,
    }


FORM_BODY = urlencode({"payload": GITHUB_PACKAGE.decode()}).encode()

GOOD = [
    pytest.param("generic", {}, b"", {}, Verified(), id="generic-path-only"),
    *(
        pytest.param(
            "generic-hmac",
            {"X-Signature": f"{alg}={hmac_hex(alg, BODY)}"},
            BODY,
            {},
            Verified(),
            id=f"generic-hmac-{alg}",
        )
        for alg in ("sha1", "sha256", "sha512")
    ),
    pytest.param(
        "github",
        _github(GITHUB_PACKAGE),
        GITHUB_PACKAGE,
        {},
        Verified("package", ("ghcr.io/acme/app",)),
        id="github-package-event",
    ),
    pytest.param(
        "github",
        {**_github(FORM_BODY), "Content-Type": "application/x-www-form-urlencoded"},
        FORM_BODY,
        {},
        Verified("package", ("ghcr.io/acme/app",)),
        id="github-form-encoded",
    ),
    pytest.param("github", _github(BODY, "ping"), BODY, {}, Verified("ping"), id="github-ping"),
    pytest.param(
        "github",
        _github(BODY, "registry_package"),
        BODY,
        {"events": ["Registry_Package"]},
        Verified("registry_package"),
        id="github-event-in-list",
    ),
    pytest.param(
        "gitlab",
        {"X-Gitlab-Token": TOKEN.decode(), "X-Gitlab-Event": "Push Hook"},
        BODY,
        {"events": ["Push Hook"]},
        Verified("Push Hook"),
        id="gitlab-token",
    ),
    pytest.param(
        "bitbucket",
        {
            "X-Hub-Signature": "sha256=" + hmac_hex("sha256", BODY),
            "X-Event-Key": "repo:refs_changed",
            "Content-Type": "application/json",
        },
        BODY,
        {},
        Verified("repo:refs_changed"),
        id="bitbucket-server",
    ),
    pytest.param(
        "harbor",
        {"Authorization": TOKEN.decode()},
        HARBOR,
        {},
        Verified(images=("harbor.example.com/acme/app",)),
        id="harbor-push",
    ),
    pytest.param(
        "harbor", {"Authorization": TOKEN.decode()}, b"", {}, Verified(), id="harbor-empty-body"
    ),
    pytest.param(
        "nexus",
        {"X-Nexus-Webhook-Signature": hmac_hex("sha1", BODY)},
        BODY,
        {},
        Verified(),
        id="nexus-sha1",
    ),
    pytest.param(
        "dockerhub",
        {},
        DOCKERHUB,
        {},
        Verified(images=("index.docker.io/acme/app",)),
        id="dockerhub-push",
    ),
    pytest.param("quay", {}, QUAY, {}, Verified(images=("quay.io/acme/app",)), id="quay-push"),
    pytest.param("acr", {}, ACR, {}, Verified(images=("acme.azurecr.io/app",)), id="acr-push"),
    pytest.param(
        "cdevents",
        {"Ce-Type": "dev.cdevents.artifact.published.0.1.1"},
        CDEVENT,
        {},
        Verified("dev.cdevents.artifact.published.0.1.1"),
        id="cdevents",
    ),
]


@pytest.mark.parametrize(("kind", "headers", "body", "spec", "expected"), GOOD)
def test_authentic_delivery_is_verified(
    kind: str, headers: dict[str, str], body: bytes, spec: dict[str, Any], expected: Verified
) -> None:
    assert verify(receiver(kind, REPO, **spec), TOKEN, headers, body) == expected


def _hmac(alg: str, body: bytes, token: bytes = b"wrong") -> str:
    return hmac_hex(alg, body, token)


BAD = [
    pytest.param("generic-hmac", {}, BODY, {}, 401, id="generic-hmac-unsigned"),
    pytest.param(
        "generic-hmac",
        {"X-Signature": "sha256=" + _hmac("sha256", BODY)},
        BODY,
        {},
        401,
        id="generic-hmac-wrong-key",
    ),
    pytest.param(
        "generic-hmac",
        {"X-Signature": "md5=" + _hmac("md5", BODY, TOKEN)},
        BODY,
        {},
        401,
        id="generic-hmac-md5",
    ),
    pytest.param(
        "generic-hmac", {"X-Signature": "sha256=zz"}, BODY, {}, 401, id="generic-hmac-not-hex"
    ),
    pytest.param(
        "generic-hmac",
        {"X-Signature": "sha256=" + hmac_hex("sha256", b"other")},
        BODY,
        {},
        401,
        id="generic-hmac-other-body",
    ),
    pytest.param("github", {}, BODY, {}, 401, id="github-unsigned"),
    pytest.param(
        "github",
        {**_github(BODY), "X-Hub-Signature-256": "sha1=" + hmac_hex("sha1", BODY)},
        BODY,
        {},
        401,
        id="github-sha1-refused",
    ),
    pytest.param(
        "github",
        {"X-Hub-Signature": "sha1=" + hmac_hex("sha1", BODY), "Content-Type": "application/json"},
        BODY,
        {},
        401,
        id="github-legacy-header-refused",
    ),
    pytest.param(
        "github",
        {**_github(BODY), "X-Hub-Signature-256": "sha256=" + _hmac("sha256", BODY)},
        BODY,
        {},
        401,
        id="github-wrong-secret",
    ),
    pytest.param(
        "github",
        _github(BODY, "push"),
        BODY,
        {"events": ["package"]},
        400,
        id="github-event-not-listed",
    ),
    pytest.param(
        "github",
        {**_github(BODY), "Content-Type": "text/plain"},
        BODY,
        {},
        400,
        id="github-content-type",
    ),
    pytest.param("gitlab", {"X-Gitlab-Token": "nope"}, BODY, {}, 401, id="gitlab-wrong-token"),
    pytest.param("gitlab", {}, BODY, {}, 401, id="gitlab-no-token"),
    pytest.param(
        "gitlab",
        {"X-Gitlab-Token": TOKEN.decode(), "X-Gitlab-Event": "Tag Push Hook"},
        BODY,
        {"events": ["Push Hook"]},
        400,
        id="gitlab-event-not-listed",
    ),
    pytest.param(
        "bitbucket",
        {"X-Hub-Signature": "sha256=" + _hmac("sha256", BODY)},
        BODY,
        {},
        401,
        id="bitbucket-wrong-secret",
    ),
    pytest.param(
        "harbor",
        {"Authorization": "Bearer " + TOKEN.decode()},
        HARBOR,
        {},
        401,
        id="harbor-wrong-header",
    ),
    pytest.param("harbor", {}, HARBOR, {}, 401, id="harbor-no-header"),
    pytest.param("harbor", {"Authorization": TOKEN.decode()}, b"{", {}, 400, id="harbor-bad-json"),
    pytest.param(
        "nexus",
        {"X-Nexus-Webhook-Signature": _hmac("sha1", BODY)},
        BODY,
        {},
        401,
        id="nexus-wrong-secret",
    ),
    pytest.param(
        "nexus",
        {"X-Nexus-Webhook-Signature": hmac_hex("sha1", b"[]")},
        b"[]",
        {},
        400,
        id="nexus-not-object",
    ),
    pytest.param("dockerhub", {}, b"not json", {}, 400, id="dockerhub-not-json"),
    pytest.param("dockerhub", {}, b'{"repository": {}}', {}, 400, id="dockerhub-no-push-data"),
    pytest.param("dockerhub", {}, b"[1, 2]", {}, 400, id="dockerhub-array"),
    pytest.param("quay", {}, b'{"updated_tags": []}', {}, 400, id="quay-no-docker-url"),
    pytest.param("acr", {}, b"\xff\xfe", {}, 400, id="acr-not-utf8"),
    pytest.param(
        "cdevents", {"Ce-Type": "x"}, b'{"context": {}}', {}, 400, id="cdevents-no-subject"
    ),
    pytest.param("generic", {}, b"x" * (MAX_BODY_BYTES + 1), {}, 413, id="too-large"),
]


@pytest.mark.parametrize(("kind", "headers", "body", "spec", "status"), BAD)
def test_unauthentic_or_malformed_delivery_is_rejected(
    kind: str, headers: dict[str, str], body: bytes, spec: dict[str, Any], status: int
) -> None:
    verdict = verify(receiver(kind, REPO, **spec), TOKEN, headers, body)
    assert isinstance(verdict, Rejected)
    assert verdict.status == status
    assert TOKEN.decode() not in verdict.reason


def test_header_names_are_case_insensitive() -> None:
    headers = {"x-gitlab-token": TOKEN.decode(), "X-GITLAB-EVENT": "Push Hook"}
    assert verify(receiver("gitlab", REPO), TOKEN, headers, b"") == Verified("Push Hook")


def test_token_header_compares_the_bytes_as_sent() -> None:
    token = "päss".encode()
    as_received = token.decode("latin-1")
    hook = receiver("gitlab", REPO)
    assert verify(hook, token, {"X-Gitlab-Token": as_received}, b"") == Verified()
    assert isinstance(verify(hook, token, {"X-Gitlab-Token": "pass"}, b""), Rejected)


def test_rejection_reason_names_the_header_to_fix() -> None:
    verdict = verify(receiver("github", REPO), TOKEN, {}, BODY)
    assert verdict == Rejected(401, "X-Hub-Signature-256 is missing or does not match the body")


def test_unparsable_image_is_kept_so_it_still_restricts() -> None:
    body = json.dumps({"docker_url": "not a/valid image"}).encode()
    assert verify(receiver("quay", REPO), TOKEN, {}, body) == Verified(
        images=("not a/valid image",)
    )
