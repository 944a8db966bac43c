"""Why a registry certificate was refused: expired, wrong name, self-signed or unknown CA.

Used by the transport when a TLS handshake fails.  OpenSSL's verification code says which
check failed; for the ones users fix differently (renew the certificate, use the name it was
issued for, trust the right CA) the message says which, and names the certificate's dates,
names and issuer.  Python's ``ssl`` does not hand over the certificate it refused, so for those
it is read again in a second, non-verifying handshake whose only use is the message; nothing
is sent over that connection.  Shared by both registry clients (the async transport reads the
certificate with asyncio, the synchronous lister with :func:`fetch_certificate`).
"""

from __future__ import annotations

import datetime as dt
import functools
import socket
import ssl
from dataclasses import dataclass

from tagpilot.adapters.registry.errors import RegistryTLSError
from tagpilot.core.tags import escape_untrusted
from tagpilot.core.timefmt import rfc3339

__all__ = [
    "DIAGNOSED",
    "NOT_TLS",
    "PROBE_SECONDS",
    "CertificateFacts",
    "certificate_facts",
    "describe_verification",
    "diagnosed_error",
    "fetch_certificate",
    "is_diagnosed",
    "speaks_tls_despite",
    "ssl_cause",
    "tls_error",
    "tls_hint",
    "unverified_context",
]

# OpenSSL X509_V_ERR_* codes
_NOT_YET_VALID = 9
_EXPIRED = 10
_SELF_SIGNED = 18
_SELF_SIGNED_IN_CHAIN = 19
_UNKNOWN_ISSUER = 20
_UNVERIFIABLE_LEAF = 21
_HOSTNAME_MISMATCH = 62
_IP_MISMATCH = 64
DIAGNOSED = frozenset(
    {
        _NOT_YET_VALID,
        _EXPIRED,
        _SELF_SIGNED,
        _SELF_SIGNED_IN_CHAIN,
        _UNKNOWN_ISSUER,
        _UNVERIFIABLE_LEAF,
        _HOSTNAME_MISMATCH,
        _IP_MISMATCH,
    }
)
"""Verification failures whose message is worth a second look at the certificate."""

PROBE_SECONDS = 3.0
"""Longest look at a server outside a request (a bare handshake), when no budget says less."""
_UNTRUSTED = "the server certificate is not trusted; give the registry's CA as ca.crt"
NOT_TLS = (
    "WRONG_VERSION_NUMBER",
    "RECORD_LAYER_FAILURE",
    "PACKET_LENGTH_TOO_LONG",
    "HTTP_REQUEST",
)
"""OpenSSL errors that mean the other end does not speak TLS at all."""
_NOT_FAILURES = (ssl.SSLWantReadError, ssl.SSLWantWriteError)


def ssl_cause(error: BaseException) -> ssl.SSLError | None:
    """The TLS failure behind ``error`` (itself or along its cause chain), if any."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, ssl.SSLError) and not isinstance(seen, _NOT_FAILURES):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def speaks_tls_despite(error: ssl.SSLError) -> bool:
    """Whether a failed handshake still shows that the other end speaks TLS."""
    return not any(marker in str(error) for marker in NOT_TLS)


def is_diagnosed(cause: ssl.SSLError) -> bool:
    """Whether a closer look at the certificate makes the message for ``cause`` better."""
    return isinstance(cause, ssl.SSLCertVerificationError) and cause.verify_code in DIAGNOSED


def tls_error(cause: ssl.SSLError, host: str, trust: str) -> RegistryTLSError:
    """A failed handshake with ``host`` as a tagpilot error; ``trust`` names the CAs used."""
    reason = getattr(cause, "verify_message", None) or cause.reason or str(cause)
    return RegistryTLSError(
        f"TLS with {host} failed: {reason}; trusted CAs: {trust}; {tls_hint(cause)}"
    )


def diagnosed_error(
    cause: ssl.SSLCertVerificationError, facts: CertificateFacts | None, host: str, trust: str
) -> RegistryTLSError:
    """A refused certificate as a tagpilot error, with what its ``facts`` say went wrong."""
    reason, hint = describe_verification(cause, facts)
    return RegistryTLSError(f"TLS with {host} failed: {reason}; trusted CAs: {trust}; {hint}")


@functools.cache
def unverified_context() -> ssl.SSLContext:
    """A context that trusts anything, for handshakes over which nothing is ever sent."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


