"""The seeds' whole loop in one cluster, one tagpilot process: a tag pushed to the registry,
a ``[skip ci]`` commit on ``develop`` over SSH, the GitRepository's new revision, and the
Kustomization applying ``k8s/dev`` with its SOPS-encrypted Secret decrypted — until
``kubectl -n blaster-dev get deploy blaster-app`` shows the new image.

There is no kubelet: nothing here needs the Deployment to run, and the Kustomization does
not wait for it (``wait: false``), so the test looks at what was applied.
"""

from __future__ import annotations

import base64
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from servers.git import SshServer, git
from servers.ocipush import seed
from servers.registry import RunningRegistry

from .blaster_support import apply_runbook
from .controller_support import apply, controller, install_crds, kubectl_json, wait_for
from .controlplane import ControlPlane

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
from e2e_support import DEPLOYMENT, TOKEN, USER, app_repo
from tests.adapters.kustomize.build_support import Sops, make_key

NAMESPACE = "flux-system"
APP_NAMESPACE = "blaster-dev"
KUSTOMIZATION = """\
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: blaster-dev, namespace: flux-system}
spec:
  interval: 10m
  path: ./k8s/dev
  prune: true
  wait: false
  timeout: 5m
  sourceRef: {kind: GitRepository, name: blaster-dev}
  decryption:
    provider: sops
    secretRef: {name: sops-age}
"""


@pytest.fixture
def cluster(control_plane: ControlPlane) -> Iterator[ControlPlane]:
    install_crds(control_plane)
    for namespace in (NAMESPACE, APP_NAMESPACE):
        control_plane.kubectl("create", "namespace", namespace, check=False)
    yield control_plane
    # The controller has stopped: nothing would remove Flux's finalizer from a Kustomization.
    listed = control_plane.kubectl("get", "kustomizations", "-n", NAMESPACE, "-o", "name")
    for name in listed.stdout.split():
        control_plane.kubectl("patch", name, "-n", NAMESPACE, "--type=merge",
                              "-p", '{"metadata": {"finalizers": null}}')  # fmt: skip
    for kind in (
        "kustomizations",
        "imageupdateautomations",
        "imagepolicies",
        "imagerepositories",
        "gitrepositories",
        "secrets",
    ):
        control_plane.kubectl("delete", kind, "--all", "-n", NAMESPACE, check=False)
    control_plane.kubectl(
        "delete", "deployments,secrets", "--all", "-n", APP_NAMESPACE, check=False
    )


def _app_repo_with_secret(tmp: Path, registry: RunningRegistry, recipient: str) -> Path:
    """The app repository, plus a SOPS-encrypted Secret in k8s/dev (the seeds' layout)."""
    bare = app_repo(tmp, registry)
    work = tmp / "seed-work"
    git("clone", "--quiet", "--branch", "develop", str(bare), str(work), cwd=tmp)
    secret = work / "k8s/dev/40-app-secret.yaml"
    secret.write_text(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: blaster-config\n"
        "  namespace: blaster-dev\nstringData:\n  api-key: the-dev-api-key\n"
    )
    home = tmp / "sops-home"
    home.mkdir()
    Sops(Path(sys.executable).parent / "sops", home).encrypt_in_place(secret, recipient)
    assert "the-dev-api-key" not in secret.read_text()
    git("add", "--all", cwd=work)
    git(
        "-c",
        "user.name=dev",
        "-c",
        "user.email=dev@example.com",
        "commit",
        "--quiet",
        "-m",
        "encrypted app secret",
        cwd=work,
    )
    git("push", "--quiet", "origin", "develop", cwd=work)
    return bare


def _deployed_image(plane: ControlPlane) -> str | None:
    found = plane.kubectl(
        "get",
        "deploy",
        "blaster-app",
        "-n",
        APP_NAMESPACE,
        "-o",
        "jsonpath={.spec.template.spec.containers[0].image}",
        check=False,
    )
    return found.stdout if found.returncode == 0 else None


def test_a_pushed_tag_reaches_the_deployment_through_git_and_the_kustomization(
    cluster: ControlPlane, registry: RunningRegistry, sshd: SshServer, tmp_path: Path
) -> None:
    key = make_key()
    bare = _app_repo_with_secret(tmp_path, registry, key.recipient)
    apply_runbook(cluster, registry, sshd, tmp_path, bare)
    cluster.kubectl(
        "create",
        "secret",
        "generic",
        "sops-age",
        "-n",
        NAMESPACE,
        f"--from-literal=age.agekey={key.identity}",
    )
    apply(cluster, KUSTOMIZATION)
    image = f"{registry.host}/games/blaster"

    args = ["--controllers=image,source,kustomize"]
    with controller(
        cluster.admin.kubeconfig, tmp_path / "ctl", namespace=NAMESPACE, args=args
    ) as ctl:
        wait_for(
            "the new tag in the Deployment",
            lambda: _deployed_image(cluster) == f"{image}:dev-20251115.51",
            timeout=90,
        )
        message = git("log", "-1", "--format=%B", "develop", cwd=bare)
        assert "[skip ci]" in message and "dev-20251115.51" in message
        value = cluster.kubectl(
            "get", "secret", "blaster-config", "-n", APP_NAMESPACE, "-o", "jsonpath={.data.api-key}"
        ).stdout
        assert base64.b64decode(value) == b"the-dev-api-key"

        ks = kubectl_json(cluster, "kustomization", "blaster-dev", "-n", NAMESPACE)
        head = git("rev-parse", "develop", cwd=bare)
        assert ks["status"]["lastAppliedRevision"] == f"develop@sha1:{head}"
        ready = {c["type"]: c for c in ks["status"]["conditions"]}["Ready"]
        assert (ready["reason"], ready["message"]) == (
            "ReconciliationSucceeded",
            f"Applied revision: develop@sha1:{head}",
        )
        source = kubectl_json(cluster, "gitrepository", "blaster-dev", "-n", NAMESPACE)
        assert source["status"]["artifact"]["revision"] == f"develop@sha1:{head}"
        table = cluster.kubectl("get", "kustomizations", "-n", NAMESPACE).stdout
        assert "blaster-dev" in table and "True" in table, table

        # The next CI build: a new tag, then `flux reconcile` of the repository and source.
        seed(registry.url, "games/blaster", ["dev-20251116.3"], user=USER, password=TOKEN)
        cluster.kubectl(
            "annotate",
            "--overwrite",
            "-n",
            NAMESPACE,
            "imagerepository",
            "blaster-dev-repo",
            "reconcile.fluxcd.io/requestedAt=t1",
        )
        wait_for(
            "the second commit",
            lambda: "dev-20251116.3" in git("log", "-1", "--format=%B", "develop", cwd=bare),
        )
        cluster.kubectl(
            "annotate",
            "--overwrite",
            "-n",
            NAMESPACE,
            "gitrepository",
            "blaster-dev",
            "reconcile.fluxcd.io/requestedAt=t2",
        )
        wait_for(
            "the second tag in the Deployment",
            lambda: _deployed_image(cluster) == f"{image}:dev-20251116.3",
            timeout=60,
        )
        events = kubectl_json(cluster, "events", "-n", NAMESPACE)["items"]
        texts = "\n".join(e["message"] for e in events)
        assert "the-dev-api-key" not in texts and "AGE-SECRET-KEY" not in texts
        assert f"Deployment/{APP_NAMESPACE}/blaster-app configured" in texts
        assert "Traceback" not in ctl.text()
    assert DEPLOYMENT  # the marked file the automation rewrote is the one applied
