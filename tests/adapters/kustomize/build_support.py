"""Helpers of the Kustomization build tests: age keys and the real ``sops`` to encrypt with."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import pyrage

from tagpilot.adapters.sops import AgeIdentities, parse_identities


@dataclass(frozen=True)
class AgeKey:
    """An age identity (as text) and its recipient."""

    identity: str
    recipient: str

    def identities(self) -> AgeIdentities:
        """The identity as a decryption Secret's ``age.agekey`` entry gives it."""
        return parse_identities(self.identity, source="Secret sops-age key age.agekey")


def make_key() -> AgeKey:
    """A fresh age key pair."""
    identity = pyrage.x25519.Identity.generate()
    return AgeKey(str(identity), str(identity.to_public()))


@dataclass(frozen=True)
class Sops:
    """The real sops binary, offline and isolated from the user's configuration."""

    binary: Path
    home: Path

    def encrypt_in_place(self, file: Path, recipient: str) -> None:
        """Encrypt ``file`` as a Flux user would (Secrets: only ``data``/``stringData``)."""
        args = ["encrypt", "--age", recipient, "--in-place"]
        if file.suffix in (".yaml", ".yml"):
            args += ["--encrypted-regex", "^(data|stringData)$"]
        env = {"HOME": str(self.home), "XDG_CONFIG_HOME": str(self.home), "PATH": ""}
        subprocess.run(
            [str(self.binary), "--disable-version-check", *args, str(file)],
            env=env,
            cwd=file.parent,
            check=True,
            capture_output=True,
        )
