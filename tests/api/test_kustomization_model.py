"""The Kustomization model: Flux's field names, the controller's defaults, readable problems."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from tagpilot.api.descriptors import descriptor
from tagpilot.api.dump import object_document
from tagpilot.api.kinds import model_for
from tagpilot.api.kustomization import Kustomization
from tagpilot.api.loader import load_text
from tagpilot.api.problems import problems_from


def kustomization(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": {"name": "blaster-dev", "namespace": "flux-system"},
        "spec": {
            "interval": "10m",
            "prune": True,
            "sourceRef": {"kind": "GitRepository", "name": "blaster-dev"},
            **spec,
        },
    }


def test_the_seed_kustomization_reads_with_every_field_it_writes() -> None:
    obj = Kustomization.model_validate(
        kustomization(
            path="./k8s/dev",
            wait=True,
            timeout="5m",
            decryption={"provider": "sops", "secretRef": {"name": "sops-age"}},
            targetNamespace="blaster-dev",
            images=[{"name": "app", "newTag": "1.2.3"}],
            patches=[{"patch": "- op: remove\n  path: /x", "target": {"kind": "Deployment"}}],
            postBuild={"substitute": {"env": "dev"}},
        )
    )
    assert obj.spec.decryption is not None and obj.spec.decryption.secret_ref is not None
    assert obj.spec.decryption.secret_ref.name == "sops-age"
    assert obj.spec.images is not None and obj.spec.images[0].new_tag == "1.2.3"
    assert obj.spec.patches is not None and obj.spec.patches[0].target is not None
    assert obj.spec.patches[0].target.kind == "Deployment"
    assert str(obj.spec.source_ref) == "GitRepository/blaster-dev"


@pytest.mark.parametrize(
    ("spec", "timeout"),
    [
        pytest.param({"interval": "10m"}, "9m30s", id="interval-minus-30s"),
        pytest.param({"interval": "40s"}, "30s", id="never-below-30s"),
        pytest.param({"interval": "10m", "timeout": "5m"}, "5m", id="written-timeout"),
        pytest.param({"interval": "10m", "timeout": "10s"}, "30s", id="written-below-30s"),
    ],
)
def test_the_timeout_defaults_as_the_controller_computes_it(
    spec: dict[str, str], timeout: str
) -> None:
    obj = Kustomization.model_validate(kustomization(**spec))
    assert obj.spec.effective_timeout.text == timeout


def test_retry_interval_and_deletion_policy_default_without_being_written() -> None:
    obj = Kustomization.model_validate(kustomization())
    assert obj.spec.effective_retry_interval.text == "10m"
    assert obj.spec.effective_deletion_policy == "MirrorPrune"
    assert "timeout" not in object_document(obj)["spec"]
    assert object_document(obj)["spec"] == kustomization()["spec"]


@pytest.mark.parametrize(
    ("spec", "path"),
    [
        pytest.param({"prune": None}, ("spec", "prune"), id="prune-is-required"),
        pytest.param(
            {"sourceRef": {"kind": "HelmRepository", "name": "x"}},
            ("spec", "sourceRef", "kind"),
            id="source-kind-outside-the-enum",
        ),
        pytest.param({"interval": "1d"}, ("spec", "interval"), id="go-duration-only"),
        pytest.param({"namePrefix": ""}, ("spec", "namePrefix"), id="empty-prefix"),
        pytest.param(
            {"decryption": {"provider": "vault"}},
            ("spec", "decryption", "provider"),
            id="sops-is-the-only-provider",
        ),
        pytest.param({"prunee": True}, ("spec", "prunee"), id="unknown-field"),
    ],
)
def test_a_bad_spec_is_reported_at_its_field(spec: dict[str, Any], path: tuple[str, ...]) -> None:
    document = kustomization(**spec)
    document["spec"] = {k: v for k, v in document["spec"].items() if v is not None}
    with pytest.raises(ValidationError) as caught:
        Kustomization.model_validate(document)
    assert [p.path for p in problems_from(caught.value, Kustomization)] == [path]


def test_the_loader_reads_flux_kustomizations_and_skips_kustomizes_own() -> None:
    text = (
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\n"
        "metadata: {name: apps, namespace: flux-system}\n"
        "spec: {interval: 1m, prune: true, sourceRef: {kind: GitRepository, name: repo}}\n"
        "---\n"
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [a.yaml]\n"
    )
    result = load_text(text, file="clusters/apps.yaml")
    assert [type(o.obj).__name__ for o in result.objects] == ["Kustomization"]
    assert result.skipped == {"Kustomization": 1}
    assert model_for("kustomize.toolkit.fluxcd.io/v1", "Kustomization") is Kustomization


def test_the_status_parses_from_fluxs_json() -> None:
    status = descriptor("Kustomization").parse_status(
        {
            "observedGeneration": 2,
            "lastAppliedRevision": "develop@sha1:0123abcd",
            "inventory": {"entries": [{"id": "blaster-dev_app_apps_Deployment", "v": "v1"}]},
            "history": [
                {
                    "digest": "sha256:00",
                    "firstReconciled": "2026-01-01T00:00:00Z",
                    "lastReconciled": "2026-01-01T00:01:00Z",
                    "lastReconciledDuration": "1.2s",
                    "lastReconciledStatus": "ReconciliationSucceeded",
                    "totalReconciliations": 2,
                    "metadata": {"revision": "develop@sha1:0123abcd"},
                }
            ],
        }
    )
    assert status.inventory.entries[0].v == "v1"
    assert status.history[0].total_reconciliations == 2
