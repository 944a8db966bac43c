"""``tagpilot install --export``: one deterministic YAML stream, in apply order, least privilege."""

from __future__ import annotations

from typing import Any

import pytest
from click.testing import CliRunner
from ruamel.yaml import YAML

from tagpilot.api.install import RUN_AS_USER
from tagpilot.cli.main import cli


def _export(*flags: str) -> str:
    result = CliRunner().invoke(cli, ["install", "--export", *flags])
    assert result.exit_code == 0, result.output
    return result.stdout


def _documents(*flags: str) -> list[dict[str, Any]]:
    return list(YAML(typ="safe").load_all(_export(*flags)))


def _kinds(documents: list[dict[str, Any]]) -> list[str]:
    return [f"{d['kind']}/{d['metadata']['name']}" for d in documents]


def test_two_exports_are_byte_identical() -> None:
    assert _export("--source-crds", "--shards", "a,b") == _export(
        "--source-crds", "--shards", "a,b"
    )


def test_the_export_lists_the_objects_in_apply_order() -> None:
    assert _kinds(_documents("--source-crds")) == [
        "Namespace/tagpilot-system",
        "CustomResourceDefinition/imagerepositories.image.toolkit.fluxcd.io",
        "CustomResourceDefinition/imagepolicies.image.toolkit.fluxcd.io",
        "CustomResourceDefinition/imageupdateautomations.image.toolkit.fluxcd.io",
        "CustomResourceDefinition/gitrepositories.source.toolkit.fluxcd.io",
        "ServiceAccount/tagpilot",
        "ClusterRole/tagpilot",
        "ClusterRoleBinding/tagpilot",
        "Role/tagpilot-leader-election",
        "RoleBinding/tagpilot-leader-election",
        "Deployment/tagpilot",
        "Service/webhook-receiver",
        "NetworkPolicy/tagpilot-allow-egress",
        "NetworkPolicy/tagpilot-allow-http",
    ]


@pytest.mark.parametrize(
    ("flags", "crds"),
    [
        pytest.param((), 3, id="default: the three image CRDs"),
        pytest.param(("--source-crds",), 4, id="--source-crds adds GitRepository"),
        pytest.param(("--crds", "skip"), 0, id="--crds skip: none"),
        pytest.param(("--crds", "skip", "--source-crds"), 0, id="skip wins over --source-crds"),
        pytest.param(
            ("--controllers", "image,kustomize"),
            4,
            id="the kustomize controller adds Kustomization",
        ),
        pytest.param(
            ("--source-crds", "--controllers", "image,source,kustomize"),
            5,
            id="the whole loop: GitRepository and Kustomization",
        ),
        pytest.param(
            ("--crds", "skip", "--controllers", "image,kustomize"),
            0,
            id="skip wins over the kustomize controller",
        ),
    ],
)
def test_which_crds_are_emitted(flags: tuple[str, ...], crds: int) -> None:
    kinds = [d["kind"] for d in _documents(*flags)]
    assert kinds.count("CustomResourceDefinition") == crds


def test_every_object_carries_the_common_labels_and_the_namespace_asked_for() -> None:
    for document in _documents("--source-crds", "-n", "flux-system", "--version", "9.9.9")[1:]:
        labels = document["metadata"]["labels"]
        assert labels["app.kubernetes.io/part-of"] == "tagpilot"
        assert labels["app.kubernetes.io/version"] == "9.9.9"
        assert labels["app.kubernetes.io/component"]
        if document["kind"] in ("ServiceAccount", "Role", "RoleBinding", "Deployment", "Service"):
            assert document["metadata"]["namespace"] == "flux-system"


def _deployments(*flags: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in _documents(*flags) if d["kind"] == "Deployment"}


def _args(deployment: dict[str, Any]) -> list[str]:
    args: list[str] = deployment["spec"]["template"]["spec"]["containers"][0]["args"]
    return args


def test_shards_get_a_deployment_each_and_the_main_one_takes_the_unlabelled_objects() -> None:
    deployments = _deployments("--shards", "shard1,shard2")
    assert list(deployments) == ["tagpilot", "tagpilot-shard1", "tagpilot-shard2"]
    selectors = {name: [a for a in _args(d) if "selector" in a] for name, d in deployments.items()}
    assert selectors == {
        "tagpilot": ["--watch-label-selector=!sharding.fluxcd.io/key"],
        "tagpilot-shard1": ["--watch-label-selector=sharding.fluxcd.io/key in (shard1)"],
        "tagpilot-shard2": ["--watch-label-selector=sharding.fluxcd.io/key in (shard2)"],
    }
    pods = [d["spec"]["selector"]["matchLabels"] for d in deployments.values()]
    assert len({tuple(sorted(p.items())) for p in pods}) == 3  # no Deployment adopts another's pods