@dataclass(frozen=True)
class CertificateFacts:
    """What the registry's own certificate says about itself."""

    subject: str
    issuer: str
    not_before: dt.datetime
    not_after: dt.datetime
    names: tuple[str, ...]


def certificate_facts(der: bytes) -> CertificateFacts:
    """What a DER certificate says about itself (loads ``cryptography``: error paths only)."""
    from cryptography import x509  # noqa: PLC0415 - only on this error path

    cert = x509.load_der_x509_certificate(der)
    try:
        alternative = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names = tuple(
            [*alternative.get_values_for_type(x509.DNSName)]
            + [str(ip) for ip in alternative.get_values_for_type(x509.IPAddress)]
        )
    except x509.ExtensionNotFound:
        names = ()
    return CertificateFacts(
        subject=cert.subject.rfc4514_string(),
        issuer=cert.issuer.rfc4514_string(),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        names=names,
    )


def fetch_certificate(host: str, port: int, timeout: float) -> CertificateFacts | None:
    """The server's leaf certificate, read without verifying it; ``None`` if that fails."""
    try:
        seconds = min(timeout, PROBE_SECONDS)
        with (
            socket.create_connection((host, port), timeout=seconds) as raw,
            unverified_context().wrap_socket(raw, server_hostname=host) as tls,
        ):
            der = tls.getpeercert(binary_form=True)
        return certificate_facts(der) if der else None
    except (OSError, ValueError):
        return None


def _shown(text: str) -> str:
    return escape_untrusted(text, 120).strip("'\"")


def describe_verification(
    cause: ssl.SSLCertVerificationError, facts: CertificateFacts | None
) -> tuple[str, str]:
    """(what failed, what to do) for a certificate verification failure."""
    code = cause.verify_code
    reason = cause.verify_message or str(cause)
    if facts is None:
        return reason, tls_hint(cause)
    if code == _EXPIRED:
        if facts.not_after < dt.datetime.now(dt.UTC):
            return (
                f"the registry's certificate expired on {rfc3339(facts.not_after)}"
                f" (subject {_shown(facts.subject)})",
                "renew the certificate on the registry; the CA was not the problem",
            )
        return (
            f"a certificate in the registry's chain has expired (the server's own is valid"
            f" until {rfc3339(facts.not_after)})",
            "renew the expired intermediate certificate on the registry",
        )
    if code == _NOT_YET_VALID:
        return (
            f"the registry's certificate is not valid before {rfc3339(facts.not_before)}",
            "check this machine's clock, or wait until the certificate becomes valid",
        )
    if code in (_HOSTNAME_MISMATCH, _IP_MISMATCH):
        names = ", ".join(_shown(name) for name in facts.names) or _shown(facts.subject)
        return (
            f"{reason.rstrip('.')} (the certificate names: {names})",
            "use a registry address the certificate names, or reissue it with this name",
        )
    if code == _SELF_SIGNED:
        return (
            f"the registry presents a self-signed certificate ({_shown(facts.subject)})",
            "if you trust it, give that certificate as ca.crt",
        )
    return (
        f"{reason} (issuer {_shown(facts.issuer)})",
        _UNTRUSTED,
    )


def tls_hint(cause: ssl.SSLError) -> str:
    """What to do about a TLS failure, from OpenSSL's error text alone."""
    text = str(cause)
    if "CERTIFICATE_VERIFY_FAILED" in text:
        return _UNTRUSTED
    if any(alert in text for alert in ("CERTIFICATE_REQUIRED", "BAD_CERTIFICATE", "HANDSHAKE")):
        return "the registry wants a client certificate it trusts; give tls.crt and tls.key"
    if "WRONG_VERSION_NUMBER" in text:
        return "the registry does not speak TLS on this port; use insecure: true for plain HTTP"
    return "check the registry's TLS settings"
