"""The test control plane is a real Kubernetes API: what later cluster-mode tests rely on.

Everything is looked at through real ``kubectl``, as a user would: the version, a CRD applied
server-side, objects and their status subresource, RBAC for an identity that is not admin,
and the isolation each test's namespace gives.
"""

from __future__ import annotations

import json
import time

import pytest
from ruamel.yaml import YAML

from .build import K8S_VERSION
from .conftest import MakeIdentity
from .controlplane import ControlPlane, Identity

GROUP = "image.toolkit.fluxcd.io"
CRD_NAME = f"imagepolicies.{GROUP}"

# A minimal ImagePolicy CRD written for these tests: the fields they use, a status subresource.
IMAGEPOLICY_CRD = f"""\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: {CRD_NAME}
spec:
  group: {GROUP}
  scope: Namespaced
  names:
    kind: ImagePolicy
    listKind: ImagePolicyList
    plural: imagepolicies
    singular: imagepolicy
  versions:
    - name: v1
      served: true
      storage: true
      subresources:
        status: {{}}
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              required: [imageRepositoryRef, policy]
              properties:
                imageRepositoryRef:
                  type: object
                  required: [name]
                  properties:
                    name: {{type: string}}
                policy:
                  type: object
                  properties:
                    semver:
                      type: object
                      properties:
                        range: {{type: string}}
            status:
              type: object
              properties:
                observedGeneration: {{type: integer, format: int64}}
                latestRef:
                  type: object
                  properties:
                    name: {{type: string}}
                    tag: {{type: string}}
"""


def imagepolicy(name: str, namespace: str, semver_range: str = ">=1.0.0") -> str:
    """An ImagePolicy manifest."""
    return f"""\
apiVersion: {GROUP}/v1
kind: ImagePolicy
metadata:
  name: {name}
  namespace: {namespace}
spec:
  imageRepositoryRef:
    name: blaster
  policy:
    semver:
      range: "{semver_range}"
"""


def read_yaml(text: str) -> dict[str, object]:
    """Parse one YAML document (safe loader)."""
    document = YAML(typ="safe").load(text)
    assert isinstance(document, dict), text
    return document


def apply_imagepolicy_crd(plane: ControlPlane) -> None:
    """Apply the CRD server-side and wait until it is Established (idempotent)."""
    plane.kubectl(
        "apply", "--server-side", "--field-manager=tagpilot-tests", "-f", "-", stdin=IMAGEPOLICY_CRD
    )
    plane.kubectl("wait", "--for=condition=Established", "--timeout=30s", f"crd/{CRD_NAME}")


@pytest.fixture
def imagepolicy_crd(control_plane: ControlPlane) -> str:
    """The ImagePolicy CRD, applied and Established; its name."""
    apply_imagepolicy_crd(control_plane)
    return CRD_NAME


def test_the_apiserver_reports_the_version_it_was_built_from(control_plane: ControlPlane) -> None:
    result = control_plane.kubectl("version", "--output=json")
    server = json.loads(result.stdout)["serverVersion"]
    major, minor = K8S_VERSION.removeprefix("v").split(".")[:2]
    assert (server["gitVersion"], server["major"], server["minor"]) == (K8S_VERSION, major, minor)
    assert server["gitTreeState"] == "clean"


def test_a_crd_applied_server_side_becomes_established_and_serves_objects(
    control_plane: ControlPlane, namespace: str
) -> None:
    apply_imagepolicy_crd(control_plane)
    crd = read_yaml(
        control_plane.kubectl(
            "get", f"crd/{CRD_NAME}", "-o", "yaml", "--show-managed-fields"
        ).stdout
    )
    managers = [entry["manager"] for entry in crd["metadata"]["managedFields"]]  # type: ignore[index]
    assert "tagpilot-tests" in managers

    control_plane.kubectl("create", "-f", "-", stdin=imagepolicy("blaster-dev", namespace))
    got = control_plane.kubectl("get", "imagepolicy", "blaster-dev", "-n", namespace, "-o", "yaml")

    policy = read_yaml(got.stdout)
    assert policy["kind"] == "ImagePolicy"
    assert policy["spec"] == {
        "imageRepositoryRef": {"name": "blaster"},
        "policy": {"semver": {"range": ">=1.0.0"}},
    }


def test_the_crd_schema_rejects_an_object_without_its_required_fields(
    control_plane: ControlPlane, imagepolicy_crd: str, namespace: str
) -> None:
    manifest = imagepolicy("no-ref", namespace).replace(
        "  imageRepositoryRef:\n    name: blaster\n", ""
    )
    result = control_plane.kubectl("create", "-f", "-", stdin=manifest, check=False)
    assert result.returncode != 0
    assert "spec.imageRepositoryRef: Required value" in result.stderr


