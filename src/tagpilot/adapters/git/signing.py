"""Commit signing configuration for one operation: OpenPGP (gpg) or SSH keys.

Called by :mod:`.workspace` when a commit must be signed.  A gpg key is imported into a
per-operation ``GNUPGHOME`` inside the private directory, and git is pointed at a small
wrapper that adds ``--pinentry-mode loopback --passphrase-file`` (the passphrase stays in a
0600 file, never argv).  An SSH key is decrypted in-process and handed to git with
``gpg.format=ssh``.  The agent started by gpg is stopped when the block ends.
"""

from __future__ import annotations

import shlex
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tagpilot.adapters.git.env import GitEnvironment, unlocked_ssh_key, write_private
from tagpilot.adapters.git.model import SigningKey, SigningKeyError

__all__ = ["signing_environment"]

_GPG_TIMEOUT = 30.0


@contextmanager
def signing_environment(
    key: SigningKey | None, environment: GitEnvironment
) -> Iterator[GitEnvironment]:
    """``environment`` configured to sign commits with ``key`` (unchanged when None)."""
    if key is None:
        yield environment
    elif key.kind == "ssh":
        yield _ssh_signing(key, environment)
    else:
        with _gpg_signing(key, environment) as signed:
            yield signed


def _ssh_signing(key: SigningKey, environment: GitEnvironment) -> GitEnvironment:
    path = unlocked_ssh_key(
        key.key, key.passphrase,
        directory=environment.private_dir, name="signing_key", what="SSH signing key",
    )  # fmt: skip
    return environment.with_config([("gpg.format", "ssh"), ("user.signingKey", str(path))])


@contextmanager
def _gpg_signing(key: SigningKey, environment: GitEnvironment) -> Iterator[GitEnvironment]:
    home = environment.private_dir / "gnupg"
    home.mkdir(mode=0o700)
    env = {**environment.env, "GNUPGHOME": str(home)}
    try:
        _gpg(env, "--import", stdin=key.key)
        fingerprint = _fingerprint(env)
        wrapper = _gpg_wrapper(environment.private_dir, home, key.passphrase)
        yield environment.with_env({"GNUPGHOME": str(home)}).with_config(
            [
                ("gpg.format", "openpgp"),
                ("gpg.program", str(wrapper)),
                ("user.signingKey", fingerprint),
            ]
        )
    finally:
        subprocess.run(
            ["gpgconf", "--kill", "gpg-agent"], env=env, capture_output=True, check=False
        )


def _gpg(env: dict[str, str], *args: str, stdin: bytes = b"") -> str:
    done = subprocess.run(
        ["gpg", "--batch", "--no-tty", "--pinentry-mode", "loopback", *args],
        input=stdin,
        env=env,
        capture_output=True,
        timeout=_GPG_TIMEOUT,
        check=False,
    )
    if done.returncode != 0:
        last = done.stderr.decode(errors="replace").strip().splitlines()[-1:]
        raise SigningKeyError(
            "the gpg signing key (git.asc) cannot be imported; it must be an armored "
            f"OpenPGP private key ({'; '.join(last) or 'gpg failed'})"
        )
    return done.stdout.decode(errors="replace")


def _fingerprint(env: dict[str, str]) -> str:
    listing = _gpg(env, "--with-colons", "--list-secret-keys")
    for line in listing.splitlines():
        fields = line.split(":")
        if fields[0] == "fpr":
            return fields[9]
    raise SigningKeyError("the gpg signing key (git.asc) holds no private key")


def _gpg_wrapper(private_dir: Path, home: Path, passphrase: bytes | None) -> Path:
    args = ["gpg", "--homedir", str(home), "--batch", "--no-tty", "--pinentry-mode", "loopback"]
    if passphrase:
        args += ["--passphrase-file", str(write_private(private_dir, "passphrase", passphrase))]
    script = f'#!/bin/sh\nexec {shlex.join(args)} "$@"\n'
    path = write_private(private_dir, "gpg-sign", script.encode())
    path.chmod(0o700)
    return path
