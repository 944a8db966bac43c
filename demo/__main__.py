"""``make demo``: push a tag, let tagpilot pick it and commit it, show the commit.

Starts Debian's ``docker-registry`` (with a deploy-token login) and a git smart-HTTP server
on loopback, seeds the app repository with the runbook's marked Deployment and the cluster
directory with the runbook's Flux objects, then plays GitLab CI: pushes
``dev-20251115.51`` and runs ``tagpilot reconcile --once`` — first as a dry run, then for
real — and prints the commit tagpilot pushed.  Everything stops and is removed at the end.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from servers.git import GitHttpServer, git, make_bare_repo, run_git_http  # noqa: E402
from servers.ocipush import seed  # noqa: E402
from servers.registry import RunningRegistry, run_registry, write_htpasswd  # noqa: E402

EXAMPLE = ROOT / "examples" / "blaster"
DEV = "clusters/my-cluster/blaster/dev"
DEPLOYMENT = "k8s/dev/50-app-deployment.yaml"
REGISTRY_USER, REGISTRY_TOKEN = "blaster-dev", "demo-deploy-token"
GIT_USER, GIT_PASSWORD = "flux", "demo-git-password"


def say(text: str) -> None:
    """A step heading."""
    print(f"\n\033[1m== {text}\033[0m", flush=True)


def tagpilot(*args: str, cwd: Path) -> int:
    """Run the real CLI as a separate process, showing the command and its output."""
    print(f"$ tagpilot {' '.join(args)}", flush=True)
    return subprocess.run(
        [sys.executable, "-m", "tagpilot", *args], cwd=cwd, check=False
    ).returncode


def secret(name: str, values: dict[str, str], kind: str = "Opaque") -> str:
    """A Secret manifest with base64 ``data``."""
    data = "\n".join(
        f"  {key}: {base64.b64encode(value.encode()).decode()}" for key, value in values.items()
    )
    return (
        f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\n"
        f"  namespace: flux-system\ntype: {kind}\ndata:\n{data}\n"
    )


def write_cluster(work: Path, registry: RunningRegistry, server: GitHttpServer) -> Path:
    """The runbook's cluster directory, pointed at the loopback registry and git server."""
    dev = work / DEV
    dev.mkdir(parents=True)
    for name in ("20-blaster-images-dev.yaml", "30-image-automation.yaml"):
        text = (EXAMPLE / DEV / name).read_text()
        (dev / name).write_text(text.replace("registry.reids.net.au", registry.host))
    source = (EXAMPLE / DEV / "source.yaml").read_text()
    source = source.replace(
        "ssh://git-ssh.reids.net.au/games/blaster.git", f"{server.base_url}/blaster.git"
    )
    (dev / "source.yaml").write_text(source.replace("flux-ssh-auth", "flux-http-auth"))
    auths = {registry.host: {"username": REGISTRY_USER, "password": REGISTRY_TOKEN}}
    secrets = work / "clusters/my-cluster/flux-system/secrets"
    secrets.mkdir(parents=True)
    (secrets / "blaster-dev-registry.yaml").write_text(
        secret(
            "blaster-dev-registry",
            {".dockerconfigjson": json.dumps({"auths": auths})},
            "kubernetes.io/dockerconfigjson",
        )
    )
    (secrets / "flux-http-auth.yaml").write_text(
        secret("flux-http-auth", {"username": GIT_USER, "password": GIT_PASSWORD})
    )
    return work / "clusters/my-cluster"


def main() -> int:
    """Run the demo; 0 when tagpilot pushed the expected commit."""
    with tempfile.TemporaryDirectory(prefix="tagpilot-demo-") as scratch, ExitStack() as stack:
        work = Path(scratch)
        say("starting a registry (deploy-token login) and a git server on loopback")
        htpasswd = write_htpasswd(work / "htpasswd", {REGISTRY_USER: REGISTRY_TOKEN})
        registry = stack.enter_context(run_registry(work / "registry", htpasswd=htpasswd))
        repos = work / "repos"
        repos.mkdir()
        server = stack.enter_context(run_git_http(repos, credentials=f"{GIT_USER}:{GIT_PASSWORD}"))
        print(f"registry {registry.url}, git {server.base_url}")

        deployment = (EXAMPLE / "app" / DEPLOYMENT).read_text()
        deployment = deployment.replace("registry.reids.net.au", registry.host)
        bare = repos / "blaster.git"
        make_bare_repo(bare, {DEPLOYMENT: deployment}, branch="develop")
        seed(
            registry.url,
            "games/blaster",
            ["dev-20251115.42", "dev-20251114.7", "latest"],
            user=REGISTRY_USER,
            password=REGISTRY_TOKEN,
        )
        cluster = write_cluster(work, registry, server)

        say("the app repo's marked line (develop)")
        print(git("show", f"develop:{DEPLOYMENT}", cwd=bare).splitlines()[20])

        say("why would the policy pick what it picks? (the runbook's own tags)")
        tagpilot(
            "policy",
            "eval",
            "-f",
            str(EXAMPLE / DEV / "20-blaster-images-dev.yaml"),
            "--tags-file",
            str(EXAMPLE / "tags.txt"),
            "--explain",
            cwd=work,
        )

        say("GitLab CI pushes registry/games/blaster:dev-20251115.51")
        seed(
            registry.url,
            "games/blaster",
            ["dev-20251115.51"],
            user=REGISTRY_USER,
            password=REGISTRY_TOKEN,
        )

        say("dry run: what tagpilot would commit")
        tagpilot("reconcile", str(cluster), "--once", "--dry-run", cwd=work)

        say("the real run: scan, select, rewrite, commit, push")
        code = tagpilot("reconcile", str(cluster), "--once", cwd=work)

        say("the commit tagpilot pushed to develop")
        print(
            git(
                "log",
                "-1",
                "--stat",
                "-p",
                "--format=commit %H%nAuthor: %an <%ae>%n%n%B",
                "develop",
                cwd=bare,
            )
        )
        say("stopping everything")
        return code


if __name__ == "__main__":
    raise SystemExit(main())
