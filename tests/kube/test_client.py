"""The kube client against a real apiserver: CRUD, selectors, paging, watches, SSA, refusals.

Every error case is produced by the real kube-apiserver (or etcd behind it): a stale
resourceVersion, a server-side apply conflict, RBAC, a compacted history, a wrong CA.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from servers.pki import CertificateAuthority
from tagpilot.adapters.kube import (
    CONFIGMAPS,
    EVENTS,
    IMAGE_POLICIES,
    SECRETS,
    AlreadyExistsError,
    ConflictError,
    ForbiddenError,
    GoneError,
    InvalidError,
    KubeClient,
    KubeConfig,
    NotFoundError,
    UnauthorizedError,
    WatchEvent,
    load_kubeconfig,
)
from tagpilot.adapters.kube.errors import error_from_status, parse_retry_after
from tagpilot.core.errors import RetryableError, StalledError
from tagpilot.core.secrets import SecretValue

from .conftest import MakeIdentity
from .controlplane import ControlPlane
from .helpers_client import compact_etcd, service_account_token
from .test_control_plane import apply_imagepolicy_crd


def configmap(name: str, labels: dict[str, str] | None = None, **data: str) -> dict[str, Any]:
    """A ConfigMap body."""
    metadata: dict[str, Any] = {"name": name}
    if labels:
        metadata["labels"] = labels
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, "data": data}


async def test_configmaps_are_created_read_replaced_patched_and_deleted(
    kube: KubeClient, namespace: str
) -> None:
    created = await kube.create(CONFIGMAPS, namespace, configmap("app", color="blue"))
    assert created["data"] == {"color": "blue"}

    got = await kube.get(CONFIGMAPS, namespace, "app")
    got["data"]["color"] = "green"
    replaced = await kube.replace(CONFIGMAPS, namespace, "app", got)
    assert replaced["data"] == {"color": "green"}

    patched = await kube.merge_patch(
        CONFIGMAPS, namespace, "app", {"data": {"color": None, "size": "L"}}
    )
    assert patched["data"] == {"size": "L"}

    await kube.delete(CONFIGMAPS, namespace, "app")
    with pytest.raises(NotFoundError) as missing:
        await kube.get(CONFIGMAPS, namespace, "app")
    assert (missing.value.status, missing.value.reason) == (404, "NotFound")
    assert f"GET /api/v1/namespaces/{namespace}/configmaps/app: 404 NotFound" in str(missing.value)
    with pytest.raises(NotFoundError):
        await kube.delete(CONFIGMAPS, namespace, "app")
    assert kube.requests["create"] == 1
    assert kube.requests["update"] == 1
    assert kube.requests["patch"] == 1


async def test_a_put_with_a_stale_resource_version_is_a_conflict(
    kube: KubeClient, namespace: str
) -> None:
    first = await kube.create(CONFIGMAPS, namespace, configmap("app", color="blue"))
    await kube.merge_patch(CONFIGMAPS, namespace, "app", {"data": {"color": "red"}})

    first["data"]["color"] = "green"
    with pytest.raises(ConflictError) as raised:
        await kube.replace(CONFIGMAPS, namespace, "app", first)
    assert raised.value.reason == "Conflict"
    assert "the object has been modified" in raised.value.api_message
    assert isinstance(raised.value, RetryableError)


async def test_creating_a_taken_name_says_it_already_exists(
    kube: KubeClient, namespace: str
) -> None:
    await kube.create(CONFIGMAPS, namespace, configmap("app"))
    with pytest.raises(AlreadyExistsError) as raised:
        await kube.create(CONFIGMAPS, namespace, configmap("app"))
    assert (raised.value.status, raised.value.reason) == (409, "AlreadyExists")


async def test_an_invalid_object_is_refused_as_stalled(kube: KubeClient, namespace: str) -> None:
    with pytest.raises(InvalidError) as raised:
        await kube.create(CONFIGMAPS, namespace, configmap("Not_A_Name"))
    assert isinstance(raised.value, StalledError)
    assert raised.value.status == 422
    assert "metadata.name: Invalid value" in raised.value.api_message


SHARD = "sharding.fluxcd.io/key"


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        pytest.param(f"!{SHARD}", ["main-a", "main-b"], id="not-sharded"),
        pytest.param(f"{SHARD} in (shard1)", ["one"], id="in-one-shard"),
        pytest.param(f"{SHARD} in (shard1, shard2)", ["one", "two"], id="in-two-shards"),
        pytest.param("app=blaster,tier!=db", ["main-a", "one"], id="equality-and-inequality"),
    ],
)
async def test_a_label_selector_is_applied_by_the_apiserver(
    kube: KubeClient, namespace: str, selector: str, expected: list[str]
) -> None:
    objects = {
        "main-a": {"app": "blaster"},
        "main-b": {"app": "blaster", "tier": "db"},
        "one": {"app": "blaster", SHARD: "shard1"},
        "two": {"app": "other", SHARD: "shard2"},
    }
    for name, labels in objects.items():
        await kube.create(CONFIGMAPS, namespace, configmap(name, labels))

    listed = await kube.list(CONFIGMAPS, namespace, label_selector=selector)

    assert sorted(item["metadata"]["name"] for item in listed.items) == expected
    assert {(item["apiVersion"], item["kind"]) for item in listed.items} == {("v1", "ConfigMap")}


async def test_a_list_follows_continue_pages_to_the_end(kube: KubeClient, namespace: str) -> None:
    for number in range(5):
        await kube.create(CONFIGMAPS, namespace, configmap(f"app-{number}"))

    listed = await kube.list(CONFIGMAPS, namespace, limit=2)

    assert [item["metadata"]["name"] for item in listed.items] == [f"app-{n}" for n in range(5)]
    assert kube.requests["list"] == 3
    assert int(listed.resource_version) > 0


async def _collect(
    kube: KubeClient, namespace: str, resource_version: str, until: str, timeout_seconds: int = 5
) -> list[WatchEvent]:
    events = []
    stream = kube.watch(
        CONFIGMAPS, namespace, resource_version=resource_version, timeout_seconds=timeout_seconds
    )
    async with contextlib.aclosing(stream):
        async for event in stream:
            events.append(event)
            if event.type == until:
                break
    return events


async def test_a_watch_from_a_resource_version_sees_every_later_change(
    kube: KubeClient, namespace: str
) -> None:
    await kube.create(CONFIGMAPS, namespace, configmap("before"))
    start = (await kube.list(CONFIGMAPS, namespace)).resource_version
    await kube.create(CONFIGMAPS, namespace, configmap("app", color="blue"))
    await kube.merge_patch(CONFIGMAPS, namespace, "app", {"data": {"color": "red"}})
    await kube.delete(CONFIGMAPS, namespace, "app")

    events = await _collect(kube, namespace, start, until="DELETED")

    seen = [(e.type, e.object["metadata"]["name"], e.object.get("data")) for e in events]
    assert seen == [
        ("ADDED", "app", {"color": "blue"}),
        ("MODIFIED", "app", {"color": "red"}),
        ("DELETED", "app", {"color": "red"}),
    ]


async def test_bookmarks_arrive_before_the_server_ends_a_watch(
    kube: KubeClient, namespace: str, control_plane: ControlPlane
) -> None:
    """The apiserver sends a bookmark shortly before timeoutSeconds while others write."""
    start = (await kube.list(CONFIGMAPS, namespace)).resource_version
    elsewhere = f"{namespace}-x"
    control_plane.kubectl("create", "namespace", elsewhere)

    async def write_elsewhere() -> None:
        for number in range(30):
            await kube.create(CONFIGMAPS, elsewhere, configmap(f"noise-{number}"))
            await asyncio.sleep(0.2)

    writer = asyncio.create_task(write_elsewhere())
    try:
        events = await _collect(kube, namespace, start, until="BOOKMARK", timeout_seconds=4)
    finally:
        writer.cancel()
        control_plane.kubectl("delete", "namespace", elsewhere, "--wait=false")
    assert events[-1].type == "BOOKMARK"
    assert int(events[-1].object["metadata"]["resourceVersion"]) > int(start)


async def test_a_watch_from_a_compacted_resource_version_raises_gone(
    kube: KubeClient, namespace: str, control_plane: ControlPlane
) -> None:
    """Events bypass the apiserver's watch cache, so etcd's own compaction answers."""
    event = {
        "metadata": {"name": "e1"},
        "involvedObject": {"kind": "ConfigMap", "name": "app", "namespace": namespace},
        "reason": "Tested",
        "message": "an event",
    }
    old = (await kube.create(EVENTS, namespace, event))["metadata"]["resourceVersion"]
    # a watch starts *after* its resourceVersion: two later writes put that start below the cut
    for name in ("e2", "e3"):
        await kube.create(EVENTS, namespace, {**event, "metadata": {"name": name}})
    compact_etcd(control_plane, (await kube.list(EVENTS, namespace)).resource_version)

    with pytest.raises(GoneError) as raised:
        async for _ in kube.watch(EVENTS, namespace, resource_version=old, timeout_seconds=2):
            pass
    assert (raised.value.status, raised.value.reason) == (410, "Expired")
    assert "too old" in raised.value.api_message


def _policy(name: str, **fields: Any) -> dict[str, Any]:
    return {
        "apiVersion": "image.toolkit.fluxcd.io/v1",
        "kind": "ImagePolicy",
        "metadata": {"name": name},
        **fields,
    }


SPEC = {"imageRepositoryRef": {"name": "blaster"}, "policy": {"semver": {"range": ">=1.0.0"}}}
STATUS = {
    "observedGeneration": 1,
    "latestRef": {"name": "registry.example/blaster", "tag": "1.2.3"},
}


async def test_status_is_applied_through_the_status_subresource_only(
    kube: KubeClient, namespace: str, control_plane: ControlPlane
) -> None:
    apply_imagepolicy_crd(control_plane)
    await kube.apply(
        IMAGE_POLICIES,
        namespace,
        "app",
        _policy("app", spec=SPEC, status=STATUS),
        field_manager="tagpilot",
    )
    assert "status" not in await kube.get(IMAGE_POLICIES, namespace, "app")

    dry = await kube.apply(
        IMAGE_POLICIES,
        namespace,
        "app",
        _policy("app", status=STATUS),
        field_manager="tagpilot",
        subresource="status",
        dry_run=True,
    )
    assert dry["status"] == STATUS
    assert "status" not in await kube.get(IMAGE_POLICIES, namespace, "app")

    await kube.apply(
        IMAGE_POLICIES,
        namespace,
        "app",
        _policy("app", status=STATUS),
        field_manager="tagpilot",
        subresource="status",
    )
    stored = await kube.get(IMAGE_POLICIES, namespace, "app")
    assert (stored["spec"], stored["status"]) == (SPEC, STATUS)
    assert (await kube.get(IMAGE_POLICIES, namespace, "app", subresource="status"))[
        "status"
    ] == STATUS


async def test_server_side_apply_conflicts_unless_forced(kube: KubeClient, namespace: str) -> None:
    await kube.apply(
        CONFIGMAPS, namespace, "app", configmap("app", color="blue"), field_manager="flux"
    )

    with pytest.raises(ConflictError) as raised:
        await kube.apply(
            CONFIGMAPS,
            namespace,
            "app",
            configmap("app", color="red"),
            field_manager="tagpilot",
            force=False,
        )
    assert (
        raised.value.api_message
        == 'Apply failed with 1 conflict: conflict with "flux": .data.color'
    )

    won = await kube.apply(
        CONFIGMAPS, namespace, "app", configmap("app", color="red"), field_manager="tagpilot"
    )
    assert won["data"] == {"color": "red"}
    managers = {entry["manager"] for entry in won["metadata"]["managedFields"]}
    assert "tagpilot" in managers
    assert kube.requests["apply"] == 3


@pytest.mark.parametrize("credential", ["client-certificate", "service-account-token"])
async def test_a_restricted_identity_is_forbidden_with_the_apiservers_words(
    control_plane: ControlPlane, namespace: str, make_identity: MakeIdentity, credential: str
) -> None:
    token = service_account_token(control_plane, namespace)
    if credential == "client-certificate":
        config = load_kubeconfig(make_identity("tenant").kubeconfig)
        user = "tenant"
    else:
        admin = load_kubeconfig(control_plane.admin.kubeconfig)
        config = KubeConfig(admin.server, admin.ca_pem, token=SecretValue(token.encode()))
        user = f"system:serviceaccount:{namespace}:robot"

    async with KubeClient(config) as client:
        with pytest.raises(ForbiddenError) as raised:
            await client.list(SECRETS, namespace)

    error = raised.value
    assert isinstance(error, StalledError)
    assert (error.status, error.reason) == (403, "Forbidden")
    assert f'User "{user}" cannot list resource "secrets"' in error.api_message
    assert str(error).startswith(
        f"kube-apiserver refused GET /api/v1/namespaces/{namespace}/secrets: 403 Forbidden: "
    )
    assert token not in str(error)
    assert token not in repr(error)


async def test_a_rotated_token_file_is_read_again_after_a_401(
    control_plane: ControlPlane, namespace: str, tmp_path: Path
) -> None:
    """Projected ServiceAccount tokens rotate: the same client must pick up the new one."""
    token_file = tmp_path / "token"
    token_file.write_text("not-a-valid-token")
    admin = load_kubeconfig(control_plane.admin.kubeconfig)
    config = KubeConfig(admin.server, admin.ca_pem, token_file=token_file)
    valid = service_account_token(control_plane, namespace)

    async with KubeClient(config) as client:
        with pytest.raises(UnauthorizedError) as refused:
            await client.served_versions("")
        token_file.write_text(valid + "\n")
        assert await client.served_versions("") == ["v1"]

    assert "not-a-valid-token" not in str(refused.value)
    assert client.requests["discovery"] == 4, "each 401 is retried once with a fresh read"


async def test_an_apiserver_signed_by_another_ca_is_refused_naming_the_server(
    control_plane: ControlPlane, tmp_path: Path
) -> None:
    admin = load_kubeconfig(control_plane.admin.kubeconfig)
    stranger = CertificateAuthority("stranger", tmp_path).cert_pem
    config = KubeConfig(admin.server, stranger, cert_pem=admin.cert_pem, key_pem=admin.key_pem)

    async with KubeClient(config) as client:
        with pytest.raises(RetryableError) as raised:
            await client.get(CONFIGMAPS, "default", "anything")

    assert control_plane.url in str(raised.value)
    assert "TLS certificate verification failed: unable to get local issuer" in str(raised.value)


async def test_a_closed_port_is_retryable_and_names_the_server(control_plane: ControlPlane) -> None:
    admin = load_kubeconfig(control_plane.admin.kubeconfig)
    config = KubeConfig("https://127.0.0.1:1", admin.ca_pem)
    async with KubeClient(config, timeout=2) as client:
        with pytest.raises(
            RetryableError, match=r"cannot reach kube-apiserver https://127.0.0.1:1"
        ):
            await client.list(CONFIGMAPS)


@pytest.mark.parametrize(
    ("group", "expected"),
    [
        pytest.param("", ["v1"], id="core"),
        pytest.param("coordination.k8s.io", ["v1"], id="leases"),
        pytest.param("image.toolkit.fluxcd.io", ["v1"], id="a-crd-group"),
        pytest.param("nothing.example.com", [], id="not-served"),
    ],
)
async def test_served_versions_come_from_discovery_preferred_first(
    kube: KubeClient, control_plane: ControlPlane, group: str, expected: list[str]
) -> None:
    if group == "image.toolkit.fluxcd.io":
        apply_imagepolicy_crd(control_plane)
    assert await kube.served_versions(group) == expected


@pytest.mark.parametrize(
    ("status", "body", "kind", "retry_after"),
    [
        pytest.param(
            429,
            {"kind": "Status", "reason": "TooManyRequests"},
            RetryableError,
            3.0,
            id="429-retry-after",
        ),
        pytest.param(503, b"upstream down", RetryableError, 3.0, id="503-plain-text"),
        pytest.param(
            200,
            {"kind": "Status", "code": 410, "reason": "Expired"},
            GoneError,
            None,
            id="watch-error-event-410",
        ),
        pytest.param(
            500,
            {"kind": "Status", "code": 500, "reason": "Expired"},
            GoneError,
            None,
            id="reason-expired",
        ),
        pytest.param(
            401, {"kind": "Status", "reason": "Unauthorized"}, StalledError, None, id="401-stalled"
        ),
    ],
)
def test_status_bodies_map_to_the_error_families(
    status: int, body: Any, kind: type[Exception], retry_after: float | None
) -> None:
    error = error_from_status("GET /api/v1/pods", status, body, parse_retry_after("3"))
    assert isinstance(error, kind)
    assert error.retry_after == retry_after
    assert str(error).startswith("kube-apiserver refused GET /api/v1/pods: ")


def test_retry_after_reads_seconds_and_http_dates() -> None:
    now = datetime(2026, 12, 2, 15, 0, 0, tzinfo=UTC)
    assert parse_retry_after("7", now) == 7.0
    assert parse_retry_after("Wed, 02 Dec 2026 15:00:30 GMT", now) == 30.0
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None


def test_the_kube_package_exports_exactly_its_promised_names() -> None:
    import tagpilot.adapters.kube as package  # noqa: PLC0415

    promised = {
        # connection and client
        "KubeConfig", "load_kubeconfig", "SERVICE_ACCOUNT_DIR",
        "KubeClient", "ObjectList", "WatchEvent",
        # resources
        "Resource", "SECRETS", "CONFIGMAPS", "EVENTS", "LEASES", "NAMESPACES",
        "IMAGE_REPOSITORIES", "IMAGE_POLICIES", "IMAGE_UPDATE_AUTOMATIONS", "GIT_REPOSITORIES",
        "CUSTOM_RESOURCE_DEFINITIONS",
        # errors
        "KubeApiError", "NotFoundError", "ConflictError", "AlreadyExistsError", "GoneError",
        "KubeRequestRefused", "UnauthorizedError", "ForbiddenError", "InvalidError",
        # informer and leader election
        "Informer", "CacheKey", "EventHandler",
        "LeaseElector", "LeaseTiming", "lease_name", "micro_time",
    }  # fmt: skip
    assert set(package.__all__) == promised
    assert all(hasattr(package, name) for name in promised)
