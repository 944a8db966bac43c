"""How Flux's image controllers are built from their Go modules, and that what was built works.

The helper-module tests are pure. Flux's CRDs, which ``make test`` prepares from Flux's api
modules (``tests.kube.upstream``), are applied to a control plane of their own and must
validate objects as Flux's do. The controllers themselves are benchmark infrastructure and
cannot be built where the module proxy refuses their modules; ``bench_cluster`` reports
that, so no test here depends on them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tagpilot.api.crds import CRD_KINDS

from .build import binaries
from .controlplane import ControlPlane, run_control_plane
from .flux_build import (
    KUSTOMIZE,
    controller_go_mod,
    flux_binaries,
    kustomize_binaries,
    missing_modules,
    refused_modules,
)
from .upstream import upstream_crd

# The shape of a Flux controller's go.mod: its api module replaced by the local ./api tree,
# a pinned fork, a block of replacements and a comment after one of them.
CONTROLLER_GO_MOD = """\
module github.com/fluxcd/image-automation-controller

go 1.27.0

replace github.com/fluxcd/image-automation-controller/api => ./api

// Pin kustomize to a known release.
replace (
\tsigs.k8s.io/kustomize/api => sigs.k8s.io/kustomize/api v0.21.0
\tsigs.k8s.io/kustomize/kyaml => sigs.k8s.io/kustomize/kyaml v0.21.0 // the same
\tgithub.com/example/local => ../local
)

replace github.com/opencontainers/go-digest => github.com/opencontainers/go-digest v1.0.1-0.2022

require (
\tgithub.com/fluxcd/image-automation-controller/api v1.3.0
\tgithub.com/fluxcd/pkg/runtime v0.122.0
)
"""

MODULE = "github.com/fluxcd/image-automation-controller"


def helper_go_mod() -> str:
    return controller_go_mod(MODULE, "v1.3.0", CONTROLLER_GO_MOD)


def test_the_helper_module_requires_the_controller_and_its_api_module_at_one_tag() -> None:
    go_mod = helper_go_mod()
    assert f"\t{MODULE} v1.3.0\n" in go_mod
    assert f"\t{MODULE}/api v1.3.0\n" in go_mod
    assert "\ngo 1.27.0\n" in go_mod


@pytest.mark.parametrize(
    "replacement",
    [
        pytest.param("github.com/opencontainers/go-digest => "
                     "github.com/opencontainers/go-digest v1.0.1-0.2022", id="single-line"),
        pytest.param("sigs.k8s.io/kustomize/api => sigs.k8s.io/kustomize/api v0.21.0",
                     id="in-a-block"),
        pytest.param("sigs.k8s.io/kustomize/kyaml => sigs.k8s.io/kustomize/kyaml v0.21.0",
                     id="with-a-comment"),
    ],
)  # fmt: skip
def test_the_helper_module_copies_every_published_replacement(replacement: str) -> None:
    assert f"\t{replacement}\n" in helper_go_mod()


@pytest.mark.parametrize("local", ["=> ./api", "=> ../local"])
def test_the_helper_module_drops_the_local_replacements(local: str) -> None:
    assert local not in helper_go_mod()


GO_GET_REFUSED = """\
go: github.com/fluxcd/source-controller imports
\tgithub.com/fluxcd/pkg/artifact/config: github.com/fluxcd/pkg/artifact@v0.27.1: reading \
https://proxy.example/github.com/fluxcd/pkg/artifact/@v/v0.27.1.zip: 403 Forbidden
\tserver response: This module version is not available.
go: github.com/fluxcd/source-controller imports
\tgithub.com/fluxcd/pkg/artifact/digest: github.com/fluxcd/pkg/artifact@v0.27.1: reading \
https://proxy.example/github.com/fluxcd/pkg/artifact/@v/v0.27.1.zip: 403 Forbidden
go: github.com/fluxcd/source-controller imports
\tgithub.com/sigstore/cosign/v3/pkg/cosign: github.com/sigstore/cosign/v3@v3.1.4: reading \
https://proxy.example/github.com/sigstore/cosign/v3/@v/v3.1.4.zip: 403 Forbidden
go: github.com/example/gone@v1.0.0: reading https://proxy.example/x/@v/v1.0.0.zip: 404 Not Found
"""


def test_modules_the_proxy_refuses_are_named_once_each() -> None:
    assert refused_modules(GO_GET_REFUSED) == [
        "github.com/fluxcd/pkg/artifact@v0.27.1",
        "github.com/sigstore/cosign/v3@v3.1.4",
    ]


def test_modules_answered_404_are_named_apart_from_the_refused_ones() -> None:
    # Whether a 404 is a refusal is decided by asking the proxy for the module's versions.
    assert missing_modules(GO_GET_REFUSED) == ["github.com/example/gone@v1.0.0"]


def test_kustomize_controller_has_a_slot_of_its_own_beside_the_image_controllers() -> None:
    slot = kustomize_binaries()
    assert slot.directory != flux_binaries().directory
    assert slot.executable(KUSTOMIZE).name == "kustomize-controller"
    assert kustomize_binaries("v1.9.0").directory != slot.directory


def test_each_set_of_versions_has_its_own_cache_slot() -> None:
    older = flux_binaries({"image-reflector-controller": "v1.2.5"})
    assert older.directory != flux_binaries().directory
    assert older.directory.name.startswith("image-reflector-v1.2.5_image-automation-")


# -- what was built ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def flux_crds() -> str:
    """Flux's CRDs for the four kinds, as ``make test`` prepares them (tests.kube.upstream)."""
    names = [f"{kind.plural}.{kind.group}" for kind in CRD_KINDS if kind.kind in EXPECTED_KINDS]
    return "\n---\n".join(json.dumps(upstream_crd(name)) for name in names)


