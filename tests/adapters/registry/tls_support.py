"""Certificates that fail verification in one known way each: expired, not yet valid, issued for
another name, self-signed.  Made with ``cryptography`` beside a CA the client does trust, so
the one designed flaw is the only reason a handshake fails.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509

from servers.pki import LOOPBACK_NAMES, CertificateAuthority

__all__ = ["EXPIRED_ON", "FlawedCerts", "make_flawed_certs"]

EXPIRED_ON = dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.UTC)
"""When the expired certificate stopped being valid."""
VALID_FROM = dt.datetime(2099, 1, 1, tzinfo=dt.UTC)
"""When the not-yet-valid certificate starts being valid."""


@dataclass(frozen=True)
class FlawedCerts:
    """The trusted CA and, per flaw, a (certificate, key) pair of PEM file paths."""

    ca_cert: Path
    by_flaw: dict[str, tuple[Path, Path]]


def make_flawed_certs(directory: Path) -> FlawedCerts:
    """A CA and four server certificates for 127.0.0.1, each with one flaw."""
    ca = CertificateAuthority("flawed-certs test CA", directory, stem="ca")
    expired = ca.issue(
        "expired", "127.0.0.1", names=LOOPBACK_NAMES,
        window=(EXPIRED_ON - dt.timedelta(days=90), EXPIRED_ON),
    )  # fmt: skip
    not_yet_valid = ca.issue(
        "not-yet-valid", "127.0.0.1", names=LOOPBACK_NAMES,
        window=(VALID_FROM, VALID_FROM.replace(year=2100)),
    )  # fmt: skip
    wrong_name = ca.issue(
        "wrong-name", "registry.example", names=[x509.DNSName("registry.example")]
    )
    self_signed = CertificateAuthority("self-signed registry", directory, stem="self-signed")
    by_flaw = {
        "expired": (expired.cert, expired.key),
        "not-yet-valid": (not_yet_valid.cert, not_yet_valid.key),
        "wrong-name": (wrong_name.cert, wrong_name.key),
        "self-signed": (self_signed.cert, self_signed.write_key()),
    }
    return FlawedCerts(ca.cert, by_flaw)
