"""Sprig's deterministic crypto: ``derivePassword``, ``decryptAES``, ``buildCustomCert``."""

from __future__ import annotations

import base64
import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.x509.oid import NameOID
from message_testing import Render

from tagpilot.core.message import TemplateExecutionError, TemplateParseError

P = pytest.param


def sprig_encrypt_aes(password: str, plaintext: str, iv: bytes) -> str:
    """What Sprig's ``encryptAES`` writes, with a chosen IV instead of a random one."""
    key = password.encode()[:32].ljust(32, b"\0")
    padding = 16 - len(plaintext.encode()) % 16
    content = plaintext.encode() + bytes([padding]) * padding
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return base64.b64encode(iv + encryptor.update(content) + encryptor.finalize()).decode()


def test_derivePassword_gives_the_documented_password(render: Render) -> None:
    template = '{{ derivePassword 1 "long" "password" "user" "example.com" }}'
    assert render(template) == "ZedaFaxcZaso9*"


def test_derivePassword_names_an_unknown_template(render: Render) -> None:
    assert (
        render('{{ derivePassword 1 "huge" "p" "u" "s" }}') == "cannot find password template huge"
    )


def test_derivePassword_counter_is_a_uint32_constant(render: Render) -> None:
    with pytest.raises(TemplateExecutionError, match="expected uint32; got int"):
        render('{{ derivePassword (len "a") "long" "p" "u" "s" }}')


@pytest.mark.parametrize(
    ("password", "plaintext"),
    [
        P("secretkey", "plaintext", id="short-key-padded"),
        P("k" * 40, "exactly sixteen!", id="long-key-truncated-full-block"),
        P("é-key", "unicode ✓ text", id="unicode"),
    ],
)
def test_decryptAES_reads_what_encryptAES_writes(
    render: Render, password: str, plaintext: str
) -> None:
    encrypted = sprig_encrypt_aes(password, plaintext, iv=bytes(range(16)))
    assert render(f'{{{{ decryptAES "{password}" "{encrypted}" }}}}') == plaintext


@pytest.mark.parametrize(
    ("encrypted", "detail"),
    [
        P("AAAA", "slice bounds out of range [:16] with capacity 3", id="shorter-than-iv"),
        P(base64.b64encode(bytes(20)).decode(), "input not full blocks", id="partial-block"),
        P("!!", "illegal base64 data", id="not-base64"),
    ],
)
def test_decryptAES_refuses_broken_input(render: Render, encrypted: str, detail: str) -> None:
    with pytest.raises(TemplateExecutionError, match="error calling decryptAES") as caught:
        render(f'{{{{ decryptAES "key" "{encrypted}" }}}}')
    assert detail in str(caught.value)


def test_decryptAES_of_nothing_is_nothing(render: Render) -> None:
    assert render('{{ decryptAES "key" "" }}|') == "|"


def _certificate_and_key() -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "example.com")])
    start = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(start)
        .not_valid_after(start + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_pem = certificate.public_bytes(serialization.Encoding.PEM).decode()
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return cert_pem, key_pem


def test_buildCustomCert_returns_the_certificate_and_key(render: Render) -> None:
    cert, key = _certificate_and_key()
    b64 = [base64.b64encode(text.encode()).decode() for text in (cert, key)]
    template = (
        f'{{{{ $c := buildCustomCert "{b64[0]}" "{b64[1]}" }}}}{{{{ $c.Cert }}}}{{{{ $c.Key }}}}'
    )
    assert render(template) == cert + key


@pytest.mark.parametrize(
    ("arguments", "detail"),
    [
        P('"!!" "eA=="', "unable to decode base64 certificate", id="cert-not-base64"),
        P('"eA==" "!!"', "unable to decode base64 private key", id="key-not-base64"),
        P('"eA==" "eA=="', "unable to decode certificate", id="cert-not-pem"),
    ],
)
def test_buildCustomCert_refuses_what_sprig_refuses(
    render: Render, arguments: str, detail: str
) -> None:
    with pytest.raises(TemplateExecutionError, match=detail):
        render(f"{{{{ buildCustomCert {arguments} }}}}")


@pytest.mark.parametrize(
    "name",
    [
        "genPrivateKey",
        "genCA",
        "genCAWithKey",
        "genSelfSignedCert",
        "genSelfSignedCertWithKey",
        "genSignedCert",
        "genSignedCertWithKey",
        "encryptAES",
        "bcrypt",
        "htpasswd",
        "randBytes",
        "uuidv4",
    ],
)
def test_random_crypto_functions_are_not_defined(render: Render, name: str) -> None:
    with pytest.raises(TemplateParseError, match=f'function "{name}" not defined'):
        render(f"{{{{ {name} }}}}")
