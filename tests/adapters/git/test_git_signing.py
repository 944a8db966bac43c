"""Signed automation commits: OpenPGP and SSH keys, checked with ``git verify-commit``."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from git_helpers import FlowCase, GpgKey, set_image

from tagpilot.adapters.git import SigningKey, SigningKeyError


def _signed_run(case: FlowCase, key: SigningKey) -> str:
    result = case.run(set_image("2.0.0"), signing=key)
    assert result.pushed_commit
    return result.pushed_commit


def test_a_gpg_signed_commit_verifies(ssh_case: FlowCase, gpg_key: GpgKey) -> None:
    key = SigningKey("gpg", gpg_key.armored, gpg_key.passphrase.encode())
    sha = _signed_run(ssh_case, key)
    verified = subprocess.run(
        ["git", "verify-commit", "--raw", sha],
        cwd=ssh_case.remote.path, env={**os.environ, "GNUPGHOME": str(gpg_key.home)},
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert verified.returncode == 0, verified.stderr
    assert "GOODSIG" in verified.stderr


def test_a_gpg_key_with_the_wrong_passphrase_fails_without_pushing(
    ssh_case: FlowCase, gpg_key: GpgKey
) -> None:
    key = SigningKey("gpg", gpg_key.armored, b"not-the-passphrase")
    with pytest.raises(SigningKeyError, match="signing the commit failed") as caught:
        _signed_run(ssh_case, key)
    assert "not-the-passphrase" not in str(caught.value)
    assert ssh_case.remote.head("main") == ssh_case.remote.initial


def test_garbage_as_a_gpg_key_is_a_signing_key_error(ssh_case: FlowCase) -> None:
    with pytest.raises(SigningKeyError, match=r"git\.asc"):
        _signed_run(ssh_case, SigningKey("gpg", b"nope"))


@pytest.mark.parametrize(
    "passphrase",
    [pytest.param(None, id="plain-key"), pytest.param(b"ssh-pass-7", id="encrypted-key")],
)
def test_an_ssh_signed_commit_verifies(
    passphrase: bytes | None, ssh_case: FlowCase, tmp_path: Path
) -> None:
    key_path = tmp_path / "signer"
    phrase = (passphrase or b"").decode()
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", phrase, "-f", str(key_path)], check=True
    )
    sha = _signed_run(ssh_case, SigningKey("ssh", key_path.read_bytes(), passphrase))
    signers = tmp_path / "allowed_signers"
    signers.write_text(f"bot@example.com {key_path.with_suffix('.pub').read_text()}")
    verified = subprocess.run(
        ["git", "-c", "gpg.format=ssh", "-c", f"gpg.ssh.allowedSignersFile={signers}",
         "verify-commit", sha],
        cwd=ssh_case.remote.path, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert verified.returncode == 0, verified.stderr
    assert 'Good "git" signature for bot@example.com' in verified.stderr