def test_without_shards_the_controller_watches_everything() -> None:
    assert _args(_deployments()["tagpilot"]) == [
        "controller",
        "--watch-all-namespaces",
        "--enable-leader-election",
        "--log-format=json",
        "--http-address=:9797",
        "--state-dir=/var/lib/tagpilot",
        "--controllers=image",
    ]


@pytest.mark.parametrize(
    ("flags", "arg"),
    [
        pytest.param((), "--controllers=image", id="default: the image controllers"),
        pytest.param(
            ("--controllers", "image,source,kustomize"),
            "--controllers=image,source,kustomize",
            id="the whole loop",
        ),
        pytest.param(
            ("--controllers", "kustomize", "--shards", "a"),
            "--controllers=kustomize",
            id="every shard runs the same controllers",
        ),
    ],
)
def test_every_deployment_runs_the_controllers_asked_for(flags: tuple[str, ...], arg: str) -> None:
    for deployment in _deployments(*flags).values():
        assert [a for a in _args(deployment) if a.startswith("--controllers")] == [arg]


def test_the_kustomization_crd_comes_after_the_source_crd() -> None:
    names = [
        d["metadata"]["name"]
        for d in _documents("--source-crds", "--controllers", "image,source,kustomize")
        if d["kind"] == "CustomResourceDefinition"
    ]
    assert names[-2:] == [
        "gitrepositories.source.toolkit.fluxcd.io",
        "kustomizations.kustomize.toolkit.fluxcd.io",
    ]


def test_the_pod_is_locked_down() -> None:
    pod = _deployments("--image", "registry.example/tagpilot:1.2.3")["tagpilot"]["spec"]["template"]
    spec = pod["spec"]
    (container,) = spec["containers"]
    assert container["image"] == "registry.example/tagpilot:1.2.3"
    assert spec["securityContext"] == {
        "fsGroup": RUN_AS_USER,
        "runAsGroup": RUN_AS_USER,
        "runAsNonRoot": True,
        "runAsUser": RUN_AS_USER,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
    }
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in spec["volumes"]}
    assert mounts == {"/tmp": "tmp", "/var/lib/tagpilot": "state"}
    assert all(volumes[name] == {"emptyDir": {}, "name": name} for name in mounts.values())
    assert container["env"][0]["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.namespace"}}
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["ports"] == [{"containerPort": 9797, "name": "http", "protocol": "TCP"}]
    assert container["resources"]["limits"] == {"cpu": "1000m", "memory": "1Gi"}
    assert spec["terminationGracePeriodSeconds"] == 60
    assert pod["metadata"]["annotations"]["prometheus.io/scrape"] == "true"


def test_the_webhook_service_sends_port_80_to_the_http_port_of_every_tagpilot_pod() -> None:
    (service,) = [d for d in _documents("--shards", "a") if d["kind"] == "Service"]
    assert service["spec"]["ports"] == [
        {"name": "http", "port": 80, "protocol": "TCP", "targetPort": "http"}
    ]
    for deployment in _deployments("--shards", "a").values():
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert service["spec"]["selector"].items() <= labels.items()


def test_the_network_policies_select_only_tagpilots_pods() -> None:
    policies = [d for d in _documents("-n", "flux-system") if d["kind"] == "NetworkPolicy"]
    assert policies
    for policy in policies:
        assert policy["spec"]["podSelector"] == {
            "matchLabels": {"app.kubernetes.io/name": "tagpilot"}
        }


def test_the_cluster_role_grants_no_write_on_secrets_and_nothing_on_workloads() -> None:
    (role,) = [d for d in _documents() if d["kind"] == "ClusterRole"]
    for rule in role["rules"]:
        if "secrets" in rule["resources"]:
            assert rule["verbs"] == ["get", "list", "watch"]
        assert not {"deployments", "pods", "*"} & set(rule["resources"])
        assert "*" not in rule["verbs"]


def _bindings(*flags: str) -> dict[str, str]:
    return {
        d["metadata"]["name"]: d["roleRef"]["name"]
        for d in _documents(*flags)
        if d["kind"] == "ClusterRoleBinding"
    }


@pytest.mark.parametrize(
    ("flags", "bindings"),
    [
        pytest.param((), {"tagpilot": "tagpilot"}, id="image: its own ClusterRole only"),
        pytest.param(
            ("--controllers", "image,source"),
            {"tagpilot": "tagpilot"},
            id="source: its own ClusterRole only",
        ),
        pytest.param(
            ("--controllers", "image,source,kustomize"),
            {"tagpilot": "tagpilot", "tagpilot-cluster-admin": "cluster-admin"},
            id="kustomize: cluster-admin too, as Flux binds its kustomize-controller",
        ),
        pytest.param(
            ("--controllers", "kustomize", "-n", "flux-system"),
            {
                "tagpilot-flux-system": "tagpilot-flux-system",
                "tagpilot-flux-system-cluster-admin": "cluster-admin",
            },
            id="another namespace: names that do not collide",
        ),
    ],
)
def test_only_the_deploy_profile_binds_cluster_admin(
    flags: tuple[str, ...], bindings: dict[str, str]
) -> None:
    assert _bindings(*flags) == bindings


