"""``tagpilot build kustomization NAME --path DIR``: what the controller would apply, offline.

A git checkout holds a base and an overlay with a SOPS-encrypted Secret (encrypted with the
real ``sops``); the Kustomization object is read from a file.  The build runs the real
kustomize; nothing talks to a cluster.
"""

from __future__ import annotations

import base64
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from ruamel.yaml import YAML
from tests.adapters.kustomize.build_support import AgeKey, Sops, make_key

from tagpilot.cli.build_cmd import build_group
from tagpilot.cli.main import cli

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
spec:
  selector:
    matchLabels: {app: app}
  template:
    metadata:
      labels: {app: app}
    spec:
      containers:
        - name: app
          image: ghcr.io/acme/app:1.0.0
          env:
            - {name: CLUSTER_ENV, value: "${cluster_env}"}
            - {name: REGION, value: "${region}"}
"""
SECRET = """\
apiVersion: v1
kind: Secret
metadata:
  name: db
stringData:
  password: hunter2
"""
KUSTOMIZATION = """\
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: blaster-dev
  namespace: flux-system
spec:
  interval: 10m
  path: ./k8s/dev
  prune: true
  sourceRef: {kind: GitRepository, name: blaster-dev}
  targetNamespace: blaster-dev
  namePrefix: dev-
  images:
    - {name: ghcr.io/acme/app, newTag: 1.2.3}
  patches:
    - target: {kind: Deployment}
      patch: |
        - {op: add, path: /spec/replicas, value: 2}
  components: [../components/debug]
  commonMetadata:
    labels: {team: web}
  decryption:
    provider: sops
    secretRef: {name: sops-age}
  postBuild:
    substitute: {cluster_env: dev}
    substituteFrom:
      - {kind: Secret, name: cluster-vars}
---
apiVersion: v1
kind: Secret
metadata:
  name: cluster-vars
  namespace: flux-system
stringData:
  region: eu-1
"""
COMPONENT = """\
apiVersion: kustomize.config.k8s.io/v1alpha1
kind: Component
commonAnnotations:
  debug: "on"
"""
HUNTER2_B64 = base64.b64encode(b"hunter2").decode()


@pytest.fixture(scope="module")
def age_key() -> AgeKey:
    return make_key()


@pytest.fixture(scope="module")
def sops(tmp_path_factory: pytest.TempPathFactory) -> Sops:
    return Sops(Path(sys.executable).parent / "sops", tmp_path_factory.mktemp("sops-home"))


@pytest.fixture
def checkout(tmp_path: Path, sops: Sops, age_key: AgeKey) -> Path:
    """A git checkout: ``k8s/base`` (a Deployment) and ``k8s/dev`` (base + encrypted Secret)."""
    repo = tmp_path / "repo"
    (repo / "k8s" / "base").mkdir(parents=True)
    (repo / "k8s" / "dev").mkdir()
    (repo / "k8s" / "components" / "debug").mkdir(parents=True)
    (repo / "k8s/components/debug/kustomization.yaml").write_text(COMPONENT)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    (repo / "k8s/base/deployment.yaml").write_text(DEPLOYMENT)
    (repo / "k8s/base/kustomization.yaml").write_text("resources: [deployment.yaml]\n")
    (repo / "k8s/dev/kustomization.yaml").write_text("resources: [../base, secret.yaml]\n")
    (repo / "k8s/dev/secret.yaml").write_text(SECRET)
    sops.encrypt_in_place(repo / "k8s/dev/secret.yaml", age_key.recipient)
    return repo


@pytest.fixture
def ks_file(tmp_path: Path) -> Path:
    path = tmp_path / "clusters" / "ks.yaml"
    path.parent.mkdir()
    path.write_text(KUSTOMIZATION)
    return path


@pytest.fixture
def key_file(tmp_path: Path, age_key: AgeKey) -> Path:
    path = tmp_path / "age.agekey"
    path.write_text(age_key.identity + "\n")
    return path


def _build(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["build", *args])
    return result.exit_code, result.stdout, result.stderr


def _documents(text: str) -> dict[str, Any]:
    documents = YAML(typ="safe", pure=True).load_all(text)
    return {f"{d['kind']}/{d['metadata']['name']}": d for d in documents}


def _ok(checkout: Path, ks_file: Path, key_file: Path, *extra: str) -> dict[str, Any]:
    code, out, err = _build(
        "kustomization", "blaster-dev", "--path", str(checkout / "k8s/dev"),
        "-f", str(ks_file), "--age-key-file", str(key_file), *extra,
    )  # fmt: skip
    assert (code, err) == (0, ""), err
    return _documents(out)


def test_the_build_applies_the_spec_and_adds_fluxs_owner_labels(
    checkout: Path, ks_file: Path, key_file: Path
) -> None:
    objects = _ok(checkout, ks_file, key_file)
    assert sorted(objects) == ["Deployment/dev-app", "Secret/dev-db"]
    deployment = objects["Deployment/dev-app"]
    assert deployment["metadata"]["namespace"] == "blaster-dev"
    assert deployment["metadata"]["labels"] == {
        "team": "web",
        "kustomize.toolkit.fluxcd.io/name": "blaster-dev",
        "kustomize.toolkit.fluxcd.io/namespace": "flux-system",
    }
    assert deployment["metadata"]["annotations"] == {"debug": "on"}
    assert deployment["spec"]["replicas"] == 2
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert container["image"] == "ghcr.io/acme/app:1.2.3"
    assert container["env"] == [
        {"name": "CLUSTER_ENV", "value": "dev"},
        {"name": "REGION", "value": "eu-1"},
    ]


def test_secret_values_are_masked_unless_revealed(
    checkout: Path, ks_file: Path, key_file: Path
) -> None:
    masked = _ok(checkout, ks_file, key_file)["Secret/dev-db"]
    assert masked["data"] == {"password": "***"} and "sops" not in masked
    revealed = _ok(checkout, ks_file, key_file, "--reveal-secrets")["Secret/dev-db"]
    assert revealed["data"] == {"password": HUNTER2_B64}


PLAIN_OBJECTS = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  level: ${level:=info}
---
apiVersion: v1
kind: Secret
metadata:
  name: token
stringData:
  token: s3cr3t
"""
PLAIN_KUSTOMIZATION = """\
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: app
spec:
  interval: 5m
  path: ./app
  prune: true
  sourceRef: {kind: GitRepository, name: app}
  nameSuffix: -v1
  postBuild:
    substitute: {unused: x}
"""
PLAIN_BUILT = """\
apiVersion: v1
data:
  level: info
kind: ConfigMap
metadata:
  labels:
    kustomize.toolkit.fluxcd.io/name: app
    kustomize.toolkit.fluxcd.io/namespace: apps
  name: settings-v1
---
apiVersion: v1
data:
  token: '***'
kind: Secret
metadata:
  labels:
    kustomize.toolkit.fluxcd.io/name: app
    kustomize.toolkit.fluxcd.io/namespace: apps
  name: token-v1
"""


