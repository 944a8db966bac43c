"""Fixtures: real registries on loopback (plain, Basic, TLS, mTLS, token, 10,000 tags), seeded once.

Every registry is Debian's ``docker-registry`` 2.8 started by ``servers.registry``; the token
service and the paginating proxy are the team's own test servers.  Session scope keeps the
whole directory well under a minute and a half (the 10,000-tag seed dominates).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from registry_support import (
    APP_TAGS,
    CA_ENVIRONMENT,
    MANY_TAGS,
    PASSWORD,
    REFRESH_TOKEN,
    USER,
    Seeded,
    TokenRegistry,
)

from servers.fakes import Answer, Script, run_scripted
from servers.ocipush import Pusher, seed
from servers.pki import Pki, make_pki, make_signing_pair
from servers.registry import (
    RegistryTLS,
    TokenAuth,
    fast_storage,
    run_registry,
    write_htpasswd,
)
from servers.token_server import TokenPolicy, run_token_server


@pytest.fixture
def no_ca_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Clear the machine's CA variables so only tagpilot's own CA handling is under test."""
    for name in CA_ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def plain_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    """Plain HTTP registry: ``team/app`` with APP_TAGS; ``edge/empty`` lost its only tag."""
    with run_registry(tmp_path_factory.mktemp("plain")) as registry:
        digest = seed(registry.url, "team/app", APP_TAGS)
        emptied = seed(registry.url, "edge/empty", ["gone"])
        pusher = Pusher(registry.url)
        pusher.request("DELETE", f"/v2/edge/empty/manifests/{emptied}")
        pusher.close()
        yield Seeded(registry, digest)


@pytest.fixture(scope="session")
def basic_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    """Registry with htpasswd Basic auth: ``private/app`` readable by alice."""
    directory = tmp_path_factory.mktemp("basic")
    htpasswd = write_htpasswd(directory / "htpasswd", {USER: PASSWORD})
    with run_registry(directory, htpasswd=htpasswd) as registry:
        digest = seed(registry.url, "private/app", APP_TAGS, user=USER, password=PASSWORD)
        yield Seeded(registry, digest)


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    """A CA with server and client certificates, and an unrelated CA."""
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="session")
def tls_registry(tmp_path_factory: pytest.TempPathFactory, pki: Pki) -> Iterator[Seeded]:
    """HTTPS registry with a certificate from the test CA: ``secure/app``."""
    tls = RegistryTLS(cert=pki.server_cert, key=pki.server_key)
    with run_registry(tmp_path_factory.mktemp("tls"), tls=tls) as registry:
        yield Seeded(registry, seed(registry.url, "secure/app", APP_TAGS, cafile=pki.ca_cert))


@pytest.fixture(scope="session")
def mtls_registry(tmp_path_factory: pytest.TempPathFactory, pki: Pki) -> Iterator[Seeded]:
    """HTTPS registry that requires a client certificate from the test CA: ``mutual/app``."""
    tls = RegistryTLS(cert=pki.server_cert, key=pki.server_key, client_ca=pki.ca_cert)
    client = (pki.client_cert, pki.client_key)
    with run_registry(tmp_path_factory.mktemp("mtls"), tls=tls) as registry:
        digest = seed(registry.url, "mutual/app", APP_TAGS, cafile=pki.ca_cert, client_cert=client)
        yield Seeded(registry, digest)


@pytest.fixture(scope="session")
def token_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TokenRegistry]:
    """Registry with Bearer token auth (anonymous pull allowed): ``tok/app``."""
    directory = tmp_path_factory.mktemp("token")
    key, cert = make_signing_pair(directory / "signer")
    policy = TokenPolicy(
        users={USER: PASSWORD}, refresh_tokens={REFRESH_TOKEN: USER}, anonymous_pull=True
    )
    with run_token_server(key, cert, policy) as tokens:
        auth = TokenAuth(realm=tokens.realm, signing_cert=cert)
        with run_registry(directory / "registry", token=auth) as registry:
            digest = seed(registry.url, "tok/app", APP_TAGS, user=USER, password=PASSWORD)
            yield TokenRegistry(Seeded(registry, digest), tokens)


@pytest.fixture(scope="session")
def private_token_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TokenRegistry]:
    """Registry with Bearer token auth and no anonymous access: ``closed/app``."""
    directory = tmp_path_factory.mktemp("token-private")
    key, cert = make_signing_pair(directory / "signer")
    policy = TokenPolicy(users={USER: PASSWORD}, refresh_tokens={REFRESH_TOKEN: USER})
    with run_token_server(key, cert, policy) as tokens:
        auth = TokenAuth(realm=tokens.realm, signing_cert=cert)
        with run_registry(directory / "registry", token=auth) as registry:
            digest = seed(registry.url, "closed/app", APP_TAGS, user=USER, password=PASSWORD)
            yield TokenRegistry(Seeded(registry, digest), tokens)


@pytest.fixture(scope="session")
def many_tags_registry() -> Iterator[Seeded]:
    """Registry on tmpfs with ``bench/tags10k`` holding 10,000 tags (1.0.0 … 1.9999.0)."""
    with fast_storage() as directory, run_registry(Path(directory)) as registry:
        tags = [f"1.{i}.0" for i in range(MANY_TAGS)]
        yield Seeded(registry, seed(registry.url, "bench/tags10k", tags, workers=8))


@pytest.fixture
def https_registry_with_http_realm(tmp_path: Path, pki: Pki) -> Iterator[tuple[str, Script]]:
    """A TLS registry whose token realm is a plain-HTTP server that records what it is sent."""
    script = Script(lambda method, path: Answer(200, b'{"token": "t"}'))
    _, signer = make_signing_pair(tmp_path / "signer")
    with run_scripted(script) as realm_base:
        auth = TokenAuth(realm=f"{realm_base}/token", signing_cert=signer)
        tls = RegistryTLS(cert=pki.server_cert, key=pki.server_key)
        with run_registry(tmp_path / "registry", tls=tls, token=auth) as registry:
            yield registry.host, script