def _granted(*flags: str) -> dict[str, list[str]]:
    (role,) = [d for d in _documents(*flags) if d["kind"] == "ClusterRole"]
    granted: dict[str, list[str]] = {}
    for rule in role["rules"]:
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                name = f"{resource}.{group}" if group else resource
                granted.setdefault(name, []).extend(rule["verbs"])
    return granted


_WRITE = ["get", "list", "watch", "patch", "update"]
_STATUS = ["get", "patch", "update"]


@pytest.mark.parametrize(
    ("controllers", "resource", "verbs"),
    [
        pytest.param(
            "image",
            "gitrepositories.source.toolkit.fluxcd.io",
            ["get", "list", "watch"],
            id="image reads GitRepositories",
        ),
        pytest.param(
            "image",
            "gitrepositories/status.source.toolkit.fluxcd.io",
            None,
            id="image writes no GitRepository status",
        ),
        pytest.param(
            "image",
            "kustomizations.kustomize.toolkit.fluxcd.io",
            None,
            id="image has nothing on Kustomizations",
        ),
        pytest.param("image", "configmaps", None, id="image reads no ConfigMap"),
        pytest.param(
            "image,source",
            "gitrepositories.source.toolkit.fluxcd.io",
            ["get", "list", "watch", *_WRITE],
            id="source writes GitRepositories",
        ),
        pytest.param(
            "image,source",
            "gitrepositories/status.source.toolkit.fluxcd.io",
            _STATUS,
            id="source writes GitRepository status",
        ),
        pytest.param(
            "image,kustomize",
            "gitrepositories/status.source.toolkit.fluxcd.io",
            None,
            id="kustomize alone writes no GitRepository status",
        ),
        pytest.param(
            "image,kustomize",
            "kustomizations.kustomize.toolkit.fluxcd.io",
            _WRITE,
            id="kustomize writes Kustomizations",
        ),
        pytest.param(
            "image,kustomize",
            "kustomizations/status.kustomize.toolkit.fluxcd.io",
            _STATUS,
            id="kustomize writes Kustomization status",
        ),
        pytest.param(
            "image,kustomize",
            "kustomizations/finalizers.kustomize.toolkit.fluxcd.io",
            ["update"],
            id="kustomize sets its finalizer",
        ),
        pytest.param(
            "image,kustomize",
            "configmaps",
            ["get", "list", "watch"],
            id="kustomize reads substituteFrom ConfigMaps",
        ),
        pytest.param(
            "image,kustomize",
            "serviceaccounts",
            ["get", "list", "watch", "impersonate"],
            id="kustomize impersonates a serviceAccountName",
        ),
    ],
)
def test_the_cluster_role_grows_with_the_controllers(
    controllers: str, resource: str, verbs: list[str] | None
) -> None:
    assert _granted("--controllers", controllers).get(resource) == verbs


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        pytest.param((), "only --export is supported", id="no --export"),
        pytest.param(("--export", "-n", "Flux_System"), "not a DNS label", id="bad namespace"),
        pytest.param(("--export", "--shards", "a,a"), "distinct", id="a shard twice"),
        pytest.param(("--export", "--shards", "A b"), "must be a DNS label", id="bad shard name"),
        pytest.param(("--export", "--crds", "replace"), "'replace' is not one of", id="bad --crds"),
        pytest.param(
            ("--export", "--controllers", "image,helm"),
            "unknown controller 'helm'; choose from image, source, kustomize",
            id="an unknown controller",
        ),
        pytest.param(
            ("--export", "--controllers", ","), "no controller given", id="an empty controller list"
        ),
        pytest.param(
            ("--export", "--controllers", "image,image"), "distinct", id="a controller twice"
        ),
    ],
)
def test_bad_flags_exit_2_with_a_reason(flags: tuple[str, ...], message: str) -> None:
    result = CliRunner().invoke(cli, ["install", *flags])
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("flags", "labelled"),
    [
        pytest.param((), True, id="tagpilot-system is tagpilot's own: labelled"),
        pytest.param(("-n", "flux-system"), False, id="another namespace: named, never relabelled"),
    ],
)
def test_only_tagpilots_own_namespace_is_labelled_as_tagpilots(
    flags: tuple[str, ...], labelled: bool
) -> None:
    namespace = _documents(*flags)[0]
    assert namespace["kind"] == "Namespace"
    assert ("labels" in namespace["metadata"]) is labelled
