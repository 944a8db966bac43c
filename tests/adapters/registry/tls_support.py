"""Certificates that fail verification in one known way each: expired, not yet valid, issued for
another name, self-signed.  Made with ``cryptography`` beside a CA the client does trust, so
the one designed flaw is the only reason a handshake fails.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

__all__ = ["EXPIRED_ON", "FlawedCerts", "make_flawed_certs"]

EXPIRED_ON = dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.UTC)
"""When the expired certificate stopped being valid."""
VALID_FROM = dt.datetime(2099, 1, 1, tzinfo=dt.UTC)
"""When the not-yet-valid certificate starts being valid."""


_Plan = tuple[
    str,
    "tuple[str, ec.EllipticCurvePrivateKey] | None",
    list[x509.GeneralName],
    tuple[dt.datetime, dt.datetime],
]


@dataclass(frozen=True)
class FlawedCerts:
    """The trusted CA and, per flaw, a (certificate, key) pair of PEM file paths."""

    ca_cert: Path
    by_flaw: dict[str, tuple[Path, Path]]


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _cert(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: tuple[str, ec.EllipticCurvePrivateKey] | None,
    *,
    names: list[x509.GeneralName],
    window: tuple[dt.datetime, dt.datetime],
    ca: bool = False,
) -> x509.Certificate:
    issuer_name, issuer_key = issuer if issuer else (subject, key)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(window[0])
        .not_valid_after(window[1])
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _write(
    directory: Path, stem: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey
) -> tuple[Path, Path]:
    cert_path, key_path = directory / f"{stem}.crt", directory / f"{stem}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def make_flawed_certs(directory: Path) -> FlawedCerts:
    """A CA and four server certificates for 127.0.0.1, each with one flaw."""
    directory.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)
    valid = (now - dt.timedelta(days=1), now + dt.timedelta(days=30))
    loopback = [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _cert("flawed-certs test CA", ca_key, None, names=[], window=valid, ca=True)
    ca_path = directory / "ca.crt"
    ca_path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    issuer = ("flawed-certs test CA", ca_key)
    plans: dict[str, _Plan] = {
        "expired": (
            "127.0.0.1",
            issuer,
            loopback,
            (EXPIRED_ON - dt.timedelta(days=90), EXPIRED_ON),
        ),
        "not-yet-valid": (
            "127.0.0.1",
            issuer,
            loopback,
            (VALID_FROM, VALID_FROM.replace(year=2100)),
        ),
        "wrong-name": ("registry.example", issuer, [x509.DNSName("registry.example")], valid),
        "self-signed": ("self-signed registry", None, loopback, valid),
    }
    by_flaw: dict[str, tuple[Path, Path]] = {}
    for flaw, (subject, signer, names, window) in plans.items():
        key = ec.generate_private_key(ec.SECP256R1())
        cert = _cert(subject, key, signer, names=names, window=window)
        by_flaw[flaw] = _write(directory, flaw, cert, key)
    return FlawedCerts(ca_path, by_flaw)
