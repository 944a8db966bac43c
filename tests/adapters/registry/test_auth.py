"""Authentication against real registries: htpasswd Basic, Bearer tokens, credential helpers.

Every refusal must name the registry and the credential source, and never the secret.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from registry_support import (
    APP_TAGS,
    PASSWORD,
    REFRESH_TOKEN,
    USER,
    Seeded,
    TokenRegistry,
    basic_entry,
    docker_config,
    install_credential_helper,
)

from servers.fakes import Script
from servers.pki import Pki
from tagpilot.adapters.registry import (
    Credentials,
    RegistryAuthError,
    RegistryClient,
    TLSConfig,
)
from tagpilot.adapters.registry.auth import Challenge, check_realm, pull_scope
from tagpilot.adapters.registry.errors import MalformedResponseError
from tagpilot.adapters.registry.pool import RegistryPool
from tagpilot.api.image import ImageRepository
from tagpilot.api.loader import load_text
from tagpilot.core.secrets import SecretData, SecretIndex
from tagpilot.reconcile.image_repository import registry_access

SECRET_SOURCE = "Secret flux-system/regcred"

WRONG_PASSWORD = "not-the-Pa55word"


async def _tags(credentials: Credentials | None, image: str) -> list[str]:
    async with RegistryClient(credentials=credentials) as client:
        return await client.list_tags(image)


@pytest.mark.parametrize(
    "entry",
    [
        pytest.param(basic_entry(), id="auth-field"),
        pytest.param({"username": USER, "password": PASSWORD}, id="username-password"),
    ],
)
async def test_basic_auth_lists_a_private_repository(
    basic_registry: Seeded, entry: dict[str, str]
) -> None:
    credentials = Credentials.from_dockerconfigjson(docker_config(basic_registry.host, **entry))
    tags = await _tags(credentials, f"{basic_registry.host}/private/app")
    assert sorted(tags) == sorted(APP_TAGS)


async def test_a_config_key_with_scheme_and_path_matches_the_registry(
    basic_registry: Seeded,
) -> None:
    payload = docker_config(f"http://{basic_registry.host}/v2/", **basic_entry())
    tags = await _tags(
        Credentials.from_dockerconfigjson(payload), f"{basic_registry.host}/private/app"
    )
    assert len(tags) == len(APP_TAGS)


async def test_a_wrong_password_is_refused_without_echoing_it(basic_registry: Seeded) -> None:
    payload = docker_config(basic_registry.host, **basic_entry(password=WRONG_PASSWORD))
    with pytest.raises(RegistryAuthError) as caught:
        await _tags(
            Credentials.from_dockerconfigjson(payload), f"{basic_registry.host}/private/app"
        )
    assert basic_registry.host in str(caught.value)
    assert ".dockerconfigjson" in str(caught.value)
    assert WRONG_PASSWORD not in str(caught.value)
    assert caught.value.reason == "AuthenticationFailed"


async def test_basic_auth_without_credentials_says_none_are_configured(
    basic_registry: Seeded,
) -> None:
    with pytest.raises(RegistryAuthError, match="none are configured"):
        await _tags(None, f"{basic_registry.host}/private/app")


async def test_anonymous_bearer_token_lists_a_public_repository(
    token_registry: TokenRegistry,
) -> None:
    tags = await _tags(None, f"{token_registry.seeded.host}/tok/app")
    assert sorted(tags) == sorted(APP_TAGS)


async def test_a_bearer_token_is_reused_until_it_expires(token_registry: TokenRegistry) -> None:
    image = f"{token_registry.seeded.host}/tok/app"
    async with RegistryClient() as client:
        await client.list_tags(image)
        first_scan = client.requests_sent
        issued = token_registry.tokens.policy.issued
        await client.list_tags(image)
        assert client.requests_sent - first_scan == 1
    assert first_scan == 4  # HTTPS probe, 401 with the challenge, token, list
    assert token_registry.tokens.policy.issued == issued


async def test_a_refused_token_is_refreshed_once(token_registry: TokenRegistry) -> None:
    image = f"{token_registry.seeded.host}/tok/app"
    async with RegistryClient() as client:
        await client.list_tags(image)
        # a token the registry no longer accepts, as after a key rotation
        client._tokens.put(token_registry.seeded.host, pull_scope("tok/app"), "stale", 300)
        before = client.requests_sent
        assert len(await client.list_tags(image)) == len(APP_TAGS)
        assert client.requests_sent - before == 3  # refused, new token, list


@pytest.mark.parametrize(
    "entry",
    [
        pytest.param(basic_entry(), id="basic-credentials-at-the-token-service"),
        pytest.param({"identitytoken": REFRESH_TOKEN}, id="identity-token-refresh-grant"),
    ],
)
async def test_credentials_get_a_token_for_a_closed_repository(
    private_token_registry: TokenRegistry, entry: dict[str, str]
) -> None:
    host = private_token_registry.seeded.host
    credentials = Credentials.from_dockerconfigjson(docker_config(host, **entry))
    assert sorted(await _tags(credentials, f"{host}/closed/app")) == sorted(APP_TAGS)


async def test_the_token_service_refusing_a_password_never_shows_it(
    private_token_registry: TokenRegistry,
) -> None:
    host = private_token_registry.seeded.host
    payload = docker_config(host, **basic_entry(password=WRONG_PASSWORD))
    with pytest.raises(RegistryAuthError, match="token service") as caught:
        await _tags(Credentials.from_dockerconfigjson(payload), f"{host}/closed/app")
    assert f"user {USER!r}" in str(caught.value)
    assert WRONG_PASSWORD not in str(caught.value)


async def test_anonymous_access_to_a_closed_token_registry_is_refused(
    private_token_registry: TokenRegistry,
) -> None:
    with pytest.raises(RegistryAuthError, match="anonymous access"):
        await _tags(None, f"{private_token_registry.seeded.host}/closed/app")


@pytest.mark.parametrize(
    "config_key",
    [pytest.param("credHelpers", id="per-registry-helper"), pytest.param("credsStore", id="store")],
)
async def test_a_credential_helper_supplies_the_password(
    basic_registry: Seeded,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    config_key: str,
) -> None:
    host = basic_registry.host
    install_credential_helper(
        tmp_path, "tagpilot-test", {host: {"Username": USER, "Secret": PASSWORD}}
    )
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    helper = {host: "tagpilot-test"} if config_key == "credHelpers" else "tagpilot-test"
    config = tmp_path / "config.json"
    config.write_text(json.dumps({config_key: helper}))
    tags = await _tags(Credentials.from_docker_config_file(config), f"{host}/private/app")
    assert len(tags) == len(APP_TAGS)


async def test_a_helper_without_credentials_falls_back_to_anonymous(
    basic_registry: Seeded, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_credential_helper(tmp_path, "tagpilot-empty", {})
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    credentials = Credentials.from_dockerconfigjson({"credsStore": "tagpilot-empty"})
    with pytest.raises(RegistryAuthError) as caught:
        await _tags(credentials, f"{basic_registry.host}/private/app")
    message = str(caught.value)
    assert f"has none for {basic_registry.host}" in message
    assert "credential helper 'tagpilot-empty' had none for it either" in message


async def test_head_digest_works_with_a_bearer_token(private_token_registry: TokenRegistry) -> None:
    host = private_token_registry.seeded.host
    credentials = Credentials.from_dockerconfigjson(docker_config(host, **basic_entry()))
    async with RegistryClient(credentials=credentials) as client:
        digest = await client.head_digest(f"{host}/closed/app", "latest")
    assert digest == private_token_registry.seeded.digest


@pytest.mark.parametrize(
    ("fixture", "path"),
    [
        pytest.param("basic_registry", "private/app", id="basic-registry"),
        pytest.param("private_token_registry", "closed/app", id="token-registry"),
    ],
)
async def test_a_secret_without_an_entry_for_the_host_says_so_and_names_its_hosts(
    request: pytest.FixtureRequest, fixture: str, path: str
) -> None:
    found = request.getfixturevalue(fixture)
    host = (found.seeded if isinstance(found, TokenRegistry) else found).host
    payload = json.dumps(
        {"auths": {"ghcr.io": basic_entry(), "registry.example:5000": basic_entry()}}
    ).encode()
    credentials = Credentials.from_dockerconfigjson(payload, source=SECRET_SOURCE)
    with pytest.raises(RegistryAuthError) as caught:
        await _tags(credentials, f"{host}/{path}")
    message = str(caught.value)
    assert f"{SECRET_SOURCE} has none for {host}" in message
    assert "it has credentials for: ghcr.io, registry.example:5000" in message
    assert "refused anonymous access" not in message
    assert PASSWORD not in message


@pytest.mark.parametrize(
    ("registry_url", "realm"),
    [
        pytest.param("https://r.example", "https://auth.example/token", id="https-to-https"),
        pytest.param("http://127.0.0.1:5000", "http://127.0.0.1:5001/t", id="http-to-http"),
        pytest.param("http://127.0.0.1:5000", "https://auth.example/t", id="http-to-https"),
    ],
)
def test_a_realm_on_the_same_or_a_stronger_scheme_is_followed(
    registry_url: str, realm: str
) -> None:
    check_realm(Challenge("bearer", {"realm": realm}), registry_url)


@pytest.mark.parametrize(
    ("realm", "error", "message"),
    [
        pytest.param("http://auth.example/token", RegistryAuthError, "plain HTTP", id="downgrade"),
        pytest.param("HTTP://auth.example/token", RegistryAuthError, "plain HTTP", id="upper-case"),
        pytest.param("ftp://auth.example/token", MalformedResponseError, "usable", id="ftp"),
        pytest.param("", MalformedResponseError, "usable", id="no-realm"),
        pytest.param("\x1b]0;owned\x07", MalformedResponseError, "x1b", id="escape-echoed-safely"),
    ],
)
def test_a_realm_on_a_weaker_or_unknown_scheme_is_refused(
    realm: str, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message) as caught:
        check_realm(Challenge("bearer", {"realm": realm}), "https://r.example")
    assert "\x1b" not in str(caught.value)


@pytest.mark.usefixtures("no_ca_environment")
async def test_an_https_registry_cannot_send_credentials_to_a_plain_http_realm(
    https_registry_with_http_realm: tuple[str, Script], pki: Pki
) -> None:
    host, realm_server = https_registry_with_http_realm
    credentials = Credentials.from_dockerconfigjson(docker_config(host, **basic_entry()))
    tls = TLSConfig(ca_pem=pki.ca_cert.read_bytes(), source="secret registry-tls")
    async with RegistryClient(credentials=credentials, tls=tls) as client:
        with pytest.raises(RegistryAuthError, match="token service on plain HTTP") as caught:
            await client.list_tags(f"{host}/closed/app")
    assert realm_server.requests == [], "nothing may be sent to the cleartext realm"
    assert PASSWORD not in str(caught.value)


async def test_an_image_repository_secret_without_the_host_is_named_by_namespace_and_name(
    basic_registry: Seeded,
) -> None:
    host = basic_registry.host
    text = (
        "apiVersion: image.toolkit.fluxcd.io/v1beta2\nkind: ImageRepository\n"
        "metadata:\n  name: app\n  namespace: flux-system\n"
        f"spec:\n  image: {host}/private/app\n  interval: 1m\n  secretRef:\n    name: regcred\n"
    )
    repo = load_text(text, file="repo.yaml").objects[0].obj
    assert isinstance(repo, ImageRepository)
    payload = docker_config("ghcr.io", **basic_entry())
    secret = SecretData(
        "flux-system", "regcred", {".dockerconfigjson": payload}, "kubernetes.io/dockerconfigjson"
    )
    pool = RegistryPool()
    try:
        access = registry_access(repo, SecretIndex({("flux-system", "regcred"): secret}))
        with pytest.raises(RegistryAuthError) as caught:
            await pool.list_tags(access)
    finally:
        await pool.aclose()
    assert f"Secret flux-system/regcred has none for {host}" in str(caught.value)
    assert "it has credentials for: ghcr.io" in str(caught.value)
