"""`tagpilot install --export` applied to a real kube-apiserver, looked at with real kubectl.

The export goes in with ``kubectl apply --server-side``; the CRDs become Established; the
testdata's Blaster objects are accepted; ``kubectl get`` shows Flux's columns; a status
written with Flux's fields is kept whole; a bad value is refused by the API server with
its reason.  The RBAC is proven with the ServiceAccount's own token: it may do what the
controller does and nothing it must not.

CRDs are cluster-global and the control plane is shared by the session, so applying is
idempotent (server-side apply under one field manager) and nothing deletes the CRDs.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from tagpilot.api.crds import CRD_KINDS, CrdKind, crd_document
from tagpilot.api.install import CLUSTER_RULES, LEASE_RULES, Rule

from .controlplane import ControlPlane, Identity
from .upstream import EXAMPLE_KINDS, example_objects

TESTDATA = (
    Path(__file__).parent.parent / "testdata" / "manifests" / "good" / "clusters" / "my-cluster"
)
CRDS = (
    "imagerepositories.image.toolkit.fluxcd.io",
    "imagepolicies.image.toolkit.fluxcd.io",
    "imageupdateautomations.image.toolkit.fluxcd.io",
    "gitrepositories.source.toolkit.fluxcd.io",
)


def export(*flags: str) -> str:
    """The YAML `tagpilot install --export FLAGS` prints (run as the user runs it)."""
    result = subprocess.run(
        [sys.executable, "-m", "tagpilot", "install", "--export", *flags],
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


def install(plane: ControlPlane, namespace: str) -> None:
    """Apply the export (with the GitRepository CRD) into ``namespace``; wait for the CRDs."""
    plane.kubectl(
        "apply",
        "--server-side",
        "--force-conflicts",
        # The manager the other tests applying these cluster-wide CRDs use: whichever runs
        # first, the next one's apply replaces the CRD instead of conflicting on it.
        "--field-manager=tagpilot-tests",
        "-f",
        "-",
        stdin=export("--source-crds", "--namespace", namespace),
    )
    plane.kubectl(
        "wait", "--for=condition=Established", "--timeout=60s", *(f"crd/{c}" for c in CRDS)
    )


def blaster_objects(namespace: str) -> str:
    """The testdata's Blaster ImageRepository, ImagePolicy, automation and GitRepository.

    The files say v1beta2 where Flux's current CRDs serve v1 only; the schema is the same.
    """
    yaml = YAML(typ="safe")
    documents: list[dict[str, Any]] = []
    for name in ("20-blaster-images-dev.yaml", "30-image-automation.yaml", "source.yaml"):
        documents += [
            d for d in yaml.load_all((TESTDATA / "blaster" / "dev" / name).read_text()) if d
        ]
    kept = []
    for document in documents:
        group = document["apiVersion"].split("/")[0]
        if document["kind"] == "Kustomization":
            continue
        document["apiVersion"] = f"{group}/v1"
        document["metadata"]["namespace"] = namespace
        kept.append(document)
    return "\n---\n".join(json.dumps(document) for document in kept)


@pytest.fixture(scope="module")
def installed(control_plane: ControlPlane) -> Iterator[str]:
    """The export applied into a new install namespace (once for this module); its name."""
    namespace = f"tagpilot-install-{secrets.token_hex(3)}"
    install(control_plane, namespace)
    yield namespace
    control_plane.kubectl("delete", "namespace", namespace, "--wait=false", check=False)
    for kind in ("clusterrolebinding", "clusterrole"):
        control_plane.kubectl("delete", kind, f"tagpilot-{namespace}", check=False)


def test_the_export_applies_server_side_and_every_crd_is_established(
    control_plane: ControlPlane, installed: str
) -> None:
    for crd in CRDS:
        got = json.loads(control_plane.kubectl("get", f"crd/{crd}", "-o", "json").stdout)
        established = {c["type"]: c["status"] for c in got["status"]["conditions"]}
        assert established["Established"] == "True", crd
        assert got["status"]["acceptedNames"]["kind"] == got["spec"]["names"]["kind"]
    kinds = control_plane.kubectl("get", "all", "-n", installed, "-o", "name").stdout
    assert "deployment.apps/tagpilot" in kinds
    assert "service/webhook-receiver" in kinds


@pytest.mark.parametrize("kind", CRD_KINDS, ids=lambda kind: kind.kind)
def test_the_api_server_stores_each_crd_exactly_as_generated(
    control_plane: ControlPlane, installed: str, kind: CrdKind
) -> None:
    # The YAML round trip (through kubectl's YAML 1.1 reader) changes no value.
    stored = json.loads(control_plane.kubectl("get", f"crd/{kind.name}", "-o", "json").stdout)
    generated = crd_document(kind)
    assert stored["spec"]["versions"] == generated["spec"]["versions"]
    assert stored["spec"]["names"] == generated["spec"]["names"]


def test_applying_the_export_twice_changes_nothing(
    control_plane: ControlPlane, installed: str
) -> None:
    before = control_plane.kubectl("get", f"crd/{CRDS[1]}", "-o", "jsonpath={.metadata.generation}")
    install(control_plane, installed)
    after = control_plane.kubectl("get", f"crd/{CRDS[1]}", "-o", "jsonpath={.metadata.generation}")
    assert after.stdout == before.stdout


def test_the_blaster_objects_are_accepted_and_get_shows_fluxs_columns(
    control_plane: ControlPlane, installed: str
) -> None:
    control_plane.kubectl("apply", "-f", "-", stdin=blaster_objects(installed))

    table = control_plane.kubectl("get", "imagepolicies", "-A").stdout.splitlines()
    assert table[0].split() == ["NAMESPACE", "NAME", "IMAGE", "TAG", "READY", "STATUS", "AGE"]
    assert any(line.split()[:2] == [installed, "blaster-dev-policy"] for line in table[1:])

    wide = control_plane.kubectl("get", "imagerepositories", "-n", installed, "-o", "wide").stdout
    header = wide.splitlines()[0]
    for column in ("NAME", "IMAGE", "TAGS", "READY", "STATUS", "LAST SCAN", "AGE"):
        assert column in header
    assert "registry.reids.net.au/games/blaster" in wide

    short = control_plane.kubectl("get", "imgauto,gitrepo", "-n", installed, "-o", "name").stdout
    assert "imageupdateautomation.image.toolkit.fluxcd.io/blaster-dev-automation" in short
    assert "gitrepository.source.toolkit.fluxcd.io/blaster-dev" in short


def test_the_api_server_fills_in_fluxs_defaults(
    control_plane: ControlPlane, installed: str
) -> None:
    control_plane.kubectl("apply", "-f", "-", stdin=blaster_objects(installed))
    repo = json.loads(
        control_plane.kubectl(
            "get", "imagerepository", "blaster-dev-repo", "-n", installed, "-o", "json"
        ).stdout
    )
    assert repo["spec"]["exclusionList"] == ["^.*\\.sig$"]
    assert repo["spec"]["provider"] == "generic"
    assert repo["status"] == {"observedGeneration": -1}


FLUX_POLICY_STATUS = {
    "observedGeneration": 1,
    "latestRef": {
        "name": "registry.reids.net.au/games/blaster",
        "tag": "dev-20251115.51",
        "digest": "sha256:" + "a" * 64,
    },
    "observedPreviousRef": {"name": "registry.reids.net.au/games/blaster", "tag": "dev-20251115.9"},
    "lastHandledReconcileAt": "2025-11-15T10:00:00Z",
    "conditions": [
        {
            "type": "Ready",
            "status": "True",
            "observedGeneration": 1,
            "lastTransitionTime": "2025-11-15T10:00:01Z",
            "reason": "Succeeded",
            "message": "Latest image tag for registry.reids.net.au/games/blaster "
            "resolved to dev-20251115.51",
        }
    ],
}


def test_a_status_with_fluxs_fields_survives_the_status_subresource(
    control_plane: ControlPlane, installed: str
) -> None:
    control_plane.kubectl("apply", "-f", "-", stdin=blaster_objects(installed))
    control_plane.kubectl(
        "patch",
        "imagepolicy",
        "blaster-dev-policy",
        "-n",
        installed,
        "--subresource=status",
        "--type=merge",
        "-p",
        json.dumps({"status": FLUX_POLICY_STATUS}),
    )
    got = json.loads(
        control_plane.kubectl(
            "get", "imagepolicy", "blaster-dev-policy", "-n", installed, "-o", "json"
        ).stdout
    )
    assert got["status"] == FLUX_POLICY_STATUS
    row = control_plane.kubectl("get", "imagepolicy", "blaster-dev-policy", "-n", installed).stdout
    assert "dev-20251115.51" in row and "True" in row


BAD_OBJECTS = [
    pytest.param(
        "ImagePolicy",
        {"imageRepositoryRef": {"name": "r"}, "policy": {"numerical": {"order": "up"}}},
        'spec.policy.numerical.order: Unsupported value: "up"',
        id="a numerical order that is neither asc nor desc",
    ),
    pytest.param(
        "ImagePolicy",
        {"imageRepositoryRef": {"name": "r"}, "policy": {"alphabetical": {}}, "interval": "5m"},
        "spec.interval is only accepted when spec.digestReflectionPolicy is set to 'Always'",
        id="an interval without digestReflectionPolicy Always (CEL)",
    ),
    pytest.param(
        "ImageRepository",
        {"image": "ghcr.io/a/b", "interval": "1 minute"},
        "spec.interval in body should match",
        id="an interval that is not a Go duration",
    ),
    pytest.param(
        "ImageRepository",
        {"image": "ghcr.io/a/b", "interval": "1m", "provider": "dockerhub"},
        'spec.provider: Unsupported value: "dockerhub"',
        id="an unknown registry provider",
    ),
    pytest.param(
        "GitRepository",
        {"url": "ssh://git@example.com/r.git", "interval": "1m", "serviceAccountName": "sa"},
        "serviceAccountName can only be set when provider is 'azure' or 'aws'",
        id="a GitRepository service account without a cloud provider (CEL)",
    ),
]


@pytest.mark.parametrize(("kind", "spec", "message"), BAD_OBJECTS)
def test_the_api_server_refuses_an_invalid_object_and_says_why(
    control_plane: ControlPlane, installed: str, kind: str, spec: dict[str, Any], message: str
) -> None:
    group = "source.toolkit.fluxcd.io" if kind == "GitRepository" else "image.toolkit.fluxcd.io"
    document = {
        "apiVersion": f"{group}/v1",
        "kind": kind,
        "metadata": {"name": "bad", "namespace": installed},
        "spec": spec,
    }
    result = control_plane.kubectl("create", "-f", "-", stdin=json.dumps(document), check=False)
    assert result.returncode != 0
    assert message in result.stderr


# -- RBAC, proven with the ServiceAccount's own token ---------------------------------------


@pytest.fixture(scope="module")
def service_account(
    control_plane: ControlPlane, installed: str, tmp_path_factory: pytest.TempPathFactory
) -> Identity:
    """The identity of ServiceAccount ``tagpilot`` (a bound token from the TokenRequest API)."""
    token = control_plane.kubectl("create", "token", "tagpilot", "-n", installed).stdout.strip()
    kubeconfig = tmp_path_factory.mktemp("sa") / "tagpilot.kubeconfig"
    kubeconfig.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [
                    {
                        "name": "test",
                        "cluster": {
                            "server": control_plane.url,
                            "certificate-authority": str(control_plane.serving_ca),
                        },
                    }
                ],
                "users": [{"name": "tagpilot", "user": {"token": token}}],
                "contexts": [{"name": "test", "context": {"cluster": "test", "user": "tagpilot"}}],
                "current-context": "test",
            }
        )
    )
    kubeconfig.chmod(0o600)
    return Identity(f"system:serviceaccount:{installed}:tagpilot", (), kubeconfig)


def _can_i(plane: ControlPlane, who: Identity, *question: str) -> bool:
    result = plane.kubectl("auth", "can-i", *question, identity=who, check=False)
    answer = result.stdout.strip()
    assert answer in ("yes", "no"), result.stderr
    return answer == "yes"


IN_NS = "--namespace={ns}"
ALLOWED = [
    ("list", "imagepolicies.image.toolkit.fluxcd.io", "--all-namespaces"),
    ("watch", "imagerepositories.image.toolkit.fluxcd.io", "--all-namespaces"),
    ("patch", "imageupdateautomations.image.toolkit.fluxcd.io", "--namespace=apps"),
    ("update", "imagepolicies.image.toolkit.fluxcd.io", "--subresource=status", "--namespace=apps"),
    (
        "patch",
        "imagerepositories.image.toolkit.fluxcd.io",
        "--subresource=status",
        "--namespace=apps",
    ),
    (
        "update",
        "imageupdateautomations.image.toolkit.fluxcd.io",
        "--subresource=finalizers",
        "-n=apps",
    ),
    ("watch", "gitrepositories.source.toolkit.fluxcd.io", "--all-namespaces"),
    ("get", "secrets", "--namespace=apps"),
    ("list", "secrets", "--all-namespaces"),
    ("create", "events", "--namespace=apps"),
    ("patch", "events.events.k8s.io", "--namespace=apps"),
    ("create", "leases.coordination.k8s.io", IN_NS),
    ("update", "leases.coordination.k8s.io", IN_NS),
    ("delete", "leases.coordination.k8s.io", IN_NS),
]
DENIED = [
    ("create", "secrets", "--namespace=apps"),
    ("update", "secrets", "--namespace=apps"),
    ("delete", "secrets", "--namespace=apps"),
    ("create", "deployments.apps", "--namespace=apps"),
    ("delete", "deployments.apps", IN_NS),
    ("patch", "namespaces"),
    ("delete", "namespaces"),
    ("create", "imagepolicies.image.toolkit.fluxcd.io", "--namespace=apps"),
    ("delete", "imagerepositories.image.toolkit.fluxcd.io", "--namespace=apps"),
    ("patch", "gitrepositories.source.toolkit.fluxcd.io", "--namespace=apps"),
    ("update", "gitrepositories.source.toolkit.fluxcd.io", "--subresource=status", "-n=apps"),
    ("create", "leases.coordination.k8s.io", "--namespace=apps"),
    ("create", "serviceaccounts", "--subresource=token", "--namespace=apps"),
    ("update", "customresourcedefinitions.apiextensions.k8s.io"),
    ("create", "clusterrolebindings.rbac.authorization.k8s.io"),
    ("get", "configmaps", "--namespace=apps"),
]


def _ids(rows: list[tuple[str, ...]]) -> list[str]:
    return [" ".join(row).replace("{ns}", "<install ns>") for row in rows]


@pytest.mark.parametrize("question", ALLOWED, ids=_ids(ALLOWED))
def test_the_service_account_may_do_what_the_controller_needs(
    control_plane: ControlPlane,
    installed: str,
    service_account: Identity,
    question: tuple[str, ...],
) -> None:
    asked = [part.replace("{ns}", installed) for part in question]
    assert _can_i(control_plane, service_account, *asked)


@pytest.mark.parametrize("question", DENIED, ids=_ids(DENIED))
def test_the_service_account_may_not_do_more(
    control_plane: ControlPlane,
    installed: str,
    service_account: Identity,
    question: tuple[str, ...],
) -> None:
    asked = [part.replace("{ns}", installed) for part in question]
    assert not _can_i(control_plane, service_account, *asked)


def test_the_service_account_really_reads_an_image_policy_and_writes_its_status(
    control_plane: ControlPlane, installed: str, service_account: Identity
) -> None:
    control_plane.kubectl("apply", "-f", "-", stdin=blaster_objects(installed))
    listed = control_plane.kubectl(
        "get", "imagepolicies", "-A", "-o", "name", identity=service_account
    ).stdout
    assert "imagepolicy.image.toolkit.fluxcd.io/blaster-dev-policy" in listed
    control_plane.kubectl(
        "patch",
        "imagepolicy",
        "blaster-dev-policy",
        "-n",
        installed,
        "--subresource=status",
        "--type=merge",
        "-p",
        json.dumps({"status": FLUX_POLICY_STATUS}),
        identity=service_account,
    )
    refused = control_plane.kubectl(
        "create",
        "secret",
        "generic",
        "stolen",
        "-n",
        installed,
        identity=service_account,
        check=False,
    )
    assert refused.returncode != 0 and "forbidden" in refused.stderr


def _listed_permissions(plane: ControlPlane, who: Identity, namespace: str) -> dict[str, set[str]]:
    """``kubectl auth can-i --list`` in ``namespace``: resource → verbs (no non-resource URLs)."""
    table = plane.kubectl("auth", "can-i", "--list", f"--namespace={namespace}", identity=who)
    found: dict[str, set[str]] = {}
    for line in table.stdout.splitlines()[1:]:
        tokens = line.split()
        if not tokens or tokens[0].startswith("["):
            continue
        verbs = " ".join(tokens[3:]).strip("[]").split()
        found.setdefault(tokens[0], set()).update(verbs)
    return found


def _expected(rules: tuple[Rule, ...]) -> dict[str, set[str]]:
    expected: dict[str, set[str]] = {}
    for rule in rules:
        for group in rule.api_groups:
            for resource in rule.resources:
                kind, _, sub = resource.partition("/")
                name = f"{kind}.{group}" if group else kind
                expected.setdefault(f"{name}/{sub}" if sub else name, set()).update(rule.verbs)
    return expected


# What Kubernetes' default bindings give every authenticated identity or ServiceAccount
# (self-reviews; reading ClusterTrustBundles for projected volumes), not tagpilot's rules.
_EVERYONE = {
    "clustertrustbundles.certificates.k8s.io",
    "selfsubjectaccessreviews.authorization.k8s.io",
    "selfsubjectrulesreviews.authorization.k8s.io",
    "selfsubjectreviews.authentication.k8s.io",
}


@pytest.mark.parametrize("where", ["another namespace", "the install namespace"])
def test_the_service_account_has_exactly_the_permissions_the_rules_declare(
    control_plane: ControlPlane, installed: str, service_account: Identity, where: str
) -> None:
    namespace = installed if where == "the install namespace" else "default"
    listed = _listed_permissions(control_plane, service_account, namespace)
    rules = CLUSTER_RULES + (LEASE_RULES if namespace == installed else ())
    assert {k: v for k, v in listed.items() if k not in _EVERYONE} == _expected(rules)


def test_fluxs_example_objects_are_accepted_by_our_crds(
    control_plane: ControlPlane, installed: str
) -> None:
    examples = example_objects()
    assert {document["kind"] for _, document in examples} == set(EXAMPLE_KINDS)
    for where, example in examples:
        example["metadata"]["namespace"] = installed
        result = control_plane.kubectl(
            "apply", "--dry-run=server", "-f", "-", stdin=json.dumps(example), check=False
        )
        assert result.returncode == 0, (where, result.stderr)


def test_installing_into_a_namespace_flux_owns_leaves_its_labels_alone(
    control_plane: ControlPlane, installed: str
) -> None:
    # The coexist command of the README, into a namespace another tool created and labelled.
    namespace = f"flux-like-{secrets.token_hex(3)}"
    control_plane.kubectl(
        "apply",
        "--server-side",
        "--field-manager=flux",
        "-f",
        "-",
        stdin=json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {"name": namespace, "labels": {"app.kubernetes.io/part-of": "flux"}},
            }
        ),
    )
    try:
        control_plane.kubectl(
            "apply",
            "--server-side",
            "--field-manager=tagpilot-install",
            "-f",
            "-",
            stdin=export("--crds", "skip", "--namespace", namespace),
        )
        labels = control_plane.kubectl(
            "get", "namespace", namespace, "-o", "jsonpath={.metadata.labels}"
        ).stdout
        assert json.loads(labels)["app.kubernetes.io/part-of"] == "flux"
        assert (
            "deployment.apps/tagpilot"
            in control_plane.kubectl("get", "deployments", "-n", namespace, "-o", "name").stdout
        )
    finally:
        control_plane.kubectl("delete", "namespace", namespace, "--wait=false", check=False)
        for kind in ("clusterrolebinding", "clusterrole"):
            control_plane.kubectl("delete", kind, f"tagpilot-{namespace}", check=False)
