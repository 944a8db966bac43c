"""The seeds' Blaster flow end to end, with every piece real.

GitLab CI pushes ``dev-YYYYMMDD.N`` tags to a registry behind a deploy-token login; the
cluster repo holds the runbook's ImageRepository, ImagePolicy, ImageUpdateAutomation and
GitRepository (SSH, ``flux-ssh-auth``); the app repo's ``k8s/dev/50-app-deployment.yaml``
carries the marker.  ``tagpilot reconcile --once`` runs as its own process and must push one
commit with the runbook's ``[skip ci]`` message to ``develop`` — and nothing on a rerun.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e_support import (
    FIRST_TAGS,
    TOKEN,
    USER,
    app_repo,
    secret,
    tagpilot,
    write_cluster,
)

from servers.git import SshServer, git, run_sshd
from servers.ocipush import seed
from servers.registry import RunningRegistry, run_registry, write_htpasswd
from tagpilot.adapters.store import SqliteStore


def _ssh_cluster(tmp: Path, registry: RunningRegistry, sshd: SshServer, bare: Path) -> Path:
    identity = {"identity": sshd.client_key.decode(), "known_hosts": sshd.known_hosts.decode()}
    return write_cluster(tmp, registry, sshd.url(bare), identity)


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshServer]:
    with run_sshd(tmp_path_factory.mktemp("sshd")) as server:
        yield server


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[RunningRegistry]:
    htpasswd = write_htpasswd(tmp_path / "htpasswd", {USER: TOKEN})
    with run_registry(tmp_path / "registry", htpasswd=htpasswd) as running:
        seed(running.url, "games/blaster", FIRST_TAGS, user=USER, password=TOKEN)
        yield running


def test_a_new_dev_tag_lands_as_one_skip_ci_commit_on_develop(
    tmp_path: Path, registry: RunningRegistry, sshd: SshServer, state_home: Path
) -> None:
    bare = app_repo(tmp_path, registry)
    cluster = _ssh_cluster(tmp_path, registry, sshd, bare)
    before = git("rev-parse", "develop", cwd=bare)

    run = tagpilot("reconcile", str(cluster), "--once", cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr

    image = f"{registry.host}/games/blaster"
    assert git("rev-parse", "develop~1", cwd=bare) == before
    message = git("log", "-1", "--format=%B", "develop", cwd=bare)
    assert message.strip() == (f"{image}:dev-20251115.42 -> {image}:dev-20251115.51\n [skip ci]")
    author = git("log", "-1", "--format=%an <%ae>", "develop", cwd=bare)
    assert author == "FluxCD <andrew@reids.net.au>"
    diff = git("diff", "develop~1", "develop", cwd=bare)
    assert f'-          image: {image}:dev-20251115.42 # {{"$imagepolicy"' in diff
    assert f'+          image: {image}:dev-20251115.51 # {{"$imagepolicy"' in diff
    assert diff.count("\n+") == 2  # the +++ header and the one changed line
    assert "pushed commit" in run.stdout
    assert not (tmp_path / ".tagpilot").exists(), "state stays out of the working directory"
    (history,) = SqliteStore(state_home / "tagpilot/state.db").runs(
        "flux-system", "blaster-dev-automation"
    )
    assert history.commit == git("rev-parse", "develop", cwd=bare)
    assert [(c["old"], c["new"]) for c in history.changes] == [
        (f"{image}:dev-20251115.42", f"{image}:dev-20251115.51")
    ]

    again = tagpilot("reconcile", str(cluster), "--once", cwd=tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr
    assert git("rev-parse", "develop~1", cwd=bare) == before, "a rerun must not commit"


def test_dry_run_shows_the_diff_and_message_and_pushes_nothing(
    tmp_path: Path, registry: RunningRegistry, sshd: SshServer, state_home: Path
) -> None:
    bare = app_repo(tmp_path, registry)
    cluster = _ssh_cluster(tmp_path, registry, sshd, bare)
    before = git("rev-parse", "develop", cwd=bare)

    run = tagpilot("reconcile", str(cluster), "--once", "--dry-run", cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "+          image: " in run.stdout and "dev-20251115.51" in run.stdout
    assert "commit message:" in run.stdout and "[skip ci]" in run.stdout
    assert git("rev-parse", "develop", cwd=bare) == before
    assert not (state_home / "tagpilot").exists(), "a dry run writes no state"
    assert not (tmp_path / ".tagpilot").exists(), "nor git mirrors in the working directory"


def test_a_wrong_host_key_fails_the_run_without_pushing(
    tmp_path: Path, registry: RunningRegistry, sshd: SshServer
) -> None:
    bare = app_repo(tmp_path, registry)
    cluster = _ssh_cluster(tmp_path, registry, sshd, bare)
    manifest = cluster / "flux-system/secrets/flux-ssh-auth.yaml"
    other_key = "AAAAC3NzaC1lZDI1NTE5AAAAIKXV1iQ0qC7y3yqS4bVh2kD9yq0y1yqS4bVh2kD9yq0y"
    wrong = f"[127.0.0.1]:{sshd.port} ssh-ed25519 {other_key}\n"
    manifest.write_text(
        secret("flux-ssh-auth", {"identity": sshd.client_key.decode(), "known_hosts": wrong})
    )
    before = git("rev-parse", "develop", cwd=bare)
    run = tagpilot("reconcile", str(cluster), "--once", cwd=tmp_path)
    assert run.returncode == 1
    assert "✗ ImageUpdateAutomation flux-system/blaster-dev-automation" in run.stdout
    assert "BEGIN OPENSSH PRIVATE KEY" not in run.stdout + run.stderr
    assert git("rev-parse", "develop", cwd=bare) == before
