"""The TLS context of a kube client, built in memory from a :class:`KubeConfig`.

As in client-go, a kubeconfig CA *replaces* the system trust store (the apiserver's CA is
private), and no CA means the system store.  Python's ``ssl`` loads a client key only from a
file name; on Linux the PEM goes to an anonymous memory file (``memfd``) read through
``/proc/self/fd``, so key material never touches a disk.  Elsewhere it goes to a private
(0700) temporary directory holding one 0600 file, removed right after the load.
"""

from __future__ import annotations

import os
import ssl
import tempfile
from pathlib import Path

from tagpilot.adapters.kube.config import KubeConfig
from tagpilot.core.errors import InvalidInputError

__all__ = ["ssl_context"]


def ssl_context(config: KubeConfig) -> ssl.SSLContext:
    """A client context that verifies the apiserver (unless told not to) and presents the cert."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if config.insecure_skip_tls_verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    elif config.ca_pem:
        try:
            context.load_verify_locations(cadata=config.ca_pem.decode("ascii"))
        except (ssl.SSLError, UnicodeDecodeError, ValueError) as error:
            raise InvalidInputError(
                f"the certificate authority for {config.server} is not a PEM certificate"
            ) from error
    else:
        context.load_default_certs(ssl.Purpose.SERVER_AUTH)
    if config.cert_pem is not None and config.key_pem is not None:
        try:
            _load_client_cert(context, config.cert_pem.rstrip(b"\n") + b"\n" + config.key_pem)
        except ssl.SSLError as error:
            raise InvalidInputError(
                f"the client certificate and key for {config.server} are not a matching PEM "
                "certificate and private key"
            ) from error
    return context


def _load_client_cert(context: ssl.SSLContext, pem: bytes) -> None:
    if hasattr(os, "memfd_create") and Path("/proc/self/fd").is_dir():
        descriptor = os.memfd_create("tagpilot-kube-client", os.MFD_CLOEXEC)
        try:
            os.write(descriptor, pem)
            context.load_cert_chain(f"/proc/self/fd/{descriptor}")
        finally:
            os.close(descriptor)
        return
    with tempfile.TemporaryDirectory(prefix="tagpilot-kube-") as directory:
        path = Path(directory) / "client.pem"
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(pem)
        context.load_cert_chain(path)
