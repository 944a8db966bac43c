"""Secret lookups: what a missing Secret or key says, and that values never print."""

from __future__ import annotations

import pytest

from tagpilot.core.secrets import (
    MissingSecretError,
    SecretData,
    SecretIndex,
    SecretValue,
    tls_material,
)

PASSWORD = b"hunter2-very-secret"
INDEX = SecretIndex(
    {
        ("flux-system", "regcred"): SecretData(
            "flux-system", "regcred", {".dockerconfigjson": b"{}", "password": PASSWORD}
        ),
        ("flux-system", "half-tls"): SecretData("flux-system", "half-tls", {"tls.crt": b"C"}),
        ("flux-system", "old-tls"): SecretData(
            "flux-system", "old-tls", {"caFile": b"CA", "certFile": b"C", "keyFile": b"K"}
        ),
    }
)
WHO = "ImageRepository flux-system/blaster-dev-repo"


def test_a_missing_secret_names_the_object_and_the_secret() -> None:
    with pytest.raises(MissingSecretError) as caught:
        INDEX.get("flux-system", "nope", wanted_by=WHO, reason="AuthenticationFailed")
    assert str(caught.value).startswith(f"{WHO}: Secret 'flux-system/nope' not found")
    assert caught.value.reason == "AuthenticationFailed"


def test_a_missing_key_names_object_secret_key_and_what_is_there() -> None:
    secret = INDEX.get("flux-system", "regcred", wanted_by=WHO, reason="AuthenticationFailed")
    with pytest.raises(MissingSecretError) as caught:
        secret.require("identity", purpose="git over SSH")
    message = str(caught.value)
    assert "Secret 'flux-system/regcred' has no key 'identity'" in message
    assert message.startswith(WHO)
    assert ".dockerconfigjson, password" in message
    assert PASSWORD.decode() not in message


def test_secret_values_never_print_themselves() -> None:
    value = SecretValue(PASSWORD)
    for shown in (str(value), repr(value), f"{value}", repr(INDEX)):
        assert PASSWORD.decode() not in shown
    assert value.reveal() == PASSWORD


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param("old-tls", (b"CA", b"C", b"K"), id="deprecated-key-names-still-work"),
    ],
)
def test_tls_material_reads_current_and_deprecated_keys(
    name: str, expected: tuple[bytes, bytes, bytes]
) -> None:
    material = tls_material(INDEX.get("flux-system", name, wanted_by=WHO, reason="Failure"))
    assert material.ca_pem is not None and material.cert_pem is not None
    assert material.key_pem is not None
    got = (material.ca_pem.reveal(), material.cert_pem.reveal(), material.key_pem.reveal())
    assert got == expected


def test_a_client_certificate_without_its_key_is_refused() -> None:
    secret = INDEX.get("flux-system", "half-tls", wanted_by=WHO, reason="Failure")
    with pytest.raises(MissingSecretError, match=r"has tls\.crt but no 'tls\.key'"):
        tls_material(secret)
