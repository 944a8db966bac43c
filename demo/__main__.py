"""``make demo``: push a tag, let tagpilot pick it and commit it, show the commit.

Starts Debian's ``docker-registry`` (with a deploy-token login) and a git smart-HTTP server
on loopback, seeds the app repository with the runbook's marked Deployment and the cluster
directory with the runbook's Flux objects and a webhook Receiver, starts ``tagpilot run``,
then plays GitLab CI: pushes ``dev-20251115.51`` and calls the webhook.  It prints the
dry-run preview, the commit the daemon pushed, ``tagpilot get image all`` and the status
page's address (in a terminal it then waits for Enter, so the page can be looked at), then
stops the daemon with SIGTERM.  Everything is removed at the end.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from servers.git import (  # noqa: E402
    GitHttpServer,
    free_port,
    git,
    make_bare_repo,
    run_git_http,
)
from servers.manifests import secret  # noqa: E402
from servers.ocipush import seed  # noqa: E402
from servers.registry import RunningRegistry, run_registry, write_htpasswd  # noqa: E402

EXAMPLE = ROOT / "examples" / "blaster"
DEV = "clusters/my-cluster/blaster/dev"
DEPLOYMENT = "k8s/dev/50-app-deployment.yaml"
REGISTRY_USER, REGISTRY_TOKEN = "blaster-dev", "demo-deploy-token"
GIT_USER, GIT_PASSWORD = "flux", "demo-git-password"
HOOK_TOKEN = "demo-webhook-token"
RECEIVER = """apiVersion: notification.toolkit.fluxcd.io/v1
kind: Receiver
metadata:
  name: gitlab-ci
  namespace: flux-system
spec:
  type: generic
  secretRef:
    name: webhook-token
  resources:
    - apiVersion: image.toolkit.fluxcd.io/v1
      kind: ImageRepository
      name: blaster-dev-repo
"""


def say(text: str) -> None:
    """A step heading."""
    print(f"\n\033[1m== {text}\033[0m", flush=True)


def tagpilot(*args: str, cwd: Path) -> int:
    """Run the real CLI as a separate process, showing the command and its output."""
    print(f"$ tagpilot {' '.join(args)}", flush=True)
    return subprocess.run(
        [sys.executable, "-m", "tagpilot", *args], cwd=cwd, check=False
    ).returncode


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
    (secrets / "webhook-token.yaml").write_text(secret("webhook-token", {"token": HOOK_TOKEN}))
    (work / "clusters/my-cluster/flux-system/receiver.yaml").write_text(RECEIVER)
    return work / "clusters/my-cluster"


def wait_for(check: Callable[[], bool], seconds: float) -> bool:
    """Poll ``check`` until it holds or ``seconds`` pass."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return False


def http(url: str, body: bytes | None = None) -> int:
    """GET (or POST ``body``) and return the status code, 0 when nothing answers."""
    request = urllib.request.Request(url, data=body, method="POST" if body else "GET")
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(response.status)
    except OSError:
        return 0


@dataclass
class Scene:
    """The running pieces of the demo."""

    work: Path
    registry: RunningRegistry
    bare: Path
    cluster: Path
    daemon_url: str = ""

    def marked_line(self) -> str:
        """The Deployment's image line on ``develop``."""
        return git("show", f"develop:{DEPLOYMENT}", cwd=self.bare).splitlines()[20]

    def push_tag(self, tag: str) -> None:
        """What GitLab CI does: push an image under ``tag``."""
        seed(self.registry.url, "games/blaster", [tag], user=REGISTRY_USER, password=REGISTRY_TOKEN)


def set_up(work: Path, stack: ExitStack) -> Scene:
    """Registry, git server, app repo and cluster directory on loopback."""
    say("starting a registry (deploy-token login) and a git server on loopback")
    htpasswd = write_htpasswd(work / "htpasswd", {REGISTRY_USER: REGISTRY_TOKEN})
    registry = stack.enter_context(run_registry(work / "registry", htpasswd=htpasswd))
    repos = work / "repos"
    repos.mkdir()
    server = stack.enter_context(run_git_http(repos, credentials=f"{GIT_USER}:{GIT_PASSWORD}"))
    print(f"registry {registry.url}, git {server.base_url}")
    deployment = (EXAMPLE / "app" / DEPLOYMENT).read_text()
    bare = repos / "blaster.git"
    make_bare_repo(
        bare,
        {DEPLOYMENT: deployment.replace("registry.reids.net.au", registry.host)},
        branch="develop",
    )
    seed(
        registry.url,
        "games/blaster",
        ["dev-20251115.42", "dev-20251114.7", "latest"],
        user=REGISTRY_USER,
        password=REGISTRY_TOKEN,
    )
    return Scene(work, registry, bare, write_cluster(work, registry, server))


