"""Fixtures for the git adapter tests: real sshd and smart HTTP(S) on loopback, bare repos.

The servers live for the whole session; every test gets its own bare repository (served by
all of them, since they share one root) and its own state directory.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from git_helpers import (
    GPG_PASSPHRASE,
    HTTP_PASSWORD,
    HTTP_USER,
    FlowCase,
    GpgKey,
    Remote,
    next_id,
)

from servers.git import GitHttpServer, SshServer, make_bare_repo, run_git_http, run_sshd
from servers.pki import Pki, make_pki
from tagpilot.adapters.git import CommitSpec, GitAuth


@pytest.fixture(scope="session")
def repos_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The directory every test's bare repository lives in."""
    return tmp_path_factory.mktemp("repos")


@pytest.fixture(scope="session")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshServer]:
    """A real OpenSSH server on loopback."""
    with run_sshd(tmp_path_factory.mktemp("sshd")) as server:
        yield server


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    """A CA with a loopback server certificate."""
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="session")
def http_server(repos_root: Path) -> Iterator[GitHttpServer]:
    """Smart HTTP with Basic auth."""
    with run_git_http(repos_root, credentials=f"{HTTP_USER}:{HTTP_PASSWORD}") as server:
        yield server


@pytest.fixture(scope="session")
def https_server(repos_root: Path, pki: Pki) -> Iterator[GitHttpServer]:
    """Smart HTTPS (own CA) with Basic auth."""
    credentials = f"{HTTP_USER}:{HTTP_PASSWORD}"
    tls = (pki.server_cert, pki.server_key)
    with run_git_http(repos_root, credentials=credentials, tls=tls) as server:
        yield server


@pytest.fixture(scope="session")
def mtls_server(repos_root: Path, pki: Pki) -> Iterator[GitHttpServer]:
    """Smart HTTPS that also requires a client certificate from the test CA."""
    tls = (pki.server_cert, pki.server_key)
    with run_git_http(repos_root, tls=tls, client_ca=pki.ca_cert) as server:
        yield server


@pytest.fixture
def remote(repos_root: Path) -> Remote:
    """A fresh bare repository with ``deploy.yaml`` on ``main``."""
    path = repos_root / f"app{next_id()}.git"
    initial = make_bare_repo(path, {"deploy.yaml": "image: app:1.0.0\n"})
    return Remote(path, initial)


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    """The tool's state directory (mirrors live under it)."""
    return tmp_path / "state"


@pytest.fixture
def ssh_auth(sshd: SshServer) -> GitAuth:
    """The right identity and known_hosts for the test sshd."""
    return GitAuth(identity_pem=sshd.client_key, known_hosts=sshd.known_hosts)


@pytest.fixture
def http_auth() -> GitAuth:
    """The right Basic credentials for the test HTTP servers."""
    return GitAuth(username=HTTP_USER, password=HTTP_PASSWORD)


@pytest.fixture
def commit_spec() -> CommitSpec:
    """A fixed author, message and time."""
    when = datetime(2024, 3, 17, 22, 22, 34, tzinfo=UTC)
    return CommitSpec(author_email="bot@example.com", author_name="bot", message="bump", when=when)


@pytest.fixture(scope="session")
def gpg_key(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GpgKey]:
    """A passphrase-protected ed25519 signing key made with the real gpg."""
    home = tmp_path_factory.mktemp("gnupg")
    home.chmod(0o700)
    env = {**os.environ, "GNUPGHOME": str(home)}
    base = ["gpg", "--batch", "--pinentry-mode", "loopback", "--passphrase", GPG_PASSPHRASE]

    def gpg(*args: str) -> bytes:
        return subprocess.run([*base, *args], env=env, capture_output=True, check=True).stdout

    try:
        gpg("--quick-gen-key", "bot <bot@example.com>", "ed25519", "sign", "never")
        yield GpgKey(gpg("--armor", "--export-secret-keys"), GPG_PASSPHRASE, home)
    finally:
        subprocess.run(["gpgconf", "--kill", "gpg-agent"], env=env, check=False)


@pytest.fixture
def ssh_case(sshd: SshServer, ssh_auth: GitAuth, remote: Remote, state_dir: Path,
             commit_spec: CommitSpec) -> FlowCase:  # fmt: skip
    """The test remote over SSH with the right key and known_hosts."""
    return FlowCase(sshd.url(remote.path), ssh_auth, remote, state_dir, commit_spec)


@pytest.fixture
def http_case(http_server: GitHttpServer, http_auth: GitAuth, remote: Remote, state_dir: Path,
              commit_spec: CommitSpec) -> FlowCase:  # fmt: skip
    """The test remote over plain smart HTTP with the right password."""
    return FlowCase(http_server.url(remote.path), http_auth, remote, state_dir, commit_spec)


@pytest.fixture
def https_case(https_server: GitHttpServer, remote: Remote, state_dir: Path,
               commit_spec: CommitSpec) -> FlowCase:  # fmt: skip
    """The test remote over HTTPS; ``auth`` has no CA, each test adds what it checks."""
    auth = GitAuth(username=HTTP_USER, password=HTTP_PASSWORD)
    return FlowCase(https_server.url(remote.path), auth, remote, state_dir, commit_spec)


@pytest.fixture(params=["ssh", "http"])
def any_case(request: pytest.FixtureRequest) -> FlowCase:
    """The test remote over each transport in turn."""
    case: FlowCase = request.getfixturevalue(f"{request.param}_case")
    return case
