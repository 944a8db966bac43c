"""Helpers for the tests that install tagpilot on the real control plane.

``export`` runs ``tagpilot install --export`` as a user would; ``install`` applies it
server-side into a namespace (every CRD, and the controllers asked for: the image profile
by default, ``WHOLE_LOOP`` for the deploy profile) and waits for the CRDs;
``installed_namespace`` is the body of a module-scoped fixture (a fresh install namespace,
removed with its cluster roles and bindings at the end; the CRDs stay, they are shared by
the session).  ``blaster_objects`` are the
testdata's Blaster objects, ``FLUX_POLICY_STATUS`` a status as Flux writes it.
``service_account_identity`` is ServiceAccount ``tagpilot`` as a kubectl identity (a bound
token from the TokenRequest API, no controller-manager needed); ``can_i`` asks
``kubectl auth can-i`` as someone.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from .controlplane import ControlPlane, Identity

__all__ = [
    "CRDS",
    "FLUX_POLICY_STATUS",
    "WHOLE_LOOP",
    "blaster_objects",
    "can_i",
    "export",
    "install",
    "installed_namespace",
    "service_account_identity",
]

TESTDATA = (
    Path(__file__).parent.parent / "testdata" / "manifests" / "good" / "clusters" / "my-cluster"
)
CRDS = (
    "imagerepositories.image.toolkit.fluxcd.io",
    "imagepolicies.image.toolkit.fluxcd.io",
    "imageupdateautomations.image.toolkit.fluxcd.io",
    "gitrepositories.source.toolkit.fluxcd.io",
    "kustomizations.kustomize.toolkit.fluxcd.io",
)
WHOLE_LOOP = "image,source,kustomize"
"""``--controllers`` for the whole loop: the deploy profile (cluster-admin) included."""


def export(*flags: str) -> str:
    """The YAML `tagpilot install --export FLAGS` prints (run as the user runs it)."""
    result = subprocess.run(
        [sys.executable, "-m", "tagpilot", "install", "--export", *flags],
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


def install(plane: ControlPlane, namespace: str, controllers: str = "image") -> None:
    """Apply the export (every CRD; RBAC for ``controllers``) into ``namespace``; wait."""
    yaml = YAML(typ="safe")
    flags = ("--source-crds", "--namespace", namespace)
    documents = list(yaml.load_all(export(*flags, "--controllers", controllers)))
    # Every test module sees every CRD, whatever profile its namespace is installed with.
    documents += [
        d
        for d in yaml.load_all(export(*flags, "--controllers", WHOLE_LOOP))
        if d["kind"] == "CustomResourceDefinition"
        and d["metadata"]["name"] not in _names(documents)
    ]
    plane.kubectl(
        "apply",
        "--server-side",
        "--force-conflicts",
        # The manager the other tests applying these cluster-wide CRDs use: whichever runs
        # first, the next one's apply replaces the CRD instead of conflicting on it.
        "--field-manager=tagpilot-tests",
        "-f",
        "-",
        stdin="\n---\n".join(json.dumps(document) for document in documents),
    )
    plane.kubectl(
        "wait", "--for=condition=Established", "--timeout=60s", *(f"crd/{c}" for c in CRDS)
    )


def _names(documents: list[dict[str, Any]]) -> set[str]:
    return {d["metadata"]["name"] for d in documents if d["kind"] == "CustomResourceDefinition"}


def blaster_objects(namespace: str) -> str:
    """The testdata's Blaster ImageRepository, ImagePolicy, automation, GitRepository and
    Kustomization.

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
        document["apiVersion"] = f"{group}/v1"
        document["metadata"]["namespace"] = namespace
        kept.append(document)
    return "\n---\n".join(json.dumps(document) for document in kept)


def installed_namespace(plane: ControlPlane, controllers: str = "image") -> Iterator[str]:
    """Install into a new namespace; yield its name; remove it and its cluster roles."""
    namespace = f"tagpilot-install-{secrets.token_hex(3)}"
    install(plane, namespace, controllers)
    yield namespace
    plane.kubectl("delete", "namespace", namespace, "--wait=false", check=False)
    for kind, name in (
        ("clusterrolebinding", f"tagpilot-{namespace}"),
        ("clusterrolebinding", f"tagpilot-{namespace}-cluster-admin"),
        ("clusterrole", f"tagpilot-{namespace}"),
    ):
        plane.kubectl("delete", kind, name, check=False)


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


def service_account_identity(plane: ControlPlane, namespace: str, directory: Path) -> Identity:
    """ServiceAccount ``tagpilot`` of ``namespace``, with a kubeconfig in ``directory``."""
    token = plane.kubectl("create", "token", "tagpilot", "-n", namespace).stdout.strip()
    kubeconfig = directory / "tagpilot.kubeconfig"
    kubeconfig.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [
                    {
                        "name": "test",
                        "cluster": {
                            "server": plane.url,
                            "certificate-authority": str(plane.serving_ca),
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
    return Identity(f"system:serviceaccount:{namespace}:tagpilot", (), kubeconfig)


def can_i(plane: ControlPlane, who: Identity, *question: str) -> bool:
    """``kubectl auth can-i QUESTION`` as ``who``: yes or no (anything else fails the test)."""
    result = plane.kubectl("auth", "can-i", *question, identity=who, check=False)
    answer = result.stdout.strip()
    assert answer in ("yes", "no"), result.stderr
    return answer == "yes"