def _status(plane: ControlPlane, name: str, namespace: str) -> object:
    got = plane.kubectl("get", "imagepolicy", name, "-n", namespace, "-o", "yaml")
    return read_yaml(got.stdout).get("status")


def test_status_is_written_through_the_status_subresource_only(
    control_plane: ControlPlane, imagepolicy_crd: str, namespace: str
) -> None:
    control_plane.kubectl("create", "-f", "-", stdin=imagepolicy("blaster-dev", namespace))
    latest = {"latestRef": {"name": "registry.example/blaster", "tag": "1.2.3"}}

    # Through the main resource, a status is dropped: only the subresource writes it.
    control_plane.kubectl(
        "patch",
        "imagepolicy",
        "blaster-dev",
        "-n",
        namespace,
        "--type=merge",
        "-p",
        json.dumps({"status": latest}),
    )
    assert _status(control_plane, "blaster-dev", namespace) is None

    control_plane.kubectl(
        "patch",
        "imagepolicy",
        "blaster-dev",
        "-n",
        namespace,
        "--subresource=status",
        "--type=merge",
        "-p",
        json.dumps({"status": {**latest, "observedGeneration": 1}}),
    )
    assert _status(control_plane, "blaster-dev", namespace) == {**latest, "observedGeneration": 1}


def _can_list(plane: ControlPlane, who: Identity, namespace: str) -> tuple[bool, str]:
    result = plane.kubectl("get", "imagepolicies", "-n", namespace, identity=who, check=False)
    return result.returncode == 0, result.stderr


def _wait_until_can_list(plane: ControlPlane, who: Identity, namespace: str) -> None:
    """RBAC reaches the authorizer through an informer: allow it a moment to catch up."""
    deadline = time.monotonic() + 10
    while not (allowed := _can_list(plane, who, namespace))[0] and time.monotonic() < deadline:
        time.sleep(0.2)
    assert allowed[0], allowed[1]


@pytest.mark.parametrize(
    ("subject_kind", "subject_name"),
    [
        pytest.param("User", "tenant", id="bound-by-user-name"),
        pytest.param("Group", "team-a", id="bound-by-group"),
    ],
)
def test_an_identity_is_forbidden_until_a_role_binding_grants_it_access(
    control_plane: ControlPlane,
    imagepolicy_crd: str,
    namespace: str,
    make_identity: MakeIdentity,
    subject_kind: str,
    subject_name: str,
) -> None:
    tenant = make_identity("tenant", groups=["team-a"])

    allowed, stderr = _can_list(control_plane, tenant, namespace)
    assert not allowed
    assert 'User "tenant" cannot list resource "imagepolicies"' in stderr
    assert "forbidden" in stderr.lower()

    control_plane.kubectl(
        "create",
        "role",
        "policy-reader",
        "-n",
        namespace,
        "--verb=get,list,watch",
        f"--resource=imagepolicies.{GROUP}",
    )
    control_plane.kubectl(
        "create",
        "rolebinding",
        "policy-reader",
        "-n",
        namespace,
        "--role=policy-reader",
        f"--{subject_kind.lower()}={subject_name}",
    )
    _wait_until_can_list(control_plane, tenant, namespace)

    # The Role grants reading only, and only in this namespace.
    create = control_plane.kubectl(
        "create", "-f", "-", identity=tenant, stdin=imagepolicy("mine", namespace), check=False
    )
    assert "forbidden" in create.stderr.lower()
    elsewhere = control_plane.kubectl("get", "imagepolicies", "-A", identity=tenant, check=False)
    assert "forbidden" in elsewhere.stderr.lower()


@pytest.mark.parametrize("turn", ["first", "second"])
def test_each_test_gets_its_own_empty_namespace(
    control_plane: ControlPlane, imagepolicy_crd: str, namespace: str, turn: str
) -> None:
    """Both turns create the same name: in a shared namespace the second would conflict."""
    listed = control_plane.kubectl("get", "imagepolicies", "-n", namespace, "-o", "name")
    assert listed.stdout == ""
    phase = control_plane.kubectl(
        "get", "namespace", namespace, "-o", "jsonpath={.status.phase}"
    ).stdout
    assert phase == "Active"
    control_plane.kubectl("create", "-f", "-", stdin=imagepolicy("blaster-dev", namespace))
