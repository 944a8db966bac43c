"""Loading a connection: each kubeconfig shape a controller meets, tried on a real apiserver.

Each working shape is loaded and then used: the apiserver's SelfSubjectReview says who it
authenticated, so a loader that quietly dropped the certificate or the token would fail.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from tagpilot.adapters.kube import KubeClient, KubeConfig, load_kubeconfig
from tagpilot.core.errors import InvalidInputError, StalledError

from .controlplane import ControlPlane
from .helpers_client import service_account_token, who_am_i

Material = dict[str, bytes]


def _admin_material(plane: ControlPlane) -> Material:
    """The admin's CA, certificate and key, read from the control plane's own kubeconfig."""
    config = json.loads(plane.admin.kubeconfig.read_text())
    user = config["users"][0]["user"]
    return {
        "ca": base64.b64decode(config["clusters"][0]["cluster"]["certificate-authority-data"]),
        "cert": base64.b64decode(user["client-certificate-data"]),
        "key": base64.b64decode(user["client-key-data"]),
    }


def _kubeconfig(server: str, cluster: dict[str, Any], user: dict[str, Any], **ctx: str) -> str:
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "lab", "cluster": {"server": server, **cluster}}],
            "users": [{"name": "me", "user": user}],
            "contexts": [{"name": "lab", "context": {"cluster": "lab", "user": "me", **ctx}}],
            "current-context": "lab",
        }
    )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _inline(server: str, m: Material, token: str, directory: Path) -> str:
    user = {"client-certificate-data": _b64(m["cert"]), "client-key-data": _b64(m["key"])}
    return _kubeconfig(server, {"certificate-authority-data": _b64(m["ca"])}, user)


def _files(server: str, m: Material, token: str, directory: Path) -> str:
    (directory / "pki").mkdir()
    for name, data in m.items():
        (directory / "pki" / f"{name}.pem").write_bytes(data)
    user = {"client-certificate": "pki/cert.pem", "client-key": "pki/key.pem"}
    return _kubeconfig(server, {"certificate-authority": "pki/ca.pem"}, user, namespace="apps")


def _token(server: str, m: Material, token: str, directory: Path) -> str:
    return _kubeconfig(server, {"certificate-authority-data": _b64(m["ca"])}, {"token": token})


def _token_file(server: str, m: Material, token: str, directory: Path) -> str:
    (directory / "token").write_text(token + "\n")
    cluster = {"certificate-authority-data": _b64(m["ca"])}
    return _kubeconfig(server, cluster, {"tokenFile": "token"})


Shape = Callable[[str, Material, str, Path], str]


@pytest.mark.parametrize(
    ("shape", "user", "namespace_of_context"),
    [
        pytest.param(_inline, "admin", "default", id="inline-data"),
        pytest.param(_files, "admin", "apps", id="file-paths-relative-to-the-kubeconfig"),
        pytest.param(_token, "robot", "default", id="token"),
        pytest.param(_token_file, "robot", "default", id="token-file"),
    ],
)
async def test_a_kubeconfig_connects_as_the_identity_it_names(
    control_plane: ControlPlane,
    namespace: str,
    tmp_path: Path,
    shape: Shape,
    user: str,
    namespace_of_context: str,
) -> None:
    token = service_account_token(control_plane, namespace)
    path = tmp_path / "config"
    path.write_text(shape(control_plane.url, _admin_material(control_plane), token, tmp_path))

    config = load_kubeconfig(path)

    assert config.namespace == namespace_of_context
    assert token not in repr(config)
    async with KubeClient(config) as client:
        who = await who_am_i(client)
    expected = "admin" if user == "admin" else f"system:serviceaccount:{namespace}:robot"
    assert who == expected


async def test_in_a_pod_the_service_account_files_are_used(
    control_plane: ControlPlane, namespace: str, tmp_path: Path
) -> None:
    mounted = tmp_path / "serviceaccount"
    mounted.mkdir()
    (mounted / "token").write_text(service_account_token(control_plane, namespace))
    (mounted / "ca.crt").write_bytes(_admin_material(control_plane)["ca"])
    (mounted / "namespace").write_text(namespace)
    host, port = control_plane.url.removeprefix("https://").rsplit(":", 1)
    environ = {"KUBERNETES_SERVICE_HOST": host, "KUBERNETES_SERVICE_PORT": port, "HOME": "/nowhere"}

    config = load_kubeconfig(service_account_dir=mounted, environ=environ)

    assert (config.server, config.namespace) == (control_plane.url, namespace)
    async with KubeClient(config) as client:
        assert await who_am_i(client) == f"system:serviceaccount:{namespace}:robot"


def test_the_first_file_of_kubeconfig_wins_over_in_cluster_and_home(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    first.write_text(_kubeconfig("https://first.example:6443", {}, {"token": "t"}))
    second.write_text(_kubeconfig("https://second.example:6443", {}, {"token": "t"}))
    environ = {
        "KUBECONFIG": f"{first}:{second}",
        "KUBERNETES_SERVICE_HOST": "10.0.0.1",
        "KUBERNETES_SERVICE_PORT": "443",
    }
    assert load_kubeconfig(environ=environ).server == "https://first.example:6443"


def test_without_anything_else_the_home_kubeconfig_is_read(tmp_path: Path) -> None:
    (tmp_path / ".kube").mkdir()
    (tmp_path / ".kube" / "config").write_text(
        _kubeconfig("https://home.example:6443", {}, {"token": "t"}, namespace="team")
    )
    config = load_kubeconfig(environ={"HOME": str(tmp_path)})
    assert (config.server, config.namespace) == ("https://home.example:6443", "team")


def test_insecure_skip_tls_verify_is_honoured_only_when_the_kubeconfig_says_so(
    tmp_path: Path,
) -> None:
    path = tmp_path / "config"
    path.write_text(_kubeconfig("https://lab:6443", {"insecure-skip-tls-verify": True}, {}))
    with capture_logs() as logs:
        assert load_kubeconfig(path).insecure_skip_tls_verify
    assert [(entry["log_level"], entry["server"]) for entry in logs] == [
        ("warning", "https://lab:6443")
    ]
    assert "TLS verification off" in logs[0]["event"]
    path.write_text(_kubeconfig("https://lab:6443", {}, {}))
    assert not load_kubeconfig(path).insecure_skip_tls_verify


SECRET = "c2VjcmV0LWtleS1tYXRlcmlhbA"  # not valid base64 on purpose: it must not be echoed


@pytest.mark.parametrize(
    ("text", "context", "error", "words"),
    [
        pytest.param(
            _kubeconfig("https://lab:6443", {}, {"exec": {"command": "aws"}}),
            None,
            StalledError,
            [
                "kubeconfig user 'me' uses exec credentials, which tagpilot does not run",
                "use a token or a client certificate",
            ],
            id="exec-user-refused",
        ),
        pytest.param(
            _kubeconfig("https://lab:6443", {}, {"auth-provider": {"name": "gcp"}}),
            None,
            StalledError,
            ["kubeconfig user 'me' uses an auth-provider"],
            id="auth-provider-refused",
        ),
        pytest.param(
            _kubeconfig("https://lab:6443", {}, {}),
            "staging",
            InvalidInputError,
            ["contexts", "no context named 'staging' (known: lab)"],
            id="missing-context",
        ),
        pytest.param(
            "apiVersion: v1\nkind: Config\n  current-context: lab\n",
            None,
            InvalidInputError,
            ["config:3: not valid YAML: mapping values are not allowed"],
            id="malformed-yaml-with-line",
        ),
        pytest.param(
            _kubeconfig(
                "https://lab:6443",
                {},
                {"client-key-data": SECRET + "!", "client-certificate-data": "AAAA"},
            ),
            None,
            InvalidInputError,
            ["users[me].user.client-key-data", "is not valid base64"],
            id="bad-base64-names-the-field-not-the-value",
        ),
        pytest.param(
            _kubeconfig("https://lab:6443", {"certificate-authority": "nope/ca.pem"}, {}),
            None,
            InvalidInputError,
            ["clusters[lab].cluster.certificate-authority", "cannot read", "nope/ca.pem"],
            id="missing-ca-file",
        ),
        pytest.param(
            _kubeconfig("lab:6443", {}, {}),
            None,
            InvalidInputError,
            ["clusters[lab].cluster.server", "must be an https:// URL"],
            id="server-without-scheme",
        ),
    ],
)
def test_a_kubeconfig_tagpilot_cannot_use_is_refused_with_the_file_and_field(
    tmp_path: Path,
    text: str,
    context: str | None,
    error: type[Exception],
    words: list[str],
) -> None:
    path = tmp_path / "config"
    path.write_text(text)
    with pytest.raises(error) as raised:
        load_kubeconfig(path, context)
    message = str(raised.value)
    assert str(path) in message
    for word in words:
        assert word in message
    assert SECRET not in message


def test_a_kube_config_never_shows_its_key() -> None:
    config = KubeConfig("https://lab:6443", None, cert_pem=b"CERT", key_pem=b"PRIVATE KEY")
    assert "PRIVATE KEY" not in repr(config)
