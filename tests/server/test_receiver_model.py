"""The Receiver model: Flux's fields, the webhook path formula, load-time refusals."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError
from server_support import receiver

from tagpilot.api.receiver import Receiver, webhook_path
from tagpilot.core.secrets import SecretData, SecretIndex
from tagpilot.server.receivers import ReceiverTable, receiver_entries

REPO = {"kind": "ImageRepository", "name": "app"}


def test_webhook_path_is_sha256_of_token_name_and_namespace() -> None:
    # printf '%s' 'token123ghcr-receiverflux-system' | sha256sum
    expected = "/hook/5da451f281a9d47180431f97046d8095aa01137e69971817b8bda43712c5b945"
    assert webhook_path(b"token123", "ghcr-receiver", "flux-system") == expected


def test_receiver_webhook_path_uses_its_own_name_and_namespace() -> None:
    hook = receiver("generic", [REPO], name="webapp", namespace="default")
    # printf '%s' 'abcwebappdefault' | sha256sum
    assert hook.webhook_path(b"abc") == (
        "/hook/25682d9022f272430091d94868e216da94b4879f571798c0ce5e8736a6c74cfc"
    )


def test_flux_manifest_with_every_field_loads() -> None:
    hook = Receiver.model_validate(
        {
            "apiVersion": "notification.toolkit.fluxcd.io/v1",
            "kind": "Receiver",
            "metadata": {"name": "ghcr", "namespace": "flux-system"},
            "spec": {
                "type": "github",
                "interval": "5m",
                "events": ["ping", "package"],
                "resources": [
                    {
                        "apiVersion": "image.toolkit.fluxcd.io/v1",
                        "kind": "ImageRepository",
                        "name": "*",
                        "matchLabels": {"team": "blaster"},
                    },
                ],
                "secretRef": {"name": "webhook-token"},
                "suspend": False,
            },
        }
    )
    assert hook.spec.effective_interval.go_string() == "5m0s"
    assert hook.spec.resources[0].match_labels == {"team": "blaster"}
    assert hook.secret_name == "webhook-token"


def test_interval_defaults_to_ten_minutes() -> None:
    assert receiver("generic", [REPO]).spec.effective_interval.go_string() == "10m0s"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        pytest.param({"type": "gcr"}, "receiver type 'gcr' is not supported", id="gcr-type"),
        pytest.param({"type": "generic-oidc"}, "not supported", id="oidc-type"),
        pytest.param({"type": "slack"}, "Input should be", id="unknown-type"),
        pytest.param({"resourceFilter": "true"}, "CEL resource filters", id="cel-filter"),
        pytest.param({"secretRef": None}, "secretRef is required", id="no-secret"),
        pytest.param(
            {"resources": [{"kind": "ImageRepository", "name": "*"}]},
            "name '*' needs matchLabels",
            id="wildcard-without-labels",
        ),
        pytest.param(
            {"resources": [{"kind": "ImageRepository", "name": "a", "matchLabels": {"x": "y"}}]},
            "matchLabels requires name to be '*'",
            id="labels-without-wildcard",
        ),
        pytest.param(
            {"resources": [{"kind": "ImageRepository", "name": "a", "namespace": "*"}]},
            "namespace '*' requires name to be '*'",
            id="namespace-wildcard-alone",
        ),
        pytest.param(
            {"resources": [{"kind": "Deployment", "name": "a"}]},
            "Input should be",
            id="unknown-resource-kind",
        ),
    ],
)
def test_bad_receiver_spec_is_refused_with_reason(spec: dict[str, Any], message: str) -> None:
    body: dict[str, Any] = {"type": "generic", "resources": [REPO], "secretRef": {"name": "t"}}
    body.update(spec)
    if body["secretRef"] is None:
        del body["secretRef"]
    with pytest.raises(ValidationError, match=message.replace("*", r"\*")):
        Receiver.model_validate({"metadata": {"name": "r"}, "spec": body})


@pytest.mark.parametrize(
    ("events", "event", "accepted"),
    [
        pytest.param(None, "anything", True, id="no-list-accepts-all"),
        pytest.param(["package"], "PACKAGE", True, id="case-insensitive"),
        pytest.param(["package"], "push", False, id="other-event"),
        pytest.param(["package"], None, False, id="no-event-header"),
    ],
)
def test_events_filter(events: list[str] | None, event: str | None, accepted: bool) -> None:
    hook = receiver("github", [REPO], events=events)
    assert hook.spec.accepts_event(event) is accepted


def _index(*secrets: SecretData) -> SecretIndex:
    return SecretIndex({(secret.namespace, secret.name): secret for secret in secrets})


def test_entries_pair_receivers_with_their_token_and_report_missing_ones() -> None:
    served = receiver("generic", [REPO], name="served")
    no_key = receiver("generic", [REPO], name="no-key", secretRef={"name": "empty"})
    no_secret = receiver("generic", [REPO], name="no-secret", secretRef={"name": "absent"})
    blank = receiver("generic", [REPO], name="blank", secretRef={"name": "blank"})
    secrets = _index(
        SecretData("apps", "hook-token", {"token": b"abc"}),
        SecretData("apps", "empty", {}),
        SecretData("apps", "blank", {"token": b" \n"}),
    )
    entries, problems = receiver_entries([served, no_key, no_secret, blank], secrets)
    assert [item.receiver.name for item in entries] == ["served"]
    assert entries[0].path == served.webhook_path(b"abc")
    assert len(problems) == 3
    assert "Receiver apps/no-key: Secret 'apps/empty' has no key 'token'" in problems[0]
    assert "Receiver apps/no-secret: Secret 'apps/absent' not found" in problems[1]
    assert problems[2] == "Receiver apps/blank: the 'token' in Secret 'blank' is empty"
    assert "abc" not in " ".join(problems)


def test_table_finds_entries_by_path_and_replaces_them_whole() -> None:
    first = receiver("generic", [REPO], name="first")
    secrets = _index(SecretData("apps", "hook-token", {"token": b"abc"}))
    entries, _ = receiver_entries([first], secrets)
    table = ReceiverTable(entries)
    assert table.find(first.webhook_path(b"abc")) is entries[0]
    table.replace([])
    assert table.find(first.webhook_path(b"abc")) is None
    assert table.entries() == []
