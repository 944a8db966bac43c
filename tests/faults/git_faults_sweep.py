"""The world the secrets sweep runs in, its known secret values, and the search for them.

Used by ``test_secret_sweep.py``: :class:`World` holds the loopback servers, the cluster and
the secrets (with their encodings: base64 Basic credentials, PEM lines) that must never be
found; the builders write its Secrets (the registry one SOPS-encrypted with age);
:func:`haystacks` lists every place to search and :func:`hits` searches them.
"""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from e2e.e2e_support import DEV, secret, tagpilot_env
from servers.git import SshServer
from servers.pki import Pki
from servers.registry import RunningRegistry
from tagpilot.adapters.store import SqliteStore

__all__ = [
    "AUTOMATION_LINE",
    "GIT_PASSWORD",
    "GIT_USER",
    "REGISTRY_PASSWORD",
    "REGISTRY_USER",
    "SSH_PASSPHRASE",
    "WEBHOOK_TOKEN",
    "WRONG_PASSWORD",
    "World",
    "add_receiver",
    "basic_credentials",
    "encrypted_copy",
    "haystacks",
    "hits",
    "https_values",
    "make_age_key",
    "pem_lines",
    "point_git_at",
    "registry_secret",
    "sops_encrypt",
    "ssh_values",
]

REGISTRY_USER, REGISTRY_PASSWORD = "blaster-dev", "regpw-Qx7Zk2-sweep"
GIT_USER, GIT_PASSWORD = "flux", "gitpw-Hn4Vb8-sweep"
WRONG_PASSWORD = "wrongpw-Mz5Ka0-sweep"
WEBHOOK_TOKEN = "hooktok-Lp3Wd9-sweep"
SSH_PASSPHRASE = "sshpass-Tr6Yc1-sweep"
SOPS = str(Path(sys.executable).parent / "sops")
AUTOMATION_LINE = "ImageUpdateAutomation flux-system/blaster-dev-automation"


def basic_credentials(user: str, password: str) -> str:
    """The base64 ``user:password`` of an HTTP Basic header (a secret in its own right)."""
    return base64.b64encode(f"{user}:{password}".encode()).decode()


def pem_lines(pem: bytes) -> list[str]:
    """The body lines of a PEM block long enough to be unmistakable."""
    return [ln for ln in pem.decode().splitlines() if len(ln) >= 40 and "-----" not in ln]


@dataclass
class World:
    """Everything the sweep runs against, and the secrets it must never find."""

    root: Path
    registry: RunningRegistry
    sshd: SshServer
    https_base: str
    pki: Pki
    bare: Path
    cluster: Path
    age_key: Path
    encrypted_identity: bytes
    recipient: str = ""
    secrets: dict[str, str] = field(default_factory=dict)
    outputs: list[str] = field(default_factory=list)
    argv: list[str] = field(default_factory=list)

    @property
    def state(self) -> Path:
        """tagpilot's state file (the git mirrors live next to it)."""
        return self.root / "state" / "state.db"

    @property
    def temp(self) -> Path:
        """The TMPDIR of every tagpilot process of the sweep."""
        return self.root / "process-tmp"

    def env(self) -> dict[str, str]:
        """tagpilot's environment: its own TMPDIR so every temp file it leaves is found."""
        return {**tagpilot_env(), "TMPDIR": str(self.temp)}


def encrypted_copy(key: bytes, directory: Path) -> bytes:
    """``key`` (OpenSSH PEM) protected with :data:`SSH_PASSPHRASE` by ``ssh-keygen -p``."""
    path = directory / "identity-with-passphrase"
    path.write_bytes(key)
    path.chmod(0o600)
    subprocess.run(
        ["ssh-keygen", "-q", "-p", "-P", "", "-N", SSH_PASSPHRASE, "-f", str(path)],
        check=True, capture_output=True,
    )  # fmt: skip
    return path.read_bytes()


def make_age_key(directory: Path) -> tuple[Path, str, str]:
    """A new age identity file: its path, its recipient and its ``AGE-SECRET-KEY`` line."""
    key = directory / "age.key"
    subprocess.run(["age-keygen", "-o", str(key)], check=True, capture_output=True)
    public = subprocess.run(
        ["age-keygen", "-y", str(key)], check=True, capture_output=True, text=True
    ).stdout.strip()
    private = next(ln for ln in key.read_text().splitlines() if ln.startswith("AGE-SECRET-KEY"))
    return key, public, private


