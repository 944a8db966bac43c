"""Sprig's deterministic cryptographic functions: ``derivePassword``, ``decryptAES``...

Sprig's hermetic map also holds functions that draw random numbers (``genPrivateKey``,
``genCA``, the ``gen*Cert`` family, ``encryptAES``, ``bcrypt``, ``htpasswd``,
``randInt``, ``shuffle``); a commit message must come out the same for the same
change, so those stay out (see the package docstring).  ``derivePassword`` runs scrypt
(32 MiB, tens of milliseconds), so each call is charged many steps.  Part of
``functions``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping
from typing import ClassVar

from tagpilot.core.message.calls import STRING, UINT32, CallContext, FuncError, FuncSpec
from tagpilot.core.message.data import GoStruct

__all__ = ["CRYPTO_FUNCS"]

_SEED = b"com.lyndir.masterpassword"
_SCRYPT_STEPS = 60_000  # one scrypt call (0.1-1 s) is worth most of a render
_TEMPLATES = {
    "maximum": ("anoxxxxxxxxxxxxxxxxx", "axxxxxxxxxxxxxxxxxno"),
    "long": (
        *("CvcvnoCvcvCvcv", "CvcvCvcvnoCvcv", "CvcvCvcvCvcvno", "CvccnoCvcvCvcv"),
        *("CvccCvcvnoCvcv", "CvccCvcvCvcvno", "CvcvnoCvccCvcv", "CvcvCvccnoCvcv"),
        *("CvcvCvccCvcvno", "CvcvnoCvcvCvcc", "CvcvCvcvnoCvcc", "CvcvCvcvCvccno"),
        *("CvccnoCvccCvcv", "CvccCvccnoCvcv", "CvccCvccCvcvno", "CvcvnoCvccCvcc"),
        *("CvcvCvccnoCvcc", "CvcvCvccCvccno", "CvccnoCvcvCvcc", "CvccCvcvnoCvcc"),
        "CvccCvcvCvccno",
    ),
    "medium": ("CvcnoCvc", "CvcCvcno"),
    "short": ("Cvcn",),
    "basic": ("aaanaaan", "aannaaan", "aaannaaa"),
    "pin": ("nnnn",),
}
_CHARACTERS = {
    "V": "AEIOU",
    "C": "BCDFGHJKLMNPQRSTVWXYZ",
    "v": "aeiou",
    "c": "bcdfghjklmnpqrstvwxyz",
    "A": "AEIOUBCDFGHJKLMNPQRSTVWXYZ",
    "a": "AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz",
    "n": "0123456789",
    "o": "@&%?,=[]_:-+*$#!'^~;()/.",
    "x": "AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz0123456789!@#$%^&*()",
}


def _derive_password(
    ctx: CallContext, counter: int, kind: str, password: str, user: str, site: str
) -> str:
    """The Master Password algorithm (scrypt key, HMAC-SHA256 seed, character templates)."""
    templates = _TEMPLATES.get(kind)
    if templates is None:
        return f"cannot find password template {kind}"
    ctx.charge(_SCRYPT_STEPS)
    user_raw, site_raw = user.encode(), site.encode()
    salt = _SEED + len(user_raw).to_bytes(4, "big") + user_raw
    key = hashlib.scrypt(password.encode(), salt=salt, n=32768, r=8, p=2, dklen=64, maxmem=2**26)
    message = _SEED + len(site_raw).to_bytes(4, "big") + site_raw + counter.to_bytes(4, "big")
    seed = hmac.new(key, message, hashlib.sha256).digest()
    template = templates[seed[0] % len(templates)]
    return "".join(
        _CHARACTERS[char][seed[index + 1] % len(_CHARACTERS[char])]
        for index, char in enumerate(template)
    )


def _decrypt_aes(ctx: CallContext, password: str, encoded: str) -> str:
    """Sprig's ``decryptAES``: AES-256-CBC, IV first, key = the password's first 32 bytes."""
    if not encoded:
        return ""
    try:
        crypt = base64.b64decode(encoded.encode(), validate=True)
    except (binascii.Error, ValueError):
        raise FuncError("illegal base64 data in input") from None
    if len(crypt) < 16:
        raise FuncError(
            f"runtime error: slice bounds out of range [:16] with capacity {len(crypt)}"
        )
    body = crypt[16:]
    if len(body) % 16:
        raise FuncError("crypto/cipher: input not full blocks")
    if not body:
        raise FuncError("runtime error: index out of range [-1]")
    # Imported here: few templates decrypt, and every command that renders would pay for it.
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes  # noqa: PLC0415

    key = password.encode()[:32].ljust(32, b"\0")
    decryptor = Cipher(algorithms.AES(key), modes.CBC(crypt[:16])).decryptor()
    plain = decryptor.update(body) + decryptor.finalize()
    end = len(plain) - plain[-1]
    if end < 0:
        raise FuncError(f"runtime error: slice bounds out of range [:{end}]")
    return plain[:end].decode(errors="replace")


class _Certificate(GoStruct):
    """Sprig's ``certificate``: PEM text of a certificate and its key."""

    GO_TYPE = "sprig.certificate"
    GO_FIELDS: ClassVar[tuple[tuple[str, str, bool], ...]] = (
        ("Cert", "cert", False),
        ("Key", "key", False),
    )
    GO_METHODS: ClassVar[Mapping[str, str]] = {}

    def __init__(self, cert: str, key: str) -> None:
        self.cert = cert
        self.key = key


def _pem_body(pem: bytes) -> bytes | None:
    lines = pem.decode(errors="replace").splitlines()
    begin = next((i for i, line in enumerate(lines) if line.startswith("-----BEGIN ")), None)
    end = next((i for i, line in enumerate(lines) if line.startswith("-----END ")), None)
    if begin is None or end is None or end <= begin:
        return None
    try:
        return base64.b64decode("".join(lines[begin + 1 : end]))
    except (binascii.Error, ValueError):
        return None


def _build_custom_cert(ctx: CallContext, b64_cert: str, b64_key: str) -> _Certificate:
    try:
        cert = base64.b64decode(b64_cert.encode(), validate=True)
    except (binascii.Error, ValueError):
        raise FuncError("unable to decode base64 certificate") from None
    try:
        key = base64.b64decode(b64_key.encode(), validate=True)
    except (binascii.Error, ValueError):
        raise FuncError("unable to decode base64 private key") from None
    # Imported here: cryptography's x509 takes longer to import than the rest of the templates.
    from cryptography import x509  # noqa: PLC0415
    from cryptography.hazmat.primitives.serialization import load_pem_private_key  # noqa: PLC0415

    der = _pem_body(cert)
    if der is None:
        raise FuncError("unable to decode certificate")
    try:
        x509.load_der_x509_certificate(der)
    except ValueError as error:
        raise FuncError(f"error parsing certificate: decodedCert.Bytes: {error}") from None
    if _pem_body(key) is None:
        raise FuncError("error parsing private key: no PEM data in input")
    try:
        load_pem_private_key(key, password=None)
    except (ValueError, TypeError) as error:
        raise FuncError(f"error parsing private key: {error}") from None
    return _Certificate(cert.decode(errors="replace"), key.decode(errors="replace"))


CRYPTO_FUNCS: tuple[FuncSpec, ...] = (
    FuncSpec("derivePassword", _derive_password, (UINT32, STRING, STRING, STRING, STRING)),
    FuncSpec("decryptAES", _decrypt_aes, (STRING, STRING)),
    FuncSpec("buildCustomCert", _build_custom_cert, (STRING, STRING)),
)
