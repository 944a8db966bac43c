"""The keys of a Flux Git credentials Secret, as ``flux create secret git`` fills them.

HTTP/S: ``username`` + ``password``, or ``bearerToken``, and optionally ``ca.crt``.
SSH: ``identity`` (private key), ``identity.pub`` (its public key), ``known_hosts`` and,
for an encrypted key, ``password``.  A key pair is generated when none is given (ECDSA
P-384 by default, like Flux).  Host keys are never fetched here: the caller passes them.
Called by ``tagpilot create secret git``; values in, values out (no files, no network).
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from tagpilot.core.errors import InvalidInputError

__all__ = ["SshKeyOptions", "http_auth_values", "ssh_auth_values"]

_CURVES: dict[str, ec.EllipticCurve] = {
    "p256": ec.SECP256R1(),
    "p384": ec.SECP384R1(),
    "p521": ec.SECP521R1(),
}


@dataclass(frozen=True)
class SshKeyOptions:
    """How to generate a key pair when no private key is given."""

    algorithm: str = "ecdsa"
    ecdsa_curve: str = "p384"
    rsa_bits: int = 2048


def http_auth_values(
    username: str, password: str, bearer_token: str, ca_crt: str = ""
) -> dict[str, str]:
    """``stringData`` for HTTP/S: basic auth or a bearer token (not both), optional CA."""
    if (not username or not password) and not bearer_token:
        raise InvalidInputError(
            "for Git over HTTP/S the username and password, or a bearer token is required"
        )
    if username and password and bearer_token:
        raise InvalidInputError("user credentials and bearer token cannot be used together")
    values: dict[str, str] = {}
    if username and password:
        values.update(username=username, password=password)
    if bearer_token:
        values["bearerToken"] = bearer_token
    if ca_crt:
        values["ca.crt"] = ca_crt
    return values


def _generate(options: SshKeyOptions) -> bytes:
    key: ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey
    if options.algorithm == "ecdsa":
        if options.ecdsa_curve not in _CURVES:
            raise InvalidInputError(
                f"unsupported ECDSA curve '{options.ecdsa_curve}': use p256, p384 or p521"
            )
        key = ec.generate_private_key(_CURVES[options.ecdsa_curve])
    elif options.algorithm == "ed25519":
        key = ed25519.Ed25519PrivateKey.generate()
    elif options.algorithm == "rsa":
        key = rsa.generate_private_key(public_exponent=65537, key_size=options.rsa_bits)
    else:
        raise InvalidInputError(f"unsupported public key algorithm: {options.algorithm}")
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    )


def _public_key(private_key: bytes, password: str) -> str:
    secret = password.encode() if password else None
    try:
        if b"OPENSSH PRIVATE KEY" in private_key:
            key = serialization.load_ssh_private_key(private_key, secret)
        else:
            key = serialization.load_pem_private_key(private_key, secret)  # type: ignore[assignment]
    except (ValueError, TypeError) as error:
        raise InvalidInputError(f"cannot read the private key: {error}") from None
    public = key.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    return public.decode() + "\n"


def ssh_auth_values(
    private_key: bytes | None,
    known_hosts: str,
    password: str = "",
    options: SshKeyOptions | None = None,
) -> dict[str, str]:
    """``stringData`` for SSH: identity, identity.pub, known_hosts (and password if given)."""
    if not known_hosts.strip():
        raise InvalidInputError(
            "tagpilot does not fetch SSH host keys over the network: pass --known-hosts-file "
            "(e.g. the output of ssh-keyscan HOST, checked out of band)"
        )
    key = private_key if private_key is not None else _generate(options or SshKeyOptions())
    values = {
        "identity": key.decode(),
        "identity.pub": _public_key(key, password),
        "known_hosts": known_hosts.strip(),
    }
    if password:
        values["password"] = password
    return values
