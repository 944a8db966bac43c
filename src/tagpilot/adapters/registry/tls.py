"""TLS settings for registry connections, built in memory from ``certSecretRef`` bytes.

The registry client builds one :class:`ClientTLS` per client from a :class:`TLSConfig`.  As in
Flux, ``ca.crt`` is *added to* the system trust store (not a replacement), and ``tls.crt`` +
``tls.key`` give a client certificate for mTLS.  Python's ``ssl`` can only load a client key
from a file, so the key material lives in a private (0600) temporary file for the duration of
the load and is deleted right after.
"""

from __future__ import annotations

import functools
import os
import ssl
import tempfile
from dataclasses import dataclass, field

from tagpilot.core.errors import InvalidInputError, SourceLocation

__all__ = ["ClientTLS", "TLSConfig", "client_tls"]


@dataclass(frozen=True)
class TLSConfig:
    """PEM material for a registry: extra CA, and an optional client certificate and key."""

    ca_pem: bytes | None = None
    cert_pem: bytes | None = None
    key_pem: bytes | None = field(default=None, repr=False)
    source: str = "certSecretRef"

    def __post_init__(self) -> None:
        if (self.cert_pem is None) != (self.key_pem is None):
            raise InvalidInputError(
                "tls.crt and tls.key must be given together (client certificate and its key)",
                location=SourceLocation(file=self.source),
            )

    def describe_trust(self) -> str:
        """Which CAs verify the server, for error messages."""
        if self.ca_pem:
            return f"system trust store + ca.crt from {self.source}"
        return "system trust store"


class ClientTLS:
    """One client's verifying context; the system CAs are loaded just before the first HTTPS use.

    Loading the system store parses every CA certificate on the machine (tens of milliseconds,
    a quarter of a ``tagpilot scan`` start-up); a scan of a plain-HTTP registry never needs it.
    """

    def __init__(self, config: TLSConfig | None = None) -> None:
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies, checks the host name
        self._system_loaded = False
        if config is not None and config.ca_pem:
            _load_ca(self.context, config.ca_pem, config.source)
        if config is not None and config.cert_pem is not None and config.key_pem is not None:
            _load_client_cert(self.context, config.cert_pem, config.key_pem, config.source)

    @property
    def system_loaded(self) -> bool:
        """Whether the system CAs have been loaded (for tests and benchmarks)."""
        return self._system_loaded

    def before_https(self) -> None:
        """Load the system CAs if not yet done; call before any verified handshake."""
        if not self._system_loaded:
            self.context.load_default_certs(ssl.Purpose.SERVER_AUTH)
            self._system_loaded = True


@functools.cache
def _shared() -> ClientTLS:
    # clients without TLS material share one context, so the system store loads once
    return ClientTLS()


def client_tls(config: TLSConfig | None) -> ClientTLS:
    """The verifying TLS of a client: system CAs (loaded on first use), plus ``config``'s."""
    if config is None or not (config.ca_pem or config.cert_pem):
        return _shared()
    return ClientTLS(config)


def _load_ca(context: ssl.SSLContext, ca_pem: bytes, source: str) -> None:
    try:
        context.load_verify_locations(cadata=ca_pem.decode("ascii"))
    except (ssl.SSLError, UnicodeDecodeError, ValueError) as error:
        raise InvalidInputError(
            "ca.crt is not a PEM certificate (expected '-----BEGIN CERTIFICATE-----')",
            location=SourceLocation(file=source, field="ca.crt"),
        ) from error


def _load_client_cert(context: ssl.SSLContext, cert: bytes, key: bytes, source: str) -> None:
    descriptor, path = tempfile.mkstemp(prefix="tagpilot-tls-", suffix=".pem")
    try:
        os.fchmod(descriptor, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(cert.rstrip(b"\n") + b"\n" + key)
        context.load_cert_chain(path)
    except ssl.SSLError as error:
        raise InvalidInputError(
            "tls.crt/tls.key are not a matching PEM certificate and private key",
            location=SourceLocation(file=source, field="tls.crt"),
        ) from error
    finally:
        os.unlink(path)