def start_daemon(scene: Scene, stack: ExitStack) -> subprocess.Popen[bytes] | None:
    """``tagpilot run`` in the background; None when it does not become ready."""
    say("starting the daemon: tagpilot run clusters/my-cluster")
    port = free_port()
    scene.daemon_url = f"http://127.0.0.1:{port}"
    log = stack.enter_context((scene.work / "daemon.log").open("wb"))
    daemon = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tagpilot",
            "run",
            str(scene.cluster),
            "--http-address",
            f"127.0.0.1:{port}",
        ],
        cwd=scene.work,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    stack.callback(lambda: daemon.poll() is not None or daemon.kill())
    if not wait_for(lambda: http(scene.daemon_url + "/readyz") == 200, 30):
        print((scene.work / "daemon.log").read_text())
        return None
    wait_for(lambda: "dev-20251115.42" in _policy_message(scene), 20)
    tagpilot("get", "image", "all", "--server", scene.daemon_url, cwd=scene.work)
    return daemon


def webhook(scene: Scene) -> bool:
    """Call the Receiver's webhook and wait for the commit; True when it arrived."""
    say("CI calls the webhook; the daemon scans, selects, rewrites, commits, pushes")
    digest = hashlib.sha256(f"{HOOK_TOKEN}gitlab-ciflux-system".encode()).hexdigest()
    started = time.monotonic()
    status = http(f"{scene.daemon_url}/hook/{digest}", b"{}")
    print(f"POST {scene.daemon_url}/hook/{digest[:12]}... -> {status}")
    pushed = wait_for(lambda: "dev-20251115.51" in scene.marked_line(), 30)
    print(
        f"pushed {time.monotonic() - started:.1f} s after the webhook"
        if pushed
        else "no commit within 30 s"
    )
    return pushed


def show_status_page(scene: Scene) -> None:
    """Print the status page's address; in a terminal, keep the daemon up until Enter."""
    say("the status page")
    print(f"status page: {scene.daemon_url}/status  (timeline: {scene.daemon_url}/status/timeline)")
    if not sys.stdin.isatty():
        return  # CI and scripts: carry on and stop
    try:
        input("open it in a browser; press Enter to stop the daemon ")
    except (EOFError, KeyboardInterrupt):
        print()


def main() -> int:
    """Run the demo; 0 when the daemon pushed the expected commit and stopped cleanly."""
    with tempfile.TemporaryDirectory(prefix="tagpilot-demo-") as scratch, ExitStack() as stack:
        os.environ["XDG_STATE_HOME"] = str(Path(scratch, "state"))  # the demo leaves no state
        scene = set_up(Path(scratch), stack)
        say("the app repo's marked line (develop)")
        print(scene.marked_line())
        say("why would the policy pick what it picks? (the runbook's own tags)")
        tagpilot(
            "policy",
            "eval",
            "-f",
            str(EXAMPLE / DEV / "20-blaster-images-dev.yaml"),
            "--tags-file",
            str(EXAMPLE / "tags.txt"),
            "--explain",
            cwd=scene.work,
        )
        daemon = start_daemon(scene, stack)
        if daemon is None:
            return 1
        say("GitLab CI pushes registry/games/blaster:dev-20251115.51")
        scene.push_tag("dev-20251115.51")
        say("dry run: what tagpilot would commit")
        tagpilot("reconcile", str(scene.cluster), "--once", "--dry-run", cwd=scene.work)
        pushed = webhook(scene)
        say("the commit tagpilot pushed to develop")
        print(
            git(
                "log",
                "-1",
                "--stat",
                "-p",
                "--format=commit %H%nAuthor: %an <%ae>%n%n%B",
                "develop",
                cwd=scene.bare,
            )
        )
        tagpilot("get", "image", "all", "--server", scene.daemon_url, cwd=scene.work)
        show_status_page(scene)
        say("stopping everything (SIGTERM to the daemon)")
        daemon.send_signal(signal.SIGTERM)
        code = daemon.wait(timeout=60)
        print(f"daemon exited with {code}")
        if not pushed:
            print((scene.work / "daemon.log").read_text())
        return 0 if pushed and code == 0 else 1


def _policy_message(scene: Scene) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "tagpilot", "get", "image", "policy", "--server", scene.daemon_url],
        cwd=scene.work,
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout


if __name__ == "__main__":
    raise SystemExit(main())
