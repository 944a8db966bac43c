"""Pure pieces of the registry adapter: docker config parsing and key matching, challenge
parsing, Retry-After, backoff and the per-host limiter."""

from __future__ import annotations

import asyncio
import base64
import email.utils
import json
import random

import pytest

from tagpilot.adapters.registry import AuthConfig, Credentials, CredentialsError, Limits
from tagpilot.adapters.registry.auth import Challenge, TokenCache, parse_challenge
from tagpilot.adapters.registry.credentials import normalise_registry_key
from tagpilot.adapters.registry.ratelimit import HostLimiter, backoff_delay, parse_retry_after

SECRET = "hunter2-secret"


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    ("key", "normalised"),
    [
        pytest.param("https://index.docker.io/v1/", "index.docker.io", id="hub-v1-url"),
        pytest.param("docker.io", "index.docker.io", id="docker-io"),
        pytest.param("registry-1.docker.io", "index.docker.io", id="registry-1"),
        pytest.param("ghcr.io", "ghcr.io", id="plain-host"),
        pytest.param("http://reg.local:5000/", "reg.local:5000", id="scheme-port-slash"),
        pytest.param("https://reg.io/v2/", "reg.io", id="v2-suffix"),
        pytest.param("reg.io/team/app", "reg.io/team/app", id="with-path"),
    ],
)
def test_config_keys_are_normalised_like_docker(key: str, normalised: str) -> None:
    assert normalise_registry_key(key) == normalised


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        pytest.param(
            {"auth": _b64("bob:pw:with:colons")}, AuthConfig("bob", "pw:with:colons"), id="auth"
        ),
        pytest.param({"username": "bob", "password": "pw"}, AuthConfig("bob", "pw"), id="fields"),
        pytest.param(
            {"auth": _b64("bob:pw"), "username": "other", "password": "x"},
            AuthConfig("bob", "pw"),
            id="auth-wins",
        ),
        pytest.param({"identitytoken": "rt"}, AuthConfig(identity_token="rt"), id="identitytoken"),
        pytest.param({"registrytoken": "bt"}, AuthConfig(registry_token="bt"), id="registrytoken"),
    ],
)
def test_auth_entries_are_read_in_every_docker_form(
    entry: dict[str, str], expected: AuthConfig
) -> None:
    payload = json.dumps({"auths": {"https://index.docker.io/v1/": entry}}).encode()
    assert Credentials.from_dockerconfigjson(payload).static_for("index.docker.io") == expected


def test_legacy_dockercfg_top_level_is_the_auths_map() -> None:
    payload = json.dumps({"reg.io": {"auth": _b64("u:p")}}).encode()
    assert Credentials.from_dockerconfigjson(payload).static_for("reg.io") == AuthConfig("u", "p")


def test_the_longest_repository_path_key_wins_over_the_host() -> None:
    credentials = Credentials.from_dockerconfigjson(
        {
            "auths": {
                "reg.io": {"username": "host", "password": "1"},
                "reg.io/team": {"username": "team", "password": "2"},
                "reg.io/team/app": {"username": "app", "password": "3"},
            }
        }
    )
    assert credentials.static_for("reg.io", "team/app").username == "app"  # type: ignore[union-attr]
    assert credentials.static_for("reg.io", "team/other").username == "team"  # type: ignore[union-attr]
    assert credentials.static_for("reg.io", "solo/x").username == "host"  # type: ignore[union-attr]
    assert credentials.static_for("other.io", "team/app") is None


def test_cred_helpers_take_precedence_over_the_store() -> None:
    credentials = Credentials.from_dockerconfigjson(
        {"credHelpers": {"https://gcr.io": "gcr"}, "credsStore": "desktop"}
    )
    assert credentials.helper_for("gcr.io") == "gcr"
    assert credentials.helper_for("ghcr.io") == "desktop"


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        pytest.param(b"{not json", "not valid JSON", id="not-json"),
        pytest.param(b"[]", "expected a JSON object", id="array"),
        pytest.param(
            json.dumps({"auths": {"r.io": {"auth": "%%%" + SECRET}}}).encode(),
            "not valid base64",
            id="bad-base64",
        ),
        pytest.param(
            json.dumps({"auths": {"r.io": {"auth": _b64(SECRET)}}}).encode(),
            "without ':'",
            id="no-colon",
        ),
        pytest.param(json.dumps({"auths": {"r.io": "x"}}).encode(), "expected an object", id="str"),
    ],
)
def test_bad_docker_config_names_the_place_but_not_the_secret(payload: bytes, message: str) -> None:
    with pytest.raises(CredentialsError, match=message) as caught:
        Credentials.from_dockerconfigjson(payload, source="secret ns/regcred")
    assert "secret ns/regcred" in str(caught.value)
    assert SECRET not in str(caught.value)