def test_outside_a_checkout_dir_is_the_root_and_the_output_is_multi_document_yaml(
    tmp_path: Path,
) -> None:
    assert not any((p / ".git").exists() for p in tmp_path.parents), "tmp is in a checkout"
    (tmp_path / "app").mkdir()
    (tmp_path / "app/objects.yaml").write_text(PLAIN_OBJECTS)
    (tmp_path / "ks.yaml").write_text(PLAIN_KUSTOMIZATION)
    args = ["ks", "app", "--path", str(tmp_path / "app"), "-f", str(tmp_path / "ks.yaml")]
    assert _build(*args, "-n", "apps") == (0, PLAIN_BUILT, "")
    (tmp_path / "app/kustomization.yaml").write_text("resources: [../ks.yaml]\n")
    assert _build(*args, "-n", "apps") == (
        2,
        "",
        "✗ kustomization.yaml: resources[0]: '../ks.yaml' leaves the source root\n",
    )


def test_the_kustomization_is_found_in_a_manifests_directory(
    checkout: Path, ks_file: Path, key_file: Path
) -> None:
    code, out, _ = _build(
        "ks", "blaster-dev", "--path", str(checkout / "k8s/dev"),
        "--manifests", str(ks_file.parent), "--age-key-file", str(key_file),
    )  # fmt: skip
    assert code == 0
    assert sorted(_documents(out)) == ["Deployment/dev-app", "Secret/dev-db"]


def test_the_age_key_may_come_from_the_decryption_secret_in_the_manifests(
    checkout: Path, ks_file: Path, age_key: AgeKey
) -> None:
    sops_age = (
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: sops-age\n  namespace: flux-system\n"
        f"stringData:\n  age.agekey: {age_key.identity}\n"
    )
    secrets = ks_file.parent / "sops-age.yaml"
    secrets.write_text(sops_age)
    code, out, err = _build(
        "kustomization", "blaster-dev", "--path", str(checkout / "k8s/dev"),
        "-f", str(ks_file), "--manifests", str(secrets), "--reveal-secrets",
    )  # fmt: skip
    assert (code, err) == (0, "")
    assert _documents(out)["Secret/dev-db"]["data"] == {"password": HUNTER2_B64}


