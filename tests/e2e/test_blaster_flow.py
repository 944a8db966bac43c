"""The seeds' Blaster flow end to end, with every piece real.

GitLab CI pushes ``dev-YYYYMMDD.N`` tags to a registry behind a deploy-token login; the
cluster repo holds the runbook's ImageRepository, ImagePolicy, ImageUpdateAutomation and
GitRepository (SSH, ``flux-ssh-auth``); the app repo's ``k8s/dev/50-app-deployment.yaml``
carries the marker.  ``tagpilot reconcile --once`` runs as its own process and must push one
commit with the runbook's ``[skip ci]`` message to ``develop`` — and nothing on a rerun.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from servers.git import SshServer, git, make_bare_repo, run_sshd
from servers.ocipush import seed
from servers.registry import RunningRegistry, run_registry, write_htpasswd

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "blaster"
USER, TOKEN = "blaster-dev", "gldt-deploy-token-value"
DEPLOYMENT = "k8s/dev/50-app-deployment.yaml"


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshServer]:
    with run_sshd(tmp_path_factory.mktemp("sshd")) as server:
        yield server


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[RunningRegistry]:
    htpasswd = write_htpasswd(tmp_path / "htpasswd", {USER: TOKEN})
    with run_registry(tmp_path / "registry", htpasswd=htpasswd) as running:
        seed(
            running.url,
            "games/blaster",
            ["dev-20251115.42", "dev-20251115.51", "latest"],
            user=USER,
            password=TOKEN,
        )
        yield running


def _secret(name: str, values: dict[str, str], kind: str = "Opaque") -> str:
    data = {k: base64.b64encode(v.encode()).decode() for k, v in values.items()}
    body = "\n".join(f"  {k}: {v}" for k, v in data.items())
    return (
        f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\n"
        f"  namespace: flux-system\ntype: {kind}\ndata:\n{body}\n"
    )


def _cluster(tmp: Path, registry: RunningRegistry, sshd: SshServer, app_url: str) -> Path:
    """The runbook's cluster directory, pointed at the loopback registry and sshd."""
    cluster = tmp / "clusters/my-cluster"
    dev = cluster / "blaster/dev"
    dev.mkdir(parents=True)
    source = EXAMPLE / "clusters/my-cluster/blaster/dev"
    images = (source / "20-blaster-images-dev.yaml").read_text()
    images = images.replace("registry.reids.net.au", registry.host)
    (dev / "20-blaster-images-dev.yaml").write_text(images)
    (dev / "30-image-automation.yaml").write_text((source / "30-image-automation.yaml").read_text())
    (dev / "source.yaml").write_text(
        (source / "source.yaml")
        .read_text()
        .replace("ssh://git-ssh.reids.net.au/games/blaster.git", app_url)
    )
    auth = base64.b64encode(f"{USER}:{TOKEN}".encode()).decode()
    config = json.dumps(
        {"auths": {registry.host: {"username": USER, "password": TOKEN, "auth": auth}}}
    )
    secrets = cluster / "flux-system/secrets"
    secrets.mkdir(parents=True)
    (secrets / "blaster-dev-registry.yaml").write_text(
        _secret(
            "blaster-dev-registry", {".dockerconfigjson": config}, "kubernetes.io/dockerconfigjson"
        )
    )
    (secrets / "flux-ssh-auth.yaml").write_text(
        _secret(
            "flux-ssh-auth",
            {"identity": sshd.client_key.decode(), "known_hosts": sshd.known_hosts.decode()},
        )
    )
    return cluster


def _app_repo(tmp: Path, registry: RunningRegistry) -> Path:
    deployment = (EXAMPLE / "app" / DEPLOYMENT).read_text()
    deployment = deployment.replace("registry.reids.net.au", registry.host)
    bare = tmp / "blaster.git"
    make_bare_repo(bare, {DEPLOYMENT: deployment, "README.md": "blaster\n"}, branch="develop")
    return bare


def _tagpilot(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOPS_")}
    return subprocess.run(
        [sys.executable, "-m", "tagpilot", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_new_dev_tag_lands_as_one_skip_ci_commit_on_develop(
    tmp_path: Path, registry: RunningRegistry, sshd: SshServer
) -> None:
    bare = _app_repo(tmp_path, registry)
    cluster = _cluster(tmp_path, registry, sshd, sshd.url(bare))
    before = git("rev-parse", "develop", cwd=bare)

    run = _tagpilot("reconcile", str(cluster), "--once", cwd=tmp_path)
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

    again = _tagpilot("reconcile", str(cluster), "--once", cwd=tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr
    assert git("rev-parse", "develop~1", cwd=bare) == before, "a rerun must not commit"


def test_dry_run_shows_the_diff_and_message_and_pushes_nothing(
    tmp_path: Path, registry: RunningRegistry, sshd: SshServer
) -> None:
    bare = _app_repo(tmp_path, registry)
    cluster = _cluster(tmp_path, registry, sshd, sshd.url(bare))
    before = git("rev-parse", "develop", cwd=bare)

    run = _tagpilot("reconcile", str(cluster), "--once", "--dry-run", cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "+          image: " in run.stdout and "dev-20251115.51" in run.stdout
    assert "commit message:" in run.stdout and "[skip ci]" in run.stdout
    assert git("rev-parse", "develop", cwd=bare) == before
    assert not (tmp_path / ".tagpilot/state.db").exists()


def test_a_wrong_host_key_fails_the_run_without_pushing(
    tmp_path: Path, registry: RunningRegistry, sshd: SshServer
) -> None:
    bare = _app_repo(tmp_path, registry)
    cluster = _cluster(tmp_path, registry, sshd, sshd.url(bare))
    secret = cluster / "flux-system/secrets/flux-ssh-auth.yaml"
    other_key = "AAAAC3NzaC1lZDI1NTE5AAAAIKXV1iQ0qC7y3yqS4bVh2kD9yq0y1yqS4bVh2kD9yq0y"
    wrong = f"[127.0.0.1]:{sshd.port} ssh-ed25519 {other_key}\n"
    secret.write_text(
        _secret("flux-ssh-auth", {"identity": sshd.client_key.decode(), "known_hosts": wrong})
    )
    before = git("rev-parse", "develop", cwd=bare)
    run = _tagpilot("reconcile", str(cluster), "--once", cwd=tmp_path)
    assert run.returncode == 1
    assert "✗ ImageUpdateAutomation flux-system/blaster-dev-automation" in run.stdout
    assert "BEGIN OPENSSH PRIVATE KEY" not in run.stdout + run.stderr
    assert git("rev-parse", "develop", cwd=bare) == before
