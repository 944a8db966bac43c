"""``tagpilot diff kustomization`` against a real API server, with no controller running.

Each case starts from a cluster where the build of a local checkout (a Deployment, a
ConfigMap and a Secret) was applied server-side as ``kustomize-controller``, and where the
Kustomization object's status lists them in its inventory, as the controller leaves it.  The
case then edits the checkout and runs the command: it must name what the next apply would
create, change or prune, never print a Secret value, and exit as flux diff does.
"""

from __future__ import annotations

import base64
import json
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from tagpilot.adapters.sops import AgeIdentities
from tagpilot.cli.build_cmd import BuildInput, render_kustomization
from tagpilot.cli.main import cli
from tagpilot.core.kustomize.inventory import entry_for

from .controller_support import install_crds
from .controlplane import ControlPlane

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: app}
spec:
  selector: {matchLabels: {app: app}}
  template:
    metadata: {labels: {app: app}}
    spec:
      containers: [{name: app, image: "ghcr.io/acme/app:1.0.0"}]
"""
SECRET = "apiVersion: v1\nkind: Secret\nmetadata: {name: db}\nstringData: {password: %s}\n"
CONFIG_MAP = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: %s}\ndata: {value: '1'}\n"
KUSTOMIZATION = """\
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: app, namespace: %(ns)s}
spec:
  interval: 10m
  path: ./deploy
  prune: true
  targetNamespace: %(ns)s
  sourceRef: {kind: GitRepository, name: app}