@pytest.fixture(scope="module")
def own_control_plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    """A control plane of its own: Flux's CRDs must not replace the session's tagpilot CRDs."""
    with run_control_plane(binaries(), tmp_path_factory.mktemp("flux-crds")) as plane:
        yield plane


EXPECTED_KINDS = {
    "ImageRepository": "image.toolkit.fluxcd.io",
    "ImagePolicy": "image.toolkit.fluxcd.io",
    "ImageUpdateAutomation": "image.toolkit.fluxcd.io",
    "GitRepository": "source.toolkit.fluxcd.io",
}


def test_the_upstream_crds_apply_and_are_established(
    flux_crds: str, own_control_plane: ControlPlane
) -> None:
    applied = own_control_plane.kubectl("apply", "--server-side", "-f", "-", stdin=flux_crds)
    assert "serverside-applied" in applied.stdout
    own_control_plane.kubectl(
        "wait", "--for=condition=Established", "--timeout=60s", "crd", "--all"
    )
    listed = json.loads(own_control_plane.kubectl("get", "crd", "-o", "json").stdout)
    kinds = {crd["spec"]["names"]["kind"]: crd["spec"]["group"] for crd in listed["items"]}
    assert EXPECTED_KINDS.items() <= kinds.items()


def _policy(name: str, policy: str) -> str:
    return (
        "apiVersion: image.toolkit.fluxcd.io/v1\nkind: ImagePolicy\nmetadata:\n"
        f"  name: {name}\n  namespace: default\nspec:\n  imageRepositoryRef:\n    name: app\n"
        f"  policy:\n{policy}"
    )


@pytest.mark.parametrize(
    ("policy", "accepted"),
    [
        pytest.param("    semver:\n      range: '>=1.0.0'\n", True, id="semver-range"),
        pytest.param("    alphabetical:\n      order: asc\n", True, id="alphabetical"),
        pytest.param("    semver: {}\n", False, id="semver-without-range"),
        pytest.param("    alphabetical:\n      order: sideways\n", False, id="unknown-order"),
    ],
)
def test_the_upstream_crds_validate_an_image_policy_as_flux_does(
    flux_crds: str,
    own_control_plane: ControlPlane,
    request: pytest.FixtureRequest,
    policy: str,
    accepted: bool,
) -> None:
    own_control_plane.kubectl("apply", "--server-side", "-f", "-", stdin=flux_crds)
    own_control_plane.kubectl(
        "wait", "--for=condition=Established", "--timeout=60s", "crd", "--all"
    )
    name = request.node.callspec.id
    applied = own_control_plane.kubectl(
        "apply", "--server-side", "-f", "-", stdin=_policy(name, policy), check=False
    )
    assert (applied.returncode == 0) is accepted, applied.stderr
