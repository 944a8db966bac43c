"""TLS to real registries with the test CA: server verification, mTLS, and the errors users see.

The machine's CA environment variables are cleared (``no_ca_environment``) so that only the
CA handed to tagpilot decides.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from registry_support import APP_TAGS, Seeded
from tls_support import EXPIRED_ON, FlawedCerts, make_flawed_certs

from servers.pki import Pki
from servers.registry import RegistryTLS, run_registry
from tagpilot.adapters.registry import (
    RegistryClient,
    RegistryTLSError,
    TLSConfig,
)
from tagpilot.core.errors import InvalidInputError

pytestmark = pytest.mark.usefixtures("no_ca_environment")


def _ca(pki: Pki, *, client: bool = False) -> TLSConfig:
    return TLSConfig(
        ca_pem=pki.ca_cert.read_bytes(),
        cert_pem=pki.client_cert.read_bytes() if client else None,
        key_pem=pki.client_key.read_bytes() if client else None,
        source="secret registry-tls",
    )


async def test_the_given_ca_verifies_the_registry(tls_registry: Seeded, pki: Pki) -> None:
    async with RegistryClient(tls=_ca(pki)) as client:
        tags = await client.list_tags(f"{tls_registry.host}/secure/app")
    assert sorted(tags) == sorted(APP_TAGS)


async def test_without_the_ca_the_error_names_the_system_store(tls_registry: Seeded) -> None:
    async with RegistryClient() as client:
        with pytest.raises(RegistryTLSError) as caught:
            await client.list_tags(f"{tls_registry.host}/secure/app")
    message = str(caught.value)
    assert "trusted CAs: system trust store;" in message
    assert "give the registry's CA as ca.crt" in message
    assert client.requests_sent == 1, "a TLS failure is not retried"


async def test_a_wrong_ca_is_named_with_its_source(tls_registry: Seeded, pki: Pki) -> None:
    tls = TLSConfig(ca_pem=pki.other_ca_cert.read_bytes(), source="secret wrong-ca")
    async with RegistryClient(tls=tls) as client:
        with pytest.raises(
            RegistryTLSError, match=r"system trust store \+ ca\.crt from secret wrong-ca"
        ):
            await client.list_tags(f"{tls_registry.host}/secure/app")


async def test_mutual_tls_lists_with_a_client_certificate(mtls_registry: Seeded, pki: Pki) -> None:
    async with RegistryClient(tls=_ca(pki, client=True)) as client:
        tags = await client.list_tags(f"{mtls_registry.host}/mutual/app")
    assert sorted(tags) == sorted(APP_TAGS)


async def test_mutual_tls_without_a_client_certificate_asks_for_one(
    mtls_registry: Seeded, pki: Pki
) -> None:
    async with RegistryClient(tls=_ca(pki)) as client:
        with pytest.raises(RegistryTLSError, match="client certificate"):
            await client.list_tags(f"{mtls_registry.host}/mutual/app")


async def test_insecure_does_not_skip_verification(tls_registry: Seeded) -> None:
    """Flux's ``insecure: true`` allows plain HTTP; a TLS registry is still verified."""
    async with RegistryClient(insecure=True) as client:
        with pytest.raises(RegistryTLSError, match="not trusted"):
            await client.list_tags(f"{tls_registry.host}/secure/app")


async def test_insecure_still_uses_tls_when_the_registry_speaks_it(
    tls_registry: Seeded, pki: Pki
) -> None:
    async with RegistryClient(insecure=True, tls=_ca(pki)) as client:
        assert len(await client.list_tags(f"{tls_registry.host}/secure/app")) == len(APP_TAGS)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        pytest.param({"cert_pem": b"x"}, "must be given together", id="cert-without-key"),
        pytest.param({"key_pem": b"x"}, "must be given together", id="key-without-cert"),
        pytest.param({"ca_pem": b"not a pem"}, "ca.crt is not a PEM", id="garbage-ca"),
    ],
)
def test_unusable_tls_material_is_invalid_input(fields: dict[str, bytes], message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        RegistryClient(tls=TLSConfig(source="secret bad", **fields))


def test_a_client_key_that_does_not_match_is_invalid_input(pki: Pki) -> None:
    tls = TLSConfig(cert_pem=pki.client_cert.read_bytes(), key_pem=pki.server_key.read_bytes())
    with pytest.raises(InvalidInputError, match="not a matching"):
        RegistryClient(tls=tls)


def test_client_key_material_does_not_outlive_loading(
    pki: Pki, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    RegistryClient(tls=_ca(pki, client=True))
    assert list(tmp_path.iterdir()) == []


@pytest.fixture(scope="module")
def flawed_certs(tmp_path_factory: pytest.TempPathFactory) -> FlawedCerts:
    """A trusted CA and one server certificate per verification flaw."""
    return make_flawed_certs(tmp_path_factory.mktemp("flawed-certs"))


@pytest.fixture(scope="module", params=["expired", "not-yet-valid", "wrong-name", "self-signed"])
def flawed_registry(
    request: pytest.FixtureRequest,
    flawed_certs: FlawedCerts,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, str]]:
    """A real TLS registry serving one flawed certificate: (flaw, host)."""
    cert, key = flawed_certs.by_flaw[request.param]
    directory = tmp_path_factory.mktemp(f"registry-{request.param}")
    with run_registry(directory, tls=RegistryTLS(cert=cert, key=key)) as registry:
        yield request.param, registry.host


FLAW_MESSAGES = {
    "expired": (
        f"the registry's certificate expired on {EXPIRED_ON:%Y-%m-%dT%H:%M:%SZ}",
        "renew the certificate on the registry; the CA was not the problem",
    ),
    "not-yet-valid": (
        "the registry's certificate is not valid before 2099-01-01T00:00:00Z",
        "check this machine's clock",
    ),
    "wrong-name": (
        "certificate is not valid for '127.0.0.1' (the certificate names: registry.example)",
        "use a registry address the certificate names",
    ),
    "self-signed": (
        "the registry presents a self-signed certificate (CN=self-signed registry)",
        "if you trust it, give that certificate as ca.crt",
    ),
}


async def test_each_certificate_flaw_is_named_with_what_to_do(
    flawed_registry: tuple[str, str], flawed_certs: FlawedCerts
) -> None:
    """The right CA is given every time: only the named flaw may be blamed, never the CA."""
    flaw, host = flawed_registry
    tls = TLSConfig(ca_pem=flawed_certs.ca_cert.read_bytes(), source="secret registry-tls")
    async with RegistryClient(tls=tls) as client:
        with pytest.raises(RegistryTLSError) as caught:
            await client.list_tags(f"{host}/secure/app")
    message = str(caught.value)
    what, hint = FLAW_MESSAGES[flaw]
    assert what in message
    assert hint in message
    if flaw != "self-signed":
        assert "give the registry's CA" not in message
    assert client.requests_sent == 1, "a TLS failure is not retried"


async def test_an_unknown_ca_names_the_issuer(tls_registry: Seeded, pki: Pki) -> None:
    tls = TLSConfig(ca_pem=pki.other_ca_cert.read_bytes(), source="secret wrong-ca")
    async with RegistryClient(tls=tls) as client:
        with pytest.raises(RegistryTLSError) as caught:
            await client.list_tags(f"{tls_registry.host}/secure/app")
    message = str(caught.value)
    assert "unable to get local issuer certificate (issuer CN=tagpilot test CA)" in message
    assert "not trusted; give the registry's CA as ca.crt" in message