def test_a_missing_config_file_is_invalid_input() -> None:
    with pytest.raises(CredentialsError, match="cannot read docker config"):
        Credentials.from_docker_config_file("/nonexistent/config.json")


def test_auth_config_repr_hides_secrets() -> None:
    shown = repr(AuthConfig("bob", SECRET, identity_token=SECRET, registry_token=SECRET))
    assert SECRET not in shown
    assert "bob" in shown


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        pytest.param(
            'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",'
            'scope="repository:library/alpine:pull,push"',
            Challenge(
                "bearer",
                {
                    "realm": "https://auth.docker.io/token",
                    "service": "registry.docker.io",
                    "scope": "repository:library/alpine:pull,push",
                },
            ),
            id="docker-hub-bearer-comma-in-scope",
        ),
        pytest.param(
            'Basic realm="Registry Realm"',
            Challenge("basic", {"realm": "Registry Realm"}),
            id="basic",
        ),
        pytest.param(
            "BEARER realm=https://a/token, service=x",
            Challenge("bearer", {"realm": "https://a/token", "service": "x"}),
            id="unquoted",
        ),
        pytest.param("Negotiate abc", None, id="unknown-scheme"),
        pytest.param("", None, id="empty"),
    ],
)
def test_challenges_are_parsed(header: str, expected: Challenge | None) -> None:
    assert parse_challenge(header) == expected


def test_token_cache_forgets_expired_and_dropped_tokens() -> None:
    cache = TokenCache()
    cache.put("r.io", "s", "fresh", 300)
    cache.put("r.io", "old", "stale", 0)
    assert cache.get("r.io", "s") == "fresh"
    assert cache.get("r.io", "old") is None
    cache.drop("r.io", "s")
    assert cache.get("r.io", "s") is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("120", 120.0, id="seconds"),
        pytest.param(None, None, id="absent"),
        pytest.param("soon", None, id="garbage"),
        pytest.param(email.utils.formatdate(1_000_060, usegmt=True), 60.0, id="http-date"),
        pytest.param(email.utils.formatdate(999_000, usegmt=True), 0.0, id="date-in-the-past"),
    ],
)
def test_retry_after_is_seconds_or_an_http_date(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, now=1_000_000) == expected


def test_backoff_is_jittered_below_an_exponential_cap() -> None:
    limits = Limits(backoff_base=0.5, backoff_cap=3.0)
    rng = random.Random(7)
    delays = [[backoff_delay(attempt, limits, rng) for _ in range(200)] for attempt in (1, 2, 5)]
    assert max(delays[0]) <= 0.5
    assert max(delays[1]) <= 1.0
    assert max(delays[2]) <= 3.0
    assert len(set(delays[2])) > 100, "full jitter spreads the retries"


async def test_the_host_limiter_bounds_requests_in_flight() -> None:
    limiter = HostLimiter(Limits(max_concurrency=3))
    in_flight, peak = 0, 0

    async def request() -> None:
        nonlocal in_flight, peak
        async with limiter.slot():
            in_flight += 1
            peak = max(peak, in_flight)
            await asyncio.sleep(0.005)
            in_flight -= 1

    await asyncio.gather(*(request() for _ in range(20)))
    assert peak == 3


async def test_the_request_budget_spaces_requests_after_the_burst() -> None:
    limiter = HostLimiter(Limits(requests_per_second=200, burst=2))
    loop = asyncio.get_running_loop()
    started = loop.time()
    for _ in range(12):
        async with limiter.slot():
            pass
    assert loop.time() - started >= 10 / 200 * 0.9
