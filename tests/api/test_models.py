"""The API models: Flux's field names, CRD defaults, and validation with readable problems."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from tagpilot.api.automation import ImageUpdateAutomation
from tagpilot.api.image import ImagePolicy, ImageRepository
from tagpilot.api.meta import Condition, ImageRef, NamespacedName
from tagpilot.api.problems import problems_from
from tagpilot.api.secret import Secret
from tagpilot.api.source import GitRepository


def repository(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "image.toolkit.fluxcd.io/v1",
        "kind": "ImageRepository",
        "metadata": {"name": "app", "namespace": "apps"},
        "spec": {"image": "ghcr.io/org/app", "interval": "5m", **spec},
    }


def policy(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "image.toolkit.fluxcd.io/v1",
        "kind": "ImagePolicy",
        "metadata": {"name": "app", "namespace": "apps"},
        "spec": {
            "imageRepositoryRef": {"name": "app"},
            "policy": {"semver": {"range": "1.x"}},
            **spec,
        },
    }


def automation(api_version: str = "image.toolkit.fluxcd.io/v1", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": api_version,
        "kind": "ImageUpdateAutomation",
        "metadata": {"name": "auto", "namespace": "apps"},
        "spec": {
            "interval": "30m",
            "sourceRef": {"kind": "GitRepository", "name": "repo"},
            "git": {"commit": {"author": {"email": "bot@example.com"}}},
            **spec,
        },
    }


def problems(model: type[BaseModel], data: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(data)
    return [(problem.field, problem.message) for problem in problems_from(caught.value, model)]


def test_image_repository_defaults_follow_the_crd() -> None:
    spec = ImageRepository.model_validate(repository()).spec
    assert spec.exclusion_list == ["^.*\\.sig$"]
    assert spec.provider == "generic"
    assert spec.effective_timeout.text == "5m"
    assert not spec.suspend and not spec.insecure


@pytest.mark.parametrize(
    ("timeout", "interval", "expected"),
    [
        pytest.param("30s", "5m", "30s", id="explicit-timeout"),
        pytest.param(None, "5m", "5m0s", id="defaults-to-interval"),
        pytest.param(None, "500ms", "1s", id="floored-at-one-second"),
    ],
)
def test_the_scan_timeout_defaults_to_the_interval_and_is_floored(
    timeout: str | None, interval: str, expected: str
) -> None:
    spec = {"interval": interval} | ({"timeout": timeout} if timeout else {})
    obj = ImageRepository.model_validate(repository(**spec))
    assert obj.spec.effective_timeout.go_string() == expected


def test_policy_order_defaults_to_asc_and_the_repository_namespace_to_the_policys() -> None:
    obj = ImagePolicy.model_validate(policy(policy={"numerical": {}}))
    assert obj.spec.policy.numerical is not None and obj.spec.policy.numerical.order == "asc"
    assert obj.spec.digest_reflection_policy == "Never"
    assert obj.repository_key == NamespacedName("apps", "app")
    other = ImagePolicy.model_validate(policy(imageRepositoryRef={"name": "r", "namespace": "x"}))
    assert str(other.repository_key) == "x/r"


def test_v1_automation_defaults_the_update_strategy_to_setters() -> None:
    obj = ImageUpdateAutomation.model_validate(automation())
    assert obj.spec.update.strategy == "Setters"
    assert obj.spec.git is not None
    assert obj.spec.git.commit.effective_message_template == "Update from image update automation"


def test_git_repository_timeout_defaults_to_sixty_seconds() -> None:
    obj = GitRepository.model_validate(
        {
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "GitRepository",
            "metadata": {"name": "repo"},
            "spec": {"url": "ssh://git@host/repo", "interval": "1m"},
        }
    )
    assert obj.spec.timeout.seconds == 60
    assert obj.namespace == "default"


@pytest.mark.parametrize(
    ("model", "data", "expected"),
    [
        pytest.param(
            ImagePolicy,
            policy(policy={"numerical": {"order": "ascending"}}),
            [("spec.policy.numerical.order", "must be one of asc, desc")],
            id="order-enum",
        ),
        pytest.param(
            ImagePolicy,
            policy(policy={}),
            [
                (
                    "spec.policy",
                    "exactly one of semver, alphabetical, numerical must be set (found: none)",
                )
            ],
            id="empty-policy",
        ),
        pytest.param(
            ImagePolicy,
            policy(digestReflectionPolicy="Always"),
            [
                (
                    "spec.interval",
                    "spec.interval must be set when spec.digestReflectionPolicy is set to 'Always'",
                )
            ],
            id="always-needs-interval",
        ),
        pytest.param(
            ImagePolicy,
            policy(interval="5m"),
            [
                (
                    "spec.interval",
                    "spec.interval is only accepted when "
                    "spec.digestReflectionPolicy is set to 'Always'",
                )
            ],
            id="interval-only-with-always",
        ),
        pytest.param(
            ImagePolicy,
            policy(digestReflectionPolicy="Sometimes"),
            [("spec.digestReflectionPolicy", "must be one of Never, IfNotPresent, Always")],
            id="reflection-enum",
        ),
        pytest.param(
            ImageRepository,
            repository(exclusionList=[f"^x{i}$" for i in range(26)]),
            [("spec.exclusionList", "must have at most 25 items")],
            id="exclusion-list-max-25",
        ),
        pytest.param(
            ImageRepository,
            repository(exclusionList=["ok", "(unclosed"]),
            [("spec.exclusionList[1]", "invalid regular expression: missing ): (unclosed")],
            id="exclusion-regex",
        ),
        pytest.param(
            ImageRepository,
            repository(image="https://ghcr.io/org/app"),
            [
                (
                    "spec.image",
                    "image 'https://ghcr.io/org/app' should not include URL scheme; remove 'https://'",
                )
            ],
            id="image-scheme",
        ),
        pytest.param(
            ImageRepository,
            repository(image="localhost:5000/app@sha256:abc"),
            [
                (
                    "spec.image",
                    "image 'localhost:5000/app@sha256:abc' should not include a tag; remove ':abc'",
                )
            ],
            id="image-digest",
        ),
        pytest.param(
            ImageRepository,
            repository(provider="digitalocean"),
            [("spec.provider", "must be one of generic, aws, azure, gcp")],
            id="provider-enum",
        ),
        pytest.param(
            ImageRepository,
            repository(secretRef={"nmae": "x"}),
            [
                ("spec.secretRef.name", "is required"),
                ("spec.secretRef.nmae", "unknown field 'nmae' (did you mean 'name'?)"),
            ],
            id="typo-in-reference",
        ),
        pytest.param(
            ImageUpdateAutomation,
            automation("image.toolkit.fluxcd.io/v1beta2", update={"path": "./x"}),
            [
                (
                    "spec.update.strategy",
                    "is required in image.toolkit.fluxcd.io/v1beta2 (use strategy: Setters, "
                    "or move to image.toolkit.fluxcd.io/v1 where it is the default)",
                )
            ],
            id="v1beta2-strategy-required",
        ),
        pytest.param(
            ImageUpdateAutomation,
            automation(sourceRef={"kind": "OCIRepository", "name": "x"}),
            [("spec.sourceRef.kind", "must be one of GitRepository")],
            id="source-kind",
        ),
        pytest.param(
            ImageUpdateAutomation,
            automation(git={"commit": {"author": {"name": "bot"}}}),
            [("spec.git.commit.author.email", "is required")],
            id="author-email-required",
        ),
        pytest.param(
            ImageUpdateAutomation,
            automation(
                git={"commit": {"author": {"email": "a@b"}}, "push": {"refspec": "+refs/heads/x"}}
            ),
            [("spec.git.push.refspec", "must match the pattern ^$|^[^+:]")],
            id="force-refspec",
        ),
    ],
)
def test_invalid_objects_report_field_and_expectation(
    model: type[BaseModel], data: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    assert sorted(problems(model, data)) == sorted(expected)


def test_v1beta2_automation_without_update_block_takes_the_crd_default() -> None:
    obj = ImageUpdateAutomation.model_validate(automation("image.toolkit.fluxcd.io/v1beta2"))
    assert obj.spec.update.strategy == "Setters"


def test_git_implementation_belongs_to_beta_git_repositories_only() -> None:
    data = {
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "GitRepository",
        "metadata": {"name": "repo"},
        "spec": {"url": "https://host/repo", "interval": "1m", "gitImplementation": "go-git"},
    }
    assert problems(GitRepository, data) == [
        (
            "spec.gitImplementation",
            "unknown field 'gitImplementation' in source.toolkit.fluxcd.io/v1 "
            "(only v1beta1/v1beta2 had it)",
        )
    ]
    data["apiVersion"] = "source.toolkit.fluxcd.io/v1beta2"
    assert GitRepository.model_validate(data).spec.git_implementation == "go-git"


def test_secret_values_merge_string_data_over_data_and_never_show_in_repr() -> None:
    secret = Secret.model_validate(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "creds"},
            "data": {"username": "Z2l0", "password": "b2xk"},
            "stringData": {"password": "hunter2"},
        }
    )
    assert secret.values() == {"username": b"git", "password": b"hunter2"}
    assert "hunter2" not in repr(secret) and "hunter2" not in str(secret)


def test_secret_problems_never_echo_secret_values() -> None:
    data = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s"},
        "stringData": {"token": 12345},
    }
    with pytest.raises(ValidationError) as caught:
        Secret.model_validate(data)
    (problem,) = problems_from(caught.value, Secret)
    assert problem.field == "stringData.token"
    assert problem.value is None and "12345" not in problem.describe()


@pytest.mark.parametrize(
    ("ref", "text"),
    [
        pytest.param({"name": "ghcr.io/org/app", "tag": "1.0"}, "ghcr.io/org/app:1.0", id="tag"),
        pytest.param(
            {"name": "app", "tag": "1.0", "digest": "sha256:ab"},
            "app:1.0@sha256:ab",
            id="tag-and-digest",
        ),
    ],
)
def test_image_ref_prints_name_tag_and_digest(ref: dict[str, str], text: str) -> None:
    assert str(ImageRef.model_validate(ref)) == text


def test_status_models_read_flux_status_fields() -> None:
    data = policy()
    data["status"] = {
        "latestRef": {"name": "ghcr.io/org/app", "tag": "5.0.3", "digest": "sha256:1"},
        "observedPreviousRef": {"name": "ghcr.io/org/app", "tag": "5.0.2"},
        "observedGeneration": 1,
        "conditions": [
            {
                "type": "Ready",
                "status": "True",
                "reason": "Succeeded",
                "lastTransitionTime": "2024-03-17T22:22:34Z",
                "message": "Latest image tag for ghcr.io/org/app resolved to 5.0.3",
            }
        ],
    }
    status = ImagePolicy.model_validate(data).status
    assert status is not None and status.latest_ref is not None
    assert str(status.latest_ref) == "ghcr.io/org/app:5.0.3@sha256:1"
    assert status.conditions == [
        Condition(
            type="Ready",
            status="True",
            reason="Succeeded",
            last_transition_time="2024-03-17T22:22:34Z",
            message="Latest image tag for ghcr.io/org/app resolved to 5.0.3",
        )
    ]


def test_automation_status_keys_observed_policies_by_name() -> None:
    data = automation()
    data["status"] = {
        "lastPushCommit": "3ebb95cc",
        "observedPolicies": {"podinfo": {"name": "ghcr.io/s/podinfo", "tag": "5.0.3"}},
        "observedSourceRevision": "main@sha1:3ebb95cc",
    }
    status = ImageUpdateAutomation.model_validate(data).status
    assert status is not None and status.observed_policies is not None
    assert str(status.observed_policies["podinfo"]) == "ghcr.io/s/podinfo:5.0.3"
