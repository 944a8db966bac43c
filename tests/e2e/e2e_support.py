"""Builders shared by the end-to-end tests: the runbook's cluster and app repo on loopback."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

from servers.git import make_bare_repo
from servers.manifests import secret
from servers.registry import RunningRegistry

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "blaster"
DEV = "clusters/my-cluster/blaster/dev"
USER, TOKEN = "blaster-dev", "gldt-deploy-token-value"
DEPLOYMENT = "k8s/dev/50-app-deployment.yaml"
FIRST_TAGS = ["dev-20251115.42", "dev-20251115.51", "latest"]


def write_cluster(
    tmp: Path, registry: RunningRegistry, app_url: str, git_secret: dict[str, str]
) -> Path:
    """The runbook's cluster directory pointed at the loopback registry and git server."""
    cluster = tmp / "clusters/my-cluster"
    dev = tmp / DEV
    dev.mkdir(parents=True)
    images = (EXAMPLE / DEV / "20-blaster-images-dev.yaml").read_text()
    (dev / "20-blaster-images-dev.yaml").write_text(
        images.replace("registry.reids.net.au", registry.host)
    )
    (dev / "30-image-automation.yaml").write_text(
        (EXAMPLE / DEV / "30-image-automation.yaml").read_text()
    )
    (dev / "source.yaml").write_text(
        (EXAMPLE / DEV / "source.yaml")
        .read_text()
        .replace("ssh://git-ssh.reids.net.au/games/blaster.git", app_url)
    )
    auth = base64.b64encode(f"{USER}:{TOKEN}".encode()).decode()
    config = json.dumps({"auths": {registry.host: {"auth": auth}}})
    secrets = cluster / "flux-system/secrets"
    secrets.mkdir(parents=True)
    (secrets / "blaster-dev-registry.yaml").write_text(
        secret(
            "blaster-dev-registry", {".dockerconfigjson": config}, "kubernetes.io/dockerconfigjson"
        )
    )
    (secrets / "flux-ssh-auth.yaml").write_text(secret("flux-ssh-auth", git_secret))
    return cluster


def app_repo(tmp: Path, registry: RunningRegistry, repos: Path | None = None) -> Path:
    """The app repository (``develop``) with the runbook's marked Deployment."""
    deployment = (EXAMPLE / "app" / DEPLOYMENT).read_text()
    deployment = deployment.replace("registry.reids.net.au", registry.host)
    bare = (repos or tmp) / "blaster.git"
    make_bare_repo(bare, {DEPLOYMENT: deployment, "README.md": "blaster\n"}, branch="develop")
    return bare


def tagpilot_env() -> dict[str, str]:
    """The environment for a tagpilot process: no SOPS keys from the developer's shell."""
    return {k: v for k, v in os.environ.items() if not k.startswith("SOPS_")}


def tagpilot(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the CLI as its own process and wait for it."""
    return subprocess.run(
        [sys.executable, "-m", "tagpilot", *args], cwd=cwd, env=tagpilot_env(),
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
