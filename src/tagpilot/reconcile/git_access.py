"""From a GitRepository and its Secrets to the git port's inputs (auth, refs, signing).

Key names are Flux's: ``username``/``password`` or ``bearerToken`` for HTTPS, ``identity``
(+ ``password`` as its passphrase) and ``known_hosts`` for SSH, ``ca.crt``/``tls.crt``/
``tls.key`` for TLS; signing keys ``git.asc`` (+ ``passphrase``) or ``identity`` (+ ``password``).
"""

from __future__ import annotations

from tagpilot.api.automation import ImageUpdateAutomation
from tagpilot.api.meta import REASON_GIT_OPERATION_FAILED
from tagpilot.api.source import GitRepository, GitRepositoryRef
from tagpilot.core.secrets import SecretIndex, SecretValue, tls_material
from tagpilot.ports import CheckoutRef, GitAuth, PushSpec, SigningKey

__all__ = ["checkout_ref", "git_auth", "push_spec", "signing_key"]


def _text(value: SecretValue | None) -> str | None:
    return value.text() if value is not None else None


def _raw(value: SecretValue | None) -> bytes | None:
    return value.reveal() if value is not None else None


def git_auth(source: GitRepository, secrets: SecretIndex, *, wanted_by: str) -> GitAuth:
    """Credentials for ``source``'s URL from its ``secretRef`` (anonymous without one)."""
    if source.spec.secret_ref is None:
        return GitAuth()
    secret = secrets.get(
        source.namespace,
        source.spec.secret_ref.name,
        wanted_by=wanted_by,
        reason=REASON_GIT_OPERATION_FAILED,
    )
    tls = tls_material(secret, reason=REASON_GIT_OPERATION_FAILED)
    identity = secret.optional("identity")
    if source.spec.url.startswith("ssh://") and identity is not None:
        secret.require(
            "known_hosts", purpose="verifying the SSH host key", reason=REASON_GIT_OPERATION_FAILED
        )
    return GitAuth(
        username=_text(secret.optional("username")),
        password=None if identity else _text(secret.optional("password")),
        bearer_token=_text(secret.optional("bearerToken")),
        identity_pem=_raw(identity),
        known_hosts=_raw(secret.optional("known_hosts")),
        ca_pem=_raw(tls.ca_pem),
        cert_pem=_raw(tls.cert_pem),
        key_pem=_raw(tls.key_pem),
        identity_passphrase=_raw(secret.optional("password")) if identity else None,
    )


def checkout_ref(auto: ImageUpdateAutomation, source: GitRepository) -> CheckoutRef | None:
    """``spec.git.checkout.ref``, else the GitRepository's ``spec.ref``, else none."""
    git = auto.spec.git
    ref: GitRepositoryRef | None = git.checkout.ref if git and git.checkout else source.spec.ref
    if ref is None:
        return None
    return CheckoutRef(
        branch=ref.branch or "",
        tag=ref.tag or "",
        semver=ref.semver or "",
        name=ref.name or "",
        commit=ref.commit or "",
    )


def push_spec(auto: ImageUpdateAutomation) -> PushSpec | None:
    """``spec.git.push`` as the port wants it."""
    push = auto.spec.git.push if auto.spec.git else None
    if push is None:
        return None
    return PushSpec(push.branch or "", push.refspec or "", dict(push.options or {}))


def signing_key(
    auto: ImageUpdateAutomation, secrets: SecretIndex, *, wanted_by: str
) -> SigningKey | None:
    """The commit signing key from ``spec.git.commit.signingKey``, if any."""
    spec = auto.spec.git.commit.signing_key if auto.spec.git else None
    if spec is None:
        return None
    secret = secrets.get(
        auto.namespace,
        spec.secret_ref.name,
        wanted_by=wanted_by,
        reason=REASON_GIT_OPERATION_FAILED,
    )
    if spec.type == "ssh":
        key = secret.require(
            "identity", purpose="SSH commit signing", reason=REASON_GIT_OPERATION_FAILED
        )
        return SigningKey("ssh", key.reveal(), _raw(secret.optional("password")))
    key = secret.require(
        "git.asc", purpose="OpenPGP commit signing", reason=REASON_GIT_OPERATION_FAILED
    )
    return SigningKey("gpg", key.reveal(), _raw(secret.optional("passphrase")))
