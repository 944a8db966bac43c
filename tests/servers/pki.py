"""A throwaway PKI for TLS tests: one CA, a server certificate for loopback, a client certificate.

Made with ``cryptography`` in memory (milliseconds, no openssl CLI) and written as PEM files.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = ["Pki", "make_pki", "make_signing_pair"]


@dataclass(frozen=True)
class Pki:
    """Paths of the PEM files of one CA and the certificates it issued."""

    ca_cert: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    other_ca_cert: Path


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _builder(subject: str, issuer: str, key: ec.EllipticCurvePrivateKey) -> x509.CertificateBuilder:
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=30))
    )


def _self_signed_ca(name: str) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = _key()
    cert = (
        _builder(name, name, key)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    return cert, key


def _leaf(
    ca: tuple[x509.Certificate, ec.EllipticCurvePrivateKey], name: str, server: bool
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = _key()
    usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
    builder = _builder(name, "tagpilot test CA", key).add_extension(
        x509.ExtendedKeyUsage([usage]), critical=False
    )
    if server:
        names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return builder.sign(ca[1], hashes.SHA256()), key


def _write(
    path: Path, cert: x509.Certificate | None, key: ec.EllipticCurvePrivateKey | None
) -> Path:
    if cert is not None:
        path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    if key is not None:
        path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    return path


def make_pki(directory: Path) -> Pki:
    """Create a CA, a loopback server certificate, a client certificate and an unrelated CA."""
    directory.mkdir(parents=True, exist_ok=True)
    ca = _self_signed_ca("tagpilot test CA")
    server = _leaf(ca, "localhost", server=True)
    client = _leaf(ca, "tagpilot-client", server=False)
    other = _self_signed_ca("unrelated CA")
    return Pki(
        ca_cert=_write(directory / "ca.crt", ca[0], None),
        server_cert=_write(directory / "server.crt", server[0], None),
        server_key=_write(directory / "server.key", None, server[1]),
        client_cert=_write(directory / "client.crt", client[0], None),
        client_key=_write(directory / "client.key", None, client[1]),
        other_ca_cert=_write(directory / "other-ca.crt", other[0], None),
    )


def make_signing_pair(directory: Path) -> tuple[Path, Path]:
    """A self-signed key pair for the token service (key path, certificate path)."""
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = _self_signed_ca("tagpilot token signer")
    return _write(directory / "token.key", None, key), _write(directory / "token.crt", cert, None)
