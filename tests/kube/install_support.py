"""Helpers for the tests that install tagpilot on the real control plane.

``export`` runs ``tagpilot install --export`` as a user would; ``install`` applies it
server-side into a namespace and waits for the CRDs; ``installed_namespace`` is the body
of a module-scoped fixture (a fresh install namespace, removed with its cluster roles at
the end; the CRDs stay, they are shared by the session).  ``blaster_objects`` are the
testdata's Blaster objects, ``FLUX_POLICY_STATUS`` a status as Flux writes it.
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

from .controlplane import ControlPlane

__all__ = [
    "CRDS",
    "FLUX_POLICY_STATUS",
    "blaster_objects",
    "export",
    "install",
    "installed_namespace",
]

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


def installed_namespace(plane: ControlPlane) -> Iterator[str]:
    """Install into a new namespace; yield its name; remove it and its cluster roles."""
    namespace = f"tagpilot-install-{secrets.token_hex(3)}"
    install(plane, namespace)
    yield namespace
    plane.kubectl("delete", "namespace", namespace, "--wait=false", check=False)
    for kind in ("clusterrolebinding", "clusterrole"):
        plane.kubectl("delete", kind, f"tagpilot-{namespace}", check=False)


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
