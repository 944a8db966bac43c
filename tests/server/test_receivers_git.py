"""Receivers for git pushes in the daemon: a GitHub ``push`` (HMAC-signed) and a generic
delivery each make ``tagpilot run`` fetch the GitRepository they list at once.

Real processes: the daemon, a git smart-HTTP remote on loopback.  The GitRepository's
interval is ten minutes, so a new revision within seconds of a delivery came from it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from servers.git import free_port, git, make_bare_repo, run_git_http
from servers.manifests import secret

GITHUB_TOKEN = "github-receiver-token"
GENERIC_TOKEN = "generic-receiver-token"
NAMESPACE = "flux-system"


def _receiver(name: str, kind: str, secret_name: str, events: str = "") -> str:
    return f"""\
apiVersion: notification.toolkit.fluxcd.io/v1
kind: Receiver
metadata: {{name: {name}, namespace: {NAMESPACE}}}
spec:
  type: {kind}
{events}  secretRef: {{name: {secret_name}}}
  resources:
    - {{kind: GitRepository, name: app}}
"""


def _hook(token: str, name: str) -> str:
    return "/hook/" + hashlib.sha256(f"{token}{name}{NAMESPACE}".encode()).hexdigest()


def _wait(what: str, probe: Callable[[], bool], seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if probe():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


class Daemon:
    """``tagpilot run`` on a manifests directory, with its HTTP address."""

    def __init__(self, manifests: Path, state: Path, log: Path) -> None:
        self.url = f"http://127.0.0.1:{free_port()}"
        self.log = log
        address = self.url.removeprefix("http://")
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "tagpilot", "run", str(manifests), "--state", str(state),
                 "--http-address", address, "--log-format", "json"],
                stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        _wait("the daemon's /readyz", self.ready, 60)

    def ready(self) -> bool:
        try:
            return httpx.get(self.url + "/readyz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def revision(self) -> str | None:
        answer = httpx.get(f"{self.url}/api/v1/objects/GitRepository/{NAMESPACE}/app", timeout=5)
        artifact = (answer.json().get("status") or {}).get("artifact") or {}
        return artifact.get("revision")


@pytest.fixture
def remote(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A bare repo served over smart HTTP (read-only): its URL and the work tree that pushes
    to it on disk."""
    repos = tmp_path / "repos"
    repos.mkdir()
    make_bare_repo(repos / "app.git", {"deploy/a.yaml": "kind: ConfigMap\n"})
    with run_git_http(repos) as server:
        yield server.url(repos / "app.git"), repos / "app.git.seed"


def _push(work: Path, bare: Path, text: str) -> str:
    (work / "deploy/a.yaml").write_text(text)
    git("commit", "--quiet", "-am", text, cwd=work)
    git("push", "--quiet", str(bare), "HEAD:refs/heads/main", cwd=work)
    return git("rev-parse", "HEAD", cwd=work)


@pytest.fixture
def daemon(tmp_path: Path, remote: tuple[str, Path]) -> Iterator[Daemon]:
    url, _ = remote
    manifests = tmp_path / "cluster"
    manifests.mkdir()
    (manifests / "source.yaml").write_text(f"""\
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {{name: app, namespace: {NAMESPACE}}}
spec: {{interval: 10m, url: "{url}", ref: {{branch: main}}}}
""")
    (manifests / "receivers.yaml").write_text(
        _receiver("github", "github", "github-token", "  events: [push]\n")
        + "---\n"
        + _receiver("generic", "generic", "generic-token")
    )
    (manifests / "secrets.yaml").write_text(
        secret("github-token", {"token": GITHUB_TOKEN})
        + "---\n"
        + secret("generic-token", {"token": GENERIC_TOKEN})
    )
    running = Daemon(manifests, tmp_path / "state.db", tmp_path / "daemon.log")
    try:
        yield running
    finally:
        running.process.terminate()
        assert running.process.wait(timeout=60) == 0
    text = running.log.read_text()
    assert GITHUB_TOKEN not in text and GENERIC_TOKEN not in text and "Traceback" not in text


def test_a_github_push_and_a_generic_delivery_each_fetch_the_git_repository_at_once(
    daemon: Daemon, remote: tuple[str, Path]
) -> None:
    _, work = remote
    bare = work.with_name("app.git")
    first = git("rev-parse", "HEAD", cwd=work)
    _wait("the first fetch", lambda: daemon.revision() == f"main@sha1:{first}")

    pushed = _push(work, bare, "kind: ConfigMap # two\n")
    body = json.dumps({"ref": "refs/heads/main", "after": pushed}).encode()
    signature = hmac.new(GITHUB_TOKEN.encode(), body, hashlib.sha256).hexdigest()
    headers = {"Content-Type": "application/json", "X-GitHub-Event": "push"}
    hook = daemon.url + _hook(GITHUB_TOKEN, "github")
    forged = {**headers, "X-Hub-Signature-256": "sha256=" + "0" * 64}
    assert httpx.post(hook, content=body, headers=forged).status_code == 401, "refused"
    signed = {**headers, "X-Hub-Signature-256": f"sha256={signature}"}
    delivered = httpx.post(hook, content=body, headers=signed)
    assert delivered.status_code == 200, delivered.text
    _wait("the GitHub push's revision", lambda: daemon.revision() == f"main@sha1:{pushed}")

    again = _push(work, bare, "kind: ConfigMap # three\n")
    generic = httpx.post(daemon.url + _hook(GENERIC_TOKEN, "generic"), json={}, timeout=5)
    assert generic.status_code == 200, generic.text
    _wait("the generic delivery's revision", lambda: daemon.revision() == f"main@sha1:{again}")
