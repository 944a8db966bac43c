"""``tagpilot reconcile kustomization NAME --with-source --kubeconfig F`` with the controller
running in (against) a real cluster: a commit pushed after the last fetch is fetched and applied
in one command, as ``flux reconcile kustomization --with-source`` does.

The objects' intervals are an hour, so nothing but the command's
``reconcile.fluxcd.io/requestedAt`` annotations makes the controller fetch and apply again.
"""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from servers.git import git, run_git_http
from tagpilot.cli.main import cli

from .controller_support import apply, controller, install_crds, wait_for
from .controlplane import ControlPlane

OBJECTS = """\
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: app}
spec: {interval: 1h, url: "%(url)s", ref: {branch: main}}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: app}
spec:
  interval: 1h
  path: ./deploy
  prune: true
  targetNamespace: %(ns)s
  sourceRef: {kind: GitRepository, name: app}
"""
CONFIG_MAP = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {value: '%s'}\n"


def _commit(work: Path, value: str) -> str:
    (work / "deploy").mkdir(exist_ok=True)
    (work / "deploy/kustomization.yaml").write_text("resources: [settings.yaml]\n")
    (work / "deploy/settings.yaml").write_text(CONFIG_MAP % value)
    git("add", "--all", cwd=work)
    git("commit", "--quiet", "-m", f"value {value}", cwd=work)
    git("push", "--quiet", "origin", "main", cwd=work)
    return git("rev-parse", "HEAD", cwd=work).strip()


def _value(plane: ControlPlane, namespace: str) -> str | None:
    found = plane.kubectl(
        "get", "configmap", "settings", "-n", namespace, "-o", "jsonpath={.data.value}",
        check=False,
    )  # fmt: skip
    return found.stdout if found.returncode == 0 else None


def test_with_source_fetches_the_new_commit_and_applies_it_in_one_command(
    control_plane: ControlPlane, namespace: str, tmp_path: Path
) -> None:
    install_crds(control_plane)
    repos = tmp_path / "repos"
    repos.mkdir()
    git("init", "--quiet", "--bare", "--initial-branch=main", str(repos / "app.git"))
    work = tmp_path / "work"
    git("clone", "--quiet", str(repos / "app.git"), str(work))
    _commit(work, "1")
    kubeconfig = str(control_plane.admin.kubeconfig)
    with run_git_http(repos) as server:
        url = server.url(repos / "app.git")
        apply(control_plane, OBJECTS % {"url": url, "ns": namespace}, namespace=namespace)
        args = ["--controllers=source,kustomize"]
        with controller(kubeconfig, tmp_path / "ctl", namespace=namespace, args=args):
            wait_for("the first commit applied", lambda: _value(control_plane, namespace) == "1")
            head = _commit(work, "2")
            result = CliRunner().invoke(
                cli,
                ["reconcile", "kustomization", "app", "-n", namespace, "--with-source",
                 f"--kubeconfig={kubeconfig}", "--timeout=1m"],
            )  # fmt: skip
            assert result.exit_code == 0, result.output
            assert result.stdout.splitlines() == [
                f"► annotating GitRepository app in {namespace} namespace",
                "✔ GitRepository annotated",
                "◎ waiting for GitRepository reconciliation",
                f"✔ fetched revision main@sha1:{head}",
                f"► annotating Kustomization app in {namespace} namespace",
                "✔ Kustomization annotated",
                "◎ waiting for Kustomization reconciliation",
                f"✔ applied revision main@sha1:{head}",
            ]
            assert _value(control_plane, namespace) == "2"

            missing = CliRunner().invoke(
                cli, ["reconcile", "kustomization", "nope", "-n", namespace,
                      f"--kubeconfig={kubeconfig}"],
            )  # fmt: skip
            assert missing.exit_code == 1
            assert missing.stderr == f"✗ Kustomization nope not found in {namespace} namespace\n"