"""
FILES = ["deployment.yaml", "secret.yaml", "settings.yaml"]


@dataclass
class Checkout:
    """The local checkout, the Kustomization file, and the cluster they were applied to."""

    plane: ControlPlane
    namespace: str
    root: Path

    @property
    def deploy(self) -> Path:
        return self.root / "deploy"

    @property
    def ks_file(self) -> Path:
        return self.root / "ks.yaml"

    def write(self, name: str, text: str, *, listed: bool = True) -> None:
        (self.deploy / name).write_text(text)
        if listed:
            files = self.deploy.glob("*.yaml")
            self.set_resources(sorted(p.name for p in files if p.name != "kustomization.yaml"))

    def set_resources(self, names: list[str]) -> None:
        (self.deploy / "kustomization.yaml").write_text(f"resources: {json.dumps(names)}\n")

    def diff(self, *extra: str) -> tuple[int, str, str]:
        args = ["diff", "kustomization", "app", "-n", self.namespace, "--path", str(self.deploy)]
        kubeconfig = f"--kubeconfig={self.plane.admin.kubeconfig}"
        result = CliRunner().invoke(cli, [*args, kubeconfig, *extra])
        assert result.exception is None or isinstance(result.exception, SystemExit), result
        return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def checkout(control_plane: ControlPlane, namespace: str, tmp_path: Path) -> Checkout:
    """The applied baseline: the build applied as the controller applies it, and the
    Kustomization in the cluster with those objects in its inventory."""
    install_crds(control_plane)
    root = tmp_path / "repo"
    (root / "deploy").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    found = Checkout(control_plane, namespace, root)
    found.write("deployment.yaml", DEPLOYMENT, listed=False)
    found.write("secret.yaml", SECRET % "hunter2", listed=False)
    found.write("settings.yaml", CONFIG_MAP % "settings", listed=False)
    found.set_resources(FILES)
    found.ks_file.write_text(KUSTOMIZATION % {"ns": namespace})
    request = BuildInput("app", namespace, found.deploy, (found.ks_file,), AgeIdentities())
    objects = render_kustomization(request)
    control_plane.kubectl(
        "apply", "--server-side", "--field-manager=kustomize-controller", "-f", "-",
        stdin="\n".join(json.dumps(obj) for obj in objects),
    )  # fmt: skip
    control_plane.kubectl("apply", "-f", str(found.ks_file))
    inventory = {"entries": [entry_for(obj).to_json() for obj in objects]}
    control_plane.kubectl(
        "patch", "kustomization", "app", "-n", namespace, "--subresource=status",
        "--type=merge", "-p", json.dumps({"status": {"inventory": inventory}}),
    )  # fmt: skip
    return found


def _change_image(c: Checkout) -> None:
    c.write("deployment.yaml", DEPLOYMENT.replace("app:1.0.0", "app:1.1.0"))


def _change_secret(c: Checkout) -> None:
    c.write("secret.yaml", SECRET % "swordfish")


def _add_config_map(c: Checkout) -> None:
    c.write("extra.yaml", CONFIG_MAP % "extra")


def _remove_config_map(c: Checkout) -> None:
    (c.deploy / "settings.yaml").unlink()
    c.set_resources(FILES[:2])


Edit = Callable[[Checkout], None]


@pytest.mark.parametrize(
    ("edit", "code", "lines"),
    [
        pytest.param(lambda c: None, 0, [], id="no change: exit 0, nothing but the summary"),
        pytest.param(
            _change_image, 1,
            ["► Deployment/{ns}/app drifted", "-      - image: ghcr.io/acme/app:1.0.0",
             "+      - image: ghcr.io/acme/app:1.1.0"],
            id="a new image: the Deployment drifted, with its diff",
        ),
        pytest.param(
            _change_secret, 1,
            ["► Secret/{ns}/db drifted", "-  password: '*** (before)'",
             "+  password: '*** (after)'"],
            id="a Secret value changed: drifted, masked",
        ),
        pytest.param(_add_config_map, 1, ["► ConfigMap/{ns}/extra created"], id="a new object"),
        pytest.param(
            _remove_config_map, 1, ["► ConfigMap/{ns}/settings deleted"],
            id="an object removed from the build: pruned",
        ),
    ],
)  # fmt: skip
def test_diff_names_what_the_next_apply_would_do_and_exits_like_flux(
    checkout: Checkout, edit: Edit, code: int, lines: list[str]
) -> None:
    edit(checkout)
    exit_code, out, err = checkout.diff("-f", str(checkout.ks_file))
    assert exit_code == code, (out, err)
    shown = out.splitlines()
    for line in lines:
        assert line.format(ns=checkout.namespace) in shown, out
    if not lines:
        assert out == ""
        assert err.strip() == "0 created, 0 drifted, 0 deleted, 3 unchanged"
    for secret in ("hunter2", "swordfish"):
        for text in (secret, base64.b64encode(secret.encode()).decode()):
            assert text not in out + err


def test_without_a_file_the_kustomization_comes_from_the_cluster(checkout: Checkout) -> None:
    _change_image(checkout)
    exit_code, out, _ = checkout.diff()
    assert exit_code == 1
    assert f"► Deployment/{checkout.namespace}/app drifted" in out.splitlines()


def test_diff_writes_nothing(checkout: Checkout) -> None:
    _change_image(checkout)
    _add_config_map(checkout)
    assert checkout.diff("-f", str(checkout.ks_file))[0] == 1
    assert checkout.diff("-f", str(checkout.ks_file))[0] == 1
    image = checkout.plane.kubectl(
        "get", "deploy", "app", "-n", checkout.namespace,
        "-o", "jsonpath={.spec.template.spec.containers[0].image}",
    ).stdout  # fmt: skip
    assert image == "ghcr.io/acme/app:1.0.0"
    missing = checkout.plane.kubectl(
        "get", "configmap", "extra", "-n", checkout.namespace, check=False
    )
    assert missing.returncode != 0


def _broken(c: Checkout) -> None:
    c.set_resources([*FILES, "missing.yaml"])


@pytest.mark.parametrize(
    ("edit", "args", "message"),
    [
        pytest.param(
            lambda c: None, ["--path", "/nonexistent/deploy"], "not a directory",
            id="a path that is not a directory",
        ),
        pytest.param(_broken, [], "missing.yaml", id="a kustomization.yaml naming a missing file"),
        pytest.param(
            lambda c: None, ["-n", "elsewhere"], "not found in the cluster",
            id="no Kustomization of that name in the cluster and no file",
        ),
    ],
)  # fmt: skip
def test_a_failure_is_one_clear_line_and_exit_2(
    checkout: Checkout, edit: Edit, args: list[str], message: str
) -> None:
    edit(checkout)
    extra = [] if "-n" in args else ["-f", str(checkout.ks_file)]
    exit_code, out, err = checkout.diff(*extra, *args)
    assert exit_code == 2, (out, err)
    assert err.startswith("✗ ") and message in err, err
    assert "Traceback" not in out + err


def test_variables_come_from_the_clusters_secret_when_the_kustomization_does(
    control_plane: ControlPlane, namespace: str, tmp_path: Path
) -> None:
    """No file given: the Kustomization and its substituteFrom Secret are the cluster's."""
    install_crds(control_plane)
    deploy = tmp_path / "deploy"
    deploy.mkdir()
    (deploy / "kustomization.yaml").write_text("resources: [greeting.yaml]\n")
    (deploy / "greeting.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: greeting}\ndata: {text: '${greeting}'}\n"
    )
    ks = KUSTOMIZATION % {"ns": namespace} + (
        "  postBuild:\n    substituteFrom: [{kind: Secret, name: vars}]\n"
    )
    control_plane.kubectl("apply", "-f", "-", stdin=ks)
    live = {
        "apiVersion": "v1", "kind": "ConfigMap", "data": {"text": "hello"},
        "metadata": {"name": "greeting", "namespace": namespace, "labels": {
            "kustomize.toolkit.fluxcd.io/name": "app",
            "kustomize.toolkit.fluxcd.io/namespace": namespace,
        }},
    }  # fmt: skip
    control_plane.kubectl(
        "apply", "--server-side", "--field-manager=kustomize-controller", "-f", "-",
        stdin=json.dumps(live),
    )  # fmt: skip
    kubeconfig = f"--kubeconfig={control_plane.admin.kubeconfig}"
    args = ["diff", "kustomization", "app", "-n", namespace, "--path", str(deploy), kubeconfig]

    def secret(value: str) -> None:
        made = control_plane.kubectl(
            "create", "secret", "generic", "vars", "-n", namespace,
            f"--from-literal=greeting={value}", "--dry-run=client", "-o", "json",
        ).stdout  # fmt: skip
        control_plane.kubectl("apply", "-f", "-", stdin=made)

    secret("hello")
    same = CliRunner().invoke(cli, args)
    assert (same.exit_code, same.stdout) == (0, ""), same.output
    secret("bye")
    changed = CliRunner().invoke(cli, args)
    assert changed.exit_code == 1, changed.output
    assert f"► ConfigMap/{namespace}/greeting drifted" in changed.stdout.splitlines()
    assert "+  text: bye" in changed.stdout.splitlines()


@pytest.mark.parametrize(
    ("rules", "code"),
    [
        pytest.param("  ignore:\n    - paths: [/spec/replicas]\n      target: {kind: Deployment}\n",
                     0, id="an ignored field another writer changed is no drift"),
        pytest.param("", 1, id="without the rule the same change is drift"),
    ],
)  # fmt: skip
def test_diff_honours_the_kustomizations_ignore_rules(
    checkout: Checkout, rules: str, code: int
) -> None:
    checkout.plane.kubectl("scale", "deployment", "app", "-n", checkout.namespace, "--replicas=4")
    checkout.write("deployment.yaml", DEPLOYMENT.replace("spec:\n", "spec:\n  replicas: 1\n", 1))
    checkout.ks_file.write_text(KUSTOMIZATION % {"ns": checkout.namespace} + rules)

    exit_code, out, err = checkout.diff("-f", str(checkout.ks_file))

    assert exit_code == code, (out, err)