def _break(case: str, checkout: Path, ks_file: Path, tmp_path: Path) -> list[str]:
    """Spoil the input as ``case`` says; the arguments to build with."""
    name, path = "blaster-dev", checkout / "k8s/dev"
    if case == "undefined-variable":
        without = KUSTOMIZATION.replace("substitute: {cluster_env: dev}", "substitute: {}")
        ks_file.write_text(without)
    elif case == "escape":
        (tmp_path / "outside.yaml").write_text(SECRET)
        (path / "kustomization.yaml").write_text("resources: [../../../outside.yaml]\n")
    elif case == "broken-kustomization":
        (path / "kustomization.yaml").write_text("resources: [missing.yaml]\n")
    elif case == "duplicate-object":
        (path / "kustomization.yaml").write_text("resources: [../base, ../base/deployment.yaml]\n")
    elif case == "missing-object":
        name = "nope"
    elif case == "missing-substitute-secret":
        ks_file.write_text(KUSTOMIZATION.split("---", maxsplit=1)[0])
    elif case == "path-not-a-directory":
        path = checkout / "k8s/none"
    return ["kustomization", name, "--path", str(path), "-f", str(ks_file)]


FAILURES = [
    pytest.param("undefined-variable", "variable not set (strict mode)", id="undefined-variable"),
    pytest.param("escape", "outside.yaml", id="dotdot-escape"),
    pytest.param(
        "broken-kustomization",
        "k8s/dev/kustomization.yaml: resources[0]: 'missing.yaml' not found",
        id="missing-resource",
    ),
    pytest.param("duplicate-object", "kustomize build failed: ", id="kustomize-refuses"),
    pytest.param(
        "missing-object",
        "Kustomization 'flux-system/nope' not found in ",
        id="kustomization-not-found",
    ),
    pytest.param(
        "missing-substitute-secret", "Secret 'flux-system/cluster-vars'", id="substitute-secret"
    ),
    pytest.param("path-not-a-directory", "--path", id="path-not-a-directory"),
]


@pytest.mark.parametrize(("case", "says"), FAILURES)
def test_bad_input_fails_on_one_line_with_exit_2_and_no_secret(
    checkout: Path, ks_file: Path, key_file: Path, tmp_path: Path, case: str, says: str
) -> None:
    args = _break(case, checkout, ks_file, tmp_path)
    code, out, err = _build(*args, "--age-key-file", str(key_file))
    assert (code, out) == (2, "")
    assert err.startswith("✗ ") and err.count("\n") == 1, err
    assert says in err
    assert "hunter2" not in err and HUNTER2_B64 not in err and "Traceback" not in err


def test_without_strict_substitution_an_undefined_variable_is_empty_as_in_flux_build(
    checkout: Path, ks_file: Path, key_file: Path
) -> None:
    ks_file.write_text(KUSTOMIZATION.replace("substitute: {cluster_env: dev}", "substitute: {}"))
    objects = _ok(checkout, ks_file, key_file, "--no-strict-substitute")
    (container,) = objects["Deployment/dev-app"]["spec"]["template"]["spec"]["containers"]
    # Substitution works on the YAML text, so an emptied plain scalar reads back as null.
    assert container["env"] == [
        {"name": "CLUSTER_ENV", "value": None},
        {"name": "REGION", "value": "eu-1"},
    ]


def test_a_wrong_age_key_fails_decryption_without_showing_the_secret(
    checkout: Path, ks_file: Path, tmp_path: Path
) -> None:
    wrong = tmp_path / "wrong.agekey"
    wrong.write_text(make_key().identity + "\n")
    code, out, err = _build(
        "kustomization", "blaster-dev", "--path", str(checkout / "k8s/dev"),
        "-f", str(ks_file), "--age-key-file", str(wrong),
    )  # fmt: skip
    assert (code, out) == (2, "")
    assert err.startswith("✗ Secret/blaster-dev/dev-db: decryption failed: no identity matches")
    assert err.count("\n") == 1
    assert "hunter2" not in err and HUNTER2_B64 not in err


def test_without_a_kustomization_object_the_command_says_where_to_give_it(
    checkout: Path,
) -> None:
    result = CliRunner().invoke(build_group, ["ks", "x", "--path", str(checkout)])
    assert result.exit_code == 2
    assert result.stderr == (
        "✗ --kustomization-file: give the Kustomization object with --kustomization-file "
        "or --manifests\n"
    )


def test_help_says_secrets_are_masked() -> None:
    result = CliRunner().invoke(cli, ["build", "kustomization", "--help"])
    assert "masked as *** unless --reveal-secrets" in " ".join(result.stdout.split())
