"""Small helpers for the kube client tests: ServiceAccount tokens, etcd compaction, who-am-I.

Everything here goes through the real control plane: tokens come from the TokenRequest API
(``kubectl create token``), compaction is etcd's own, identities are what the apiserver says.
"""

from __future__ import annotations

import json
import urllib.request

from tagpilot.adapters.kube import KubeClient, Resource

from .controlplane import ControlPlane

SELF_SUBJECT_REVIEWS = Resource(
    "authentication.k8s.io", "v1", "selfsubjectreviews", "SelfSubjectReview", namespaced=False
)


def service_account_token(plane: ControlPlane, namespace: str, name: str = "robot") -> str:
    """A bearer token for a new ServiceAccount ``name`` (no RBAC granted)."""
    plane.kubectl("create", "serviceaccount", name, "-n", namespace)
    return plane.kubectl("create", "token", name, "-n", namespace).stdout.strip()


async def who_am_i(client: KubeClient) -> str:
    """The user name the apiserver authenticated ``client`` as."""
    review = await client.create(
        SELF_SUBJECT_REVIEWS,
        None,
        {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"},
    )
    return str(review["status"]["userInfo"]["username"])


def _etcd_url(plane: ControlPlane) -> str:
    for argument in plane.processes[0].args:  # type: ignore[union-attr]
        if str(argument).startswith("--listen-client-urls="):
            return str(argument).split("=", 1)[1]
    raise AssertionError("etcd was started without --listen-client-urls")


def compact_etcd(plane: ControlPlane, revision: str) -> None:
    """Compact etcd's history up to ``revision``, as kube-apiserver does every few minutes."""
    request = urllib.request.Request(
        _etcd_url(plane) + "/v3/kv/compaction",
        data=json.dumps({"revision": revision, "physical": True}).encode(),
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
