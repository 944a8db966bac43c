"""Authentication against real registries: htpasswd Basic, Bearer tokens, credential helpers.

Every refusal must name the registry and the credential source, and never the secret.
"""

from __future__ import annotations

import json
import os
import stat
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
)

from tagpilot.adapters.registry import (
    Credentials,
    RegistryAuthError,
    RegistryClient,
)
from tagpilot.adapters.registry.auth import pull_scope

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


def _install_helper(directory: Path, name: str, answers: dict[str, dict[str, str]]) -> None:
    """A real ``docker-credential-<name>`` executable answering from a fixed table."""
    script = directory / f"docker-credential-{name}"
    script.write_text(
        "#!/usr/bin/env python3\n"
        "import json, sys\n"
        f"answers = {json.dumps(answers)!r}\n"
        "server = sys.stdin.read().strip()\n"
        "found = json.loads(answers).get(server)\n"
        "if found is None:\n"
        "    print('credentials not found in native keychain')\n"
        "    sys.exit(1)\n"
        "print(json.dumps(found))\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)


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
    _install_helper(tmp_path, "tagpilot-test", {host: {"Username": USER, "Secret": PASSWORD}})
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    helper = {host: "tagpilot-test"} if config_key == "credHelpers" else "tagpilot-test"
    config = tmp_path / "config.json"
    config.write_text(json.dumps({config_key: helper}))
    tags = await _tags(Credentials.from_docker_config_file(config), f"{host}/private/app")
    assert len(tags) == len(APP_TAGS)


async def test_a_helper_without_credentials_falls_back_to_anonymous(
    basic_registry: Seeded, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _install_helper(tmp_path, "tagpilot-empty", {})
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    credentials = Credentials.from_dockerconfigjson({"credsStore": "tagpilot-empty"})
    with pytest.raises(RegistryAuthError, match="none are configured"):
        await _tags(credentials, f"{basic_registry.host}/private/app")


async def test_head_digest_works_with_a_bearer_token(private_token_registry: TokenRegistry) -> None:
    host = private_token_registry.seeded.host
    credentials = Credentials.from_dockerconfigjson(docker_config(host, **basic_entry()))
    async with RegistryClient(credentials=credentials) as client:
        digest = await client.head_digest(f"{host}/closed/app", "latest")
    assert digest == private_token_registry.seeded.digest
