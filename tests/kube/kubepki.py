"""The one key a test control plane needs beyond its two CAs (``servers.pki``): the pair
kube-apiserver signs ServiceAccount tokens with."""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from servers.pki import KeyPair, pem_key

__all__ = ["write_service_account_keys"]


def write_service_account_keys(directory: Path) -> KeyPair:
    """The key pair ServiceAccount tokens are signed (``sa.key``) and verified (``sa.pub``) with."""
    key = ec.generate_private_key(ec.SECP256R1())
    pair = KeyPair(directory / "sa.pub", directory / "sa.key")
    pair.key.write_bytes(pem_key(key))
    pair.key.chmod(0o600)
    pair.cert.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return pair