def sops_encrypt(path: Path, recipient: str) -> None:
    """Encrypt the ``data`` of the Secret manifest at ``path`` in place with the real sops."""
    done = subprocess.run(
        [SOPS, "--disable-version-check", "encrypt", "--age", recipient,
         "--encrypted-regex", "^(data|stringData)$", "--in-place", str(path)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


def registry_secret(world: World, password: str, recipient: str) -> None:
    """Write the registry's dockerconfigjson Secret with ``password``, SOPS-encrypted."""
    auth = basic_credentials(REGISTRY_USER, password)
    config = json.dumps({"auths": {world.registry.host: {"auth": auth}}})
    path = world.cluster / "flux-system/secrets/blaster-dev-registry.yaml"
    kind = "kubernetes.io/dockerconfigjson"
    path.write_text(secret("blaster-dev-registry", {".dockerconfigjson": config}, kind))
    sops_encrypt(path, recipient)


def point_git_at(world: World, url: str, values: dict[str, str]) -> None:
    """Point the GitRepository at ``url`` and write its Secret with ``values``."""
    source = world.root / DEV / "source.yaml"
    text = source.read_text()
    current = next(ln for ln in text.splitlines() if ln.strip().startswith("url:"))
    source.write_text(text.replace(current, f"  url: {url}"))
    path = world.cluster / "flux-system/secrets/flux-ssh-auth.yaml"
    path.write_text(secret("flux-ssh-auth", values))


def add_receiver(world: World) -> str:
    """Add a generic Receiver with :data:`WEBHOOK_TOKEN`; return its hook path."""
    (world.cluster / "flux-system/receiver.yaml").write_text(
        "apiVersion: notification.toolkit.fluxcd.io/v1\nkind: Receiver\nmetadata:\n"
        "  name: blaster-ci\n  namespace: flux-system\nspec:\n  type: generic\n"
        "  secretRef:\n    name: webhook-token\n  resources:\n"
        "    - apiVersion: image.toolkit.fluxcd.io/v1\n      kind: ImageRepository\n"
        "      name: blaster-dev-repo\n"
    )
    (world.cluster / "flux-system/secrets/webhook-token.yaml").write_text(
        secret("webhook-token", {"token": WEBHOOK_TOKEN})
    )
    digest = hashlib.sha256(f"{WEBHOOK_TOKEN}blaster-ciflux-system".encode()).hexdigest()
    return f"/hook/{digest}"


def ssh_values(world: World) -> dict[str, str]:
    """The SSH Secret: the passphrase-protected identity, its passphrase, known_hosts."""
    return {
        "identity": world.encrypted_identity.decode(),
        "password": SSH_PASSPHRASE,
        "known_hosts": world.sshd.known_hosts.decode(),
    }


def https_values(world: World, password: str) -> dict[str, str]:
    """The HTTPS Secret: Basic credentials with ``password`` and the private CA."""
    return {"username": GIT_USER, "password": password, "ca.crt": world.pki.ca_cert.read_text()}


def _stored(world: World) -> Iterator[tuple[str, bytes]]:
    store = SqliteStore(world.state)
    try:
        for key, status in store.list_statuses():
            yield f"stored status of {key}", json.dumps(status).encode()
        for event in store.events(limit=100_000):
            yield f"stored event {event!r:.80}", repr(event).encode()
    finally:
        store.close()


def _in_object_store(path: Path) -> bool:
    return "objects" in path.parts and any(p.endswith(".git") for p in path.parts)


def _files(world: World) -> Iterator[tuple[str, bytes]]:
    for base in (world.temp, world.state.parent):
        for path in sorted(base.rglob("*")):
            if path.is_file() and not path.is_symlink() and not _in_object_store(path):
                yield f"file {path.relative_to(world.root)}", path.read_bytes()


def haystacks(world: World) -> Iterator[tuple[str, bytes]]:
    """``(where, text)`` for every log line, argv, stored status and event, and file left."""
    for index, output in enumerate(world.outputs):
        for number, line in enumerate(output.splitlines(), 1):
            yield f"log line {number} of process {index}", line.encode()
    for line in world.argv:
        yield f"argv {line[:100]!r}", line.encode()
    yield from _stored(world)
    yield from _files(world)


def hits(secrets: dict[str, str], places: Iterator[tuple[str, bytes]]) -> list[str]:
    """``"<secret name> in <where>"`` for every secret found (never the value itself)."""
    found = []
    for where, text in places:
        found += [f"{name} in {where}" for name, value in secrets.items() if value.encode() in text]
    return found
