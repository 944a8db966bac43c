"""The controller's Deployments, its webhook Service and its NetworkPolicies.

One Deployment ``tagpilot`` and, with shards, one ``tagpilot-<shard>`` each, split the
Flux way: a shard watches ``sharding.fluxcd.io/key in (<shard>)``, the main one
``!sharding.fluxcd.io/key``; each has its own Lease (the controller derives the Lease name
from its selector).  The pod runs as a fixed non-root user with a read-only root
filesystem; ``/tmp`` and the state directory are emptyDirs (the state store is a cache).

The NetworkPolicies follow Flux's shapes (all egress; ingress from the same namespace;
the HTTP port from any namespace, for scraping and webhooks) but select only tagpilot's
pods and carry tagpilot's names, so installing into ``flux-system`` changes nothing for
Flux's own pods.
"""

from __future__ import annotations

from tagpilot.api.crds import Props
from tagpilot.api.install.options import (
    APP_NAME,
    HTTP_PORT,
    RUN_AS_USER,
    SHARD_LABEL,
    STATE_DIR,
    InstallOptions,
)

__all__ = [
    "CONTROLLER_ARGS",
    "deployment_document",
    "deployments",
    "network_policies",
    "pod_selector",
    "webhook_service",
]

CONTROLLER_ARGS = (
    "controller",
    "--watch-all-namespaces",
    "--enable-leader-election",
    "--log-format=json",
    f"--http-address=:{HTTP_PORT}",
    f"--state-dir={STATE_DIR}",
)
"""The controller's arguments in every Deployment; ``--controllers=<list>`` follows, and a
shard adds its label selector."""

_NAME_LABEL = "app.kubernetes.io/name"
_INSTANCE_LABEL = "app.kubernetes.io/instance"


def pod_selector() -> dict[str, str]:
    """Labels every tagpilot pod has (all shards)."""
    return {_NAME_LABEL: APP_NAME}


def _selector(shard: str | None, shards: tuple[str, ...]) -> str | None:
    if shard is not None:
        return f"{SHARD_LABEL} in ({shard})"
    return f"!{SHARD_LABEL}" if shards else None


def _container(options: InstallOptions, selector: str | None) -> Props:
    args: list[str] = [*CONTROLLER_ARGS, f"--controllers={','.join(options.controllers)}"]
    if selector is not None:
        args.append(f"--watch-label-selector={selector}")
    probe_port: Props = {"port": "http"}
    return {
        # The image's entrypoint is `tagpilot`; the arguments start with the command.
        "args": args,
        "env": [
            {
                "name": "RUNTIME_NAMESPACE",
                "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}},
            },
        ],
        "image": options.image_ref,
        "imagePullPolicy": "IfNotPresent",
        "livenessProbe": {"httpGet": {"path": "/healthz", **probe_port}},
        "name": "controller",
        "ports": [{"containerPort": HTTP_PORT, "name": "http", "protocol": "TCP"}],
        "readinessProbe": {"httpGet": {"path": "/readyz", **probe_port}},
        "resources": {
            "limits": {"cpu": "1000m", "memory": "1Gi"},
            "requests": {"cpu": "100m", "memory": "64Mi"},
        },
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
        },
        "volumeMounts": [
            {"mountPath": "/tmp", "name": "tmp"},
            {"mountPath": STATE_DIR, "name": "state"},
        ],
    }


def deployment_document(
    options: InstallOptions, labels: dict[str, str], shard: str | None
) -> Props:
    """The Deployment for ``shard`` (None: the main one)."""
    name = APP_NAME if shard is None else f"{APP_NAME}-{shard}"
    selector = _selector(shard, options.shards)
    match = {**pod_selector(), _INSTANCE_LABEL: name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"labels": dict(labels), "name": name, "namespace": options.namespace},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": dict(match)},
            "template": {
                "metadata": {
                    "annotations": {
                        "prometheus.io/path": "/metrics",
                        "prometheus.io/port": str(HTTP_PORT),
                        "prometheus.io/scrape": "true",
                    },
                    "labels": {**labels, **match},
                },
                "spec": {
                    "containers": [_container(options, selector)],
                    "securityContext": {
                        "fsGroup": RUN_AS_USER,
                        "runAsGroup": RUN_AS_USER,
                        "runAsNonRoot": True,
                        "runAsUser": RUN_AS_USER,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "serviceAccountName": APP_NAME,
                    "terminationGracePeriodSeconds": 60,
                    "volumes": [
                        {"emptyDir": {}, "name": "tmp"},
                        {"emptyDir": {}, "name": "state"},
                    ],
                },
            },
        },
    }


def deployments(options: InstallOptions, labels: dict[str, str]) -> list[Props]:
    """The main Deployment, then one per shard in the order given."""
    return [deployment_document(options, labels, shard) for shard in (None, *options.shards)]


def webhook_service(options: InstallOptions, labels: dict[str, str]) -> Props:
    """Service ``webhook-receiver``: port 80 to the pods' HTTP port (every replica serves it)."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "labels": dict(labels),
            "name": "webhook-receiver",
            "namespace": options.namespace,
        },
        "spec": {
            "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": "http"}],
            "selector": pod_selector(),
            "type": "ClusterIP",
        },
    }


def network_policies(options: InstallOptions, labels: dict[str, str]) -> list[Props]:
    """Egress to anywhere, ingress from the namespace, the HTTP port from any namespace."""
    pods: Props = {"matchLabels": pod_selector()}

    def policy(name: str, spec: Props) -> Props:
        return {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"labels": dict(labels), "name": name, "namespace": options.namespace},
            "spec": {"podSelector": pods, **spec},
        }

    return [
        policy(
            f"{APP_NAME}-allow-egress",
            {
                "egress": [{}],
                "ingress": [{"from": [{"podSelector": {}}]}],
                "policyTypes": ["Ingress", "Egress"],
            },
        ),
        policy(
            f"{APP_NAME}-allow-http",
            {
                # Flux opens scraping and webhooks separately; here one port serves both.
                "ingress": [
                    {
                        "from": [{"namespaceSelector": {}}],
                        "ports": [{"port": HTTP_PORT, "protocol": "TCP"}],
                    }
                ],
                "policyTypes": ["Ingress"],
            },
        ),
    ]
