"""Listing tags and reading digests from a real registry 2.8 on loopback (plain HTTP)."""

from __future__ import annotations

import pytest
from registry_support import APP_TAGS, FAST_RETRIES, MANY_TAGS, Seeded

from servers.forward_proxy import run_forward_proxy
from servers.paginate_proxy import run_paginate_proxy
from servers.registry import free_port
from tagpilot.adapters.registry import (
    Limits,
    ManifestNotFoundError,
    Proxy,
    RegistryAuthError,
    RegistryClient,
    RegistryUnavailableError,
    RepositoryNotFoundError,
)
from tagpilot.core.imageref import parse_repository

HTTPS_PROBE = 1
"""Loopback registries may speak HTTP; like go-containerregistry we try HTTPS once first."""


async def test_list_tags_returns_every_tag_of_the_repository(plain_registry: Seeded) -> None:
    async with RegistryClient() as client:
        tags = await client.list_tags(f"{plain_registry.host}/team/app")
    assert sorted(tags) == sorted(APP_TAGS)


async def test_a_repeated_scan_costs_one_request(plain_registry: Seeded) -> None:
    async with RegistryClient() as client:
        await client.list_tags(f"{plain_registry.host}/team/app")
        before = client.requests_sent
        await client.list_tags(f"{plain_registry.host}/team/app")
        assert client.requests_sent - before == 1


async def test_an_emptied_repository_lists_no_tags(plain_registry: Seeded) -> None:
    """Registry 2.8 answers ``"tags": null`` once the last manifest is deleted."""
    async with RegistryClient() as client:
        assert await client.list_tags(f"{plain_registry.host}/edge/empty") == []


async def test_an_unknown_repository_is_reported_as_such(plain_registry: Seeded) -> None:
    async with RegistryClient() as client:
        with pytest.raises(RepositoryNotFoundError, match="no/such not found") as caught:
            await client.list_tags(f"{plain_registry.host}/no/such")
    assert caught.value.reason == "ReadOperationFailed"


async def test_head_digest_returns_the_manifest_digest(plain_registry: Seeded) -> None:
    async with RegistryClient() as client:
        digest = await client.head_digest(f"{plain_registry.host}/team/app", "1.1.0")
    assert digest == plain_registry.digest


async def test_head_digest_of_a_missing_tag_is_manifest_not_found(plain_registry: Seeded) -> None:
    async with RegistryClient() as client:
        with pytest.raises(ManifestNotFoundError, match=r"9\.9\.9"):
            await client.head_digest(f"{plain_registry.host}/team/app", "9.9.9")


async def test_a_parsed_repository_is_accepted_as_is(plain_registry: Seeded) -> None:
    repository = parse_repository(f"{plain_registry.host}/team/app")
    async with RegistryClient() as client:
        assert len(await client.list_tags(repository)) == len(APP_TAGS)


async def test_a_registry_that_is_down_is_unavailable_after_retries() -> None:
    async with RegistryClient(limits=FAST_RETRIES, timeout=5) as client:
        with pytest.raises(RegistryUnavailableError, match="cannot reach registry"):
            await client.list_tags(f"127.0.0.1:{free_port()}/team/app")
        # the one-off HTTPS probe of a loopback registry, then every attempt over HTTP
        assert client.requests_sent == 1 + FAST_RETRIES.max_attempts


@pytest.mark.parametrize(
    ("page_size", "default_n", "pages"),
    [
        pytest.param(2, 0, 3, id="client-asks-n-2"),
        pytest.param(None, 2, 3, id="registry-pages-by-default"),
        pytest.param(100, 0, 1, id="one-page-when-n-covers-all"),
    ],
)
async def test_pagination_follows_link_headers_to_the_last_page(
    plain_registry: Seeded, page_size: int | None, default_n: int, pages: int
) -> None:
    with run_paginate_proxy(plain_registry.registry.url, default_n=default_n) as proxy:
        host = proxy.removeprefix("http://")
        async with RegistryClient(limits=Limits(page_size=page_size)) as client:
            tags = await client.list_tags(f"{host}/team/app")
            assert client.requests_sent == HTTPS_PROBE + pages
    assert tags == sorted(APP_TAGS)


async def test_ten_thousand_tags_are_listed_completely(many_tags_registry: Seeded) -> None:
    async with RegistryClient() as client:
        tags = await client.list_tags(f"{many_tags_registry.host}/bench/tags10k")
    assert len(tags) == MANY_TAGS
    assert set(tags) == {f"1.{i}.0" for i in range(MANY_TAGS)}


async def test_ten_thousand_tags_through_pages_of_a_thousand(many_tags_registry: Seeded) -> None:
    with run_paginate_proxy(many_tags_registry.registry.url) as proxy:
        async with RegistryClient(limits=Limits(page_size=1000)) as client:
            tags = await client.list_tags(f"{proxy.removeprefix('http://')}/bench/tags10k")
            assert client.requests_sent == HTTPS_PROBE + 10
    assert len(tags) == MANY_TAGS


async def test_an_explicit_proxy_with_credentials_carries_the_requests(
    plain_registry: Seeded,
) -> None:
    with run_forward_proxy("proxyuser", "proxy-Pa55") as (url, log):
        proxy = Proxy(url, username="proxyuser", password="proxy-Pa55")
        async with RegistryClient(proxy=proxy) as client:
            tags = await client.list_tags(f"{plain_registry.host}/team/app")
    assert sorted(tags) == sorted(APP_TAGS)
    assert log.forwarded == [f"{plain_registry.registry.url}/v2/team/app/tags/list"]


async def test_a_proxy_refusing_the_credentials_is_an_auth_error(plain_registry: Seeded) -> None:
    with run_forward_proxy("proxyuser", "proxy-Pa55") as (url, _):
        proxy = Proxy(url, username="proxyuser", password="wrong-proxy-pw")
        async with RegistryClient(proxy=proxy) as client:
            with pytest.raises(RegistryAuthError, match="proxy refused") as caught:
                await client.list_tags(f"{plain_registry.host}/team/app")
    assert "wrong-proxy-pw" not in str(caught.value)
    assert "wrong-proxy-pw" not in repr(proxy)
