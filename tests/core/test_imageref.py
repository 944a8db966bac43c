"""Image names as Flux (go-containerregistry's ``name`` package) reads them."""

from __future__ import annotations

import pytest

from tagpilot.core.errors import InvalidInputError
from tagpilot.core.imageref import (
    ImageRefError,
    Reference,
    Repository,
    parse_reference,
    parse_repository,
    scheme,
)

DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize(
    ("image", "canonical"),
    [
        pytest.param("alpine", "index.docker.io/library/alpine", id="official-image"),
        pytest.param("stefanprodan/podinfo", "index.docker.io/stefanprodan/podinfo", id="hub-user"),
        pytest.param("docker.io/nginx", "index.docker.io/library/nginx", id="docker-io-alias"),
        pytest.param("index.docker.io/a/b", "index.docker.io/a/b", id="explicit-hub"),
        pytest.param("ghcr.io/org/app", "ghcr.io/org/app", id="ghcr"),
        pytest.param("localhost:5000/xy", "localhost:5000/xy", id="localhost-with-port"),
        pytest.param("localhost/foo", "index.docker.io/localhost/foo", id="bare-localhost-is-hub"),
        pytest.param("my-registry/app", "index.docker.io/my-registry/app", id="no-dot-no-colon"),
        pytest.param("reg.local/a/b/c/d", "reg.local/a/b/c/d", id="deep-path"),
        pytest.param("[::1]:5000/app", "[::1]:5000/app", id="ipv6-with-port"),
        pytest.param("Registry.Example.com/app", "Registry.Example.com/app", id="host-case-kept"),
    ],
)
def test_canonical_name_makes_docker_hub_defaults_explicit(image: str, canonical: str) -> None:
    assert parse_repository(image).canonical_name == canonical


@pytest.mark.parametrize(
    ("image", "message"),
    [
        pytest.param(
            "https://ghcr.io/org/app",
            "image 'https://ghcr.io/org/app' should not include URL scheme; remove 'https://'",
            id="https-scheme",
        ),
        pytest.param(
            "oci://reg.io/app",
            "image 'oci://reg.io/app' should not include URL scheme; remove 'oci://'",
            id="any-scheme",
        ),
        pytest.param(
            "ghcr.io/org/app:1.0",
            "image 'ghcr.io/org/app:1.0' should not include a tag; remove ':1.0'",
            id="tag",
        ),
        pytest.param(
            "localhost:5000/app:v2",
            "image 'localhost:5000/app:v2' should not include a tag; remove ':v2'",
            id="tag-after-port",
        ),
        pytest.param(
            f"ghcr.io/org/app@{DIGEST}",
            f"should not include a tag; remove ':{DIGEST.removeprefix('sha256:')}'",
            id="digest",
        ),
        pytest.param("ghcr.io/Org/App", "repository can only contain the characters", id="upper"),
        pytest.param("ghcr.io/a", "between 2 and 255 characters", id="path-too-short"),
        pytest.param("", "could not parse reference", id="empty"),
        pytest.param("bad host/app", "can only contain the characters", id="space"),
        pytest.param("ho st.io/app", "valid RFC 3986 URI authorities", id="space-in-host"),
        pytest.param("reg.io:abc/app", "valid RFC 3986 URI authorities", id="port-not-digits"),
    ],
)
def test_invalid_images_stall_with_flux_messages(image: str, message: str) -> None:
    with pytest.raises(ImageRefError, match=message.replace("[", r"\[")) as caught:
        parse_repository(image)
    assert caught.value.reason == "ImageURLInvalid"
    assert isinstance(caught.value, InvalidInputError)
    assert caught.value.location is not None
    assert caught.value.location.field == "spec.image"


def test_a_repository_longer_than_255_characters_is_refused() -> None:
    with pytest.raises(ImageRefError, match="between 2 and 255"):
        parse_repository("ghcr.io/" + "a" * 256)


@pytest.mark.parametrize(
    ("registry", "insecure", "expected"),
    [
        pytest.param("ghcr.io", False, "https", id="public"),
        pytest.param("ghcr.io", True, "http", id="insecure"),
        pytest.param("localhost", False, "http", id="localhost"),
        pytest.param("localhost:5000", False, "http", id="localhost-port"),
        pytest.param("registry.localhost:5000", False, "http", id="dot-localhost"),
        pytest.param("127.0.0.1:5000", False, "http", id="loopback-v4"),
        pytest.param("127.0.0.2:5000", False, "https", id="other-127-is-not-special"),
        pytest.param("[::1]:5000", False, "http", id="loopback-v6"),
        pytest.param("10.1.2.3:5000", False, "http", id="rfc1918-10"),
        pytest.param("172.16.0.9", False, "http", id="rfc1918-172-16"),
        pytest.param("172.32.0.9", False, "https", id="outside-172-16-12"),
        pytest.param("192.168.1.1:443", False, "http", id="rfc1918-192-168"),
        pytest.param("localhostile.io", False, "https", id="localhost-prefix-only"),
    ],
)
def test_scheme_is_http_only_for_insecure_and_local_registries(
    registry: str, insecure: bool, expected: str
) -> None:
    assert scheme(registry, insecure=insecure) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "alpine", Reference(Repository("index.docker.io", "library/alpine")), id="bare"
        ),
        pytest.param(
            "alpine:3.20",
            Reference(Repository("index.docker.io", "library/alpine"), tag="3.20"),
            id="tagged",
        ),
        pytest.param(
            f"host:5000/a/b:tag@{DIGEST}",
            Reference(Repository("host:5000", "a/b"), tag="tag", digest=DIGEST),
            id="port-tag-and-digest",
        ),
        pytest.param(
            f"ghcr.io/org/app@{DIGEST}",
            Reference(Repository("ghcr.io", "org/app"), digest=DIGEST),
            id="digest-only",
        ),
        pytest.param(
            "localhost:5000/app",
            Reference(Repository("localhost:5000", "app")),
            id="port-is-not-a-tag",
        ),
    ],
)
def test_parse_reference_splits_repository_tag_and_digest(text: str, expected: Reference) -> None:
    assert parse_reference(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("http://reg.io/app:1", "must not contain a URL scheme", id="scheme"),
        pytest.param("app:bad/tag!", "can only contain", id="bad-characters"),
        pytest.param("app:" + "x" * 128, "tag must be between 1 and 127", id="tag-too-long"),
        pytest.param("app@sha256:abc", "digest must be between 71 and 71", id="short-digest"),
        pytest.param("a@b@c", "exactly one '@'", id="two-ats"),
    ],
)
def test_parse_reference_rejects_malformed_references(text: str, message: str) -> None:
    with pytest.raises(ImageRefError, match=message):
        parse_reference(text, field="image")


def test_reference_renders_back_to_its_canonical_text() -> None:
    assert (
        str(parse_reference(f"nginx:1.27@{DIGEST}"))
        == f"index.docker.io/library/nginx:1.27@{DIGEST}"
    )


def test_repository_knows_its_base_url() -> None:
    assert parse_repository("ghcr.io/org/app").base_url == "https://ghcr.io"
    assert parse_repository("reg.io/app", insecure=True).base_url == "http://reg.io"
