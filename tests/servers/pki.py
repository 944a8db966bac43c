"""Throwaway PKIs for TLS tests: CAs that issue loopback serving and client certificates.

Made with ``cryptography`` in memory (milliseconds, no openssl CLI) and written as PEM files.
:class:`CertificateAuthority` is the one certificate maker of the test suite: the registry and
git servers' PKI (:func:`make_pki`), the token signer, the Kubernetes control plane's two CAs
and the deliberately flawed certificates of the TLS error tests are all made with it.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = [
    "LOOPBACK_NAMES",
    "CertificateAuthority",
    "KeyPair",
    "Pki",
    "make_pki",
    "make_signing_pair",
    "pem_key",
]

LOOPBACK_NAMES: tuple[x509.GeneralName, ...] = (
    x509.DNSName("localhost"),
    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
)
"""The subject alternative names of a loopback server."""


@dataclass(frozen=True)
class KeyPair:
    """PEM files of one certificate and its private key."""

    cert: Path
    key: Path


@dataclass(frozen=True)
class Pki:
    """Paths of the PEM files of one CA and the certificates it issued."""

    ca_cert: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    other_ca_cert: Path


def pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    """``key`` as unencrypted PKCS#8 PEM."""
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _pem_cert(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _subject(common_name: str, organizations: Sequence[str] = ()) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, org) for org in organizations]
    return x509.Name([*attributes, x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _window(days: int) -> tuple[dt.datetime, dt.datetime]:
    now = dt.datetime.now(dt.UTC)
    return now - dt.timedelta(minutes=5), now + dt.timedelta(days=days)


def _builder(
    subject: x509.Name,
    issuer: x509.Name,
    key: ec.EllipticCurvePrivateKey,
    window: tuple[dt.datetime, dt.datetime],
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(window[0])
        .not_valid_after(window[1])
    )


class CertificateAuthority:
    """A self-signed CA that issues serving and client certificates into one directory.

    Its certificate is written to ``directory/<stem>.crt`` (``stem`` defaults to ``name``).
    """

    def __init__(
        self, name: str, directory: Path, *, stem: str | None = None, days: int = 30
    ) -> None:
        self.directory = directory
        self.days = days
        self._key = ec.generate_private_key(ec.SECP256R1())
        self._name = _subject(name)
        self._cert = (
            _builder(self._name, self._name, self._key, _window(days))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                critical=True,
            )
            .sign(self._key, hashes.SHA256())
        )
        directory.mkdir(parents=True, exist_ok=True)
        self.cert = directory / f"{stem or name}.crt"
        self.cert.write_bytes(_pem_cert(self._cert))

    @property
    def cert_pem(self) -> bytes:
        """The CA certificate, PEM."""
        return _pem_cert(self._cert)

    def write_key(self) -> Path:
        """Write the CA's own private key beside its certificate (a signing pair); its path."""
        path = self.cert.with_suffix(".key")
        path.write_bytes(pem_key(self._key))
        return path

    def issue(
        self,
        stem: str,
        common_name: str,
        *,
        groups: Sequence[str] = (),
        usage: x509.ObjectIdentifier | None = None,
        names: Sequence[x509.GeneralName] = (),
        window: tuple[dt.datetime, dt.datetime] | None = None,
    ) -> KeyPair:
        """A certificate for ``common_name`` (``O`` = each group), written as ``stem``.crt/.key."""
        key = ec.generate_private_key(ec.SECP256R1())
        builder = _builder(
            _subject(common_name, groups), self._name, key, window or _window(self.days)
        )
        if usage is not None:
            builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        if names:
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        pair = KeyPair(self.directory / f"{stem}.crt", self.directory / f"{stem}.key")
        pair.cert.write_bytes(_pem_cert(builder.sign(self._key, hashes.SHA256())))
        pair.key.write_bytes(pem_key(key))
        pair.key.chmod(0o600)
        return pair

    def serving(self, stem: str, common_name: str = "localhost") -> KeyPair:
        """A loopback serving certificate (127.0.0.1, localhost)."""
        usage = ExtendedKeyUsageOID.SERVER_AUTH
        return self.issue(stem, common_name, usage=usage, names=LOOPBACK_NAMES)

    def client(self, stem: str, user: str, groups: Sequence[str] = ()) -> KeyPair:
        """A client certificate; kube-apiserver reads ``CN`` as the user, each ``O`` as a group."""
        return self.issue(stem, user, groups=groups, usage=ExtendedKeyUsageOID.CLIENT_AUTH)


def make_pki(directory: Path) -> Pki:
    """Create a CA, a loopback server certificate, a client certificate and an unrelated CA."""
    ca = CertificateAuthority("tagpilot test CA", directory, stem="ca")
    server = ca.serving("server")
    client = ca.client("client", "tagpilot-client")
    other = CertificateAuthority("unrelated CA", directory, stem="other-ca")
    return Pki(
        ca_cert=ca.cert,
        server_cert=server.cert,
        server_key=server.key,
        client_cert=client.cert,
        client_key=client.key,
        other_ca_cert=other.cert,
    )


def make_signing_pair(directory: Path) -> tuple[Path, Path]:
    """A self-signed key pair for the token service (key path, certificate path)."""
    signer = CertificateAuthority("tagpilot token signer", directory, stem="token")
    return signer.write_key(), signer.cert
