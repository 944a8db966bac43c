"""``healthCheckExprs``: Flux's CEL status rules decide for their kinds, kstatus for the rest."""

from __future__ import annotations

from typing import Any

import pytest

from tagpilot.api.kustomization import CustomHealthCheck
from tagpilot.core.kustomize.cel_health import HealthExpressions, InvalidCELExpressionError
from tagpilot.core.kustomize.kstatus import Status, compute

CERTIFICATE = CustomHealthCheck.model_validate(
    {
        "apiVersion": "cert-manager.io/v1",
        "kind": "Certificate",
        "inProgress": "status.conditions.exists(e, e.type == 'Issuing' && e.status == 'True')",
        "failed": "status.conditions.exists(e, e.type == 'Ready' && e.status == 'False')",
        "current": "status.conditions.exists(e, e.type == 'Ready' && e.status == 'True')",
    }
)
EXPRESSIONS = HealthExpressions([CERTIFICATE])


def _certificate(
    *conditions: tuple[str, str], api: str = "cert-manager.io/v1", **extra: Any
) -> dict[str, Any]:
    status: dict[str, Any] = {"conditions": [{"type": t, "status": s} for t, s in conditions]}
    status.update(extra.pop("status", {}))
    return {"apiVersion": api, "kind": "Certificate",
            "metadata": {"name": "tls", "generation": 2, **extra}, "status": status}  # fmt: skip


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        pytest.param(_certificate(("Ready", "True")), Status.CURRENT, id="current-when-ready"),
        pytest.param(_certificate(("Ready", "False")), Status.FAILED, id="failed-when-not-ready"),
        pytest.param(
            _certificate(("Issuing", "True"), ("Ready", "False")),
            Status.IN_PROGRESS,
            id="in-progress-is-evaluated-first",
        ),
        pytest.param(
            _certificate(("Ready", "True"), status={"observedGeneration": 1}),
            Status.IN_PROGRESS,
            id="an-old-observed-generation-is-in-progress-whatever-the-expressions",
        ),
        pytest.param(
            _certificate(("Ready", "True"), deletionTimestamp="2026-01-01T00:00:00Z"),
            Status.TERMINATING,
            id="a-deleted-object-is-terminating",
        ),
        pytest.param(
            _certificate(("Ready", "Unknown")),
            Status.IN_PROGRESS,
            id="no-expression-true-is-in-progress",
        ),
        pytest.param(
            _certificate(("Ready", "True"), api="cert-manager.io/v1beta1"),
            Status.CURRENT,
            id="the-version-does-not-matter-only-group-and-kind",
        ),
        pytest.param(
            {"apiVersion": "cert-manager.io/v1", "kind": "Certificate", "metadata": {}},
            Status.UNKNOWN,
            id="a-missing-field-is-unknown-and-keeps-the-wait-going",
        ),
    ],
)
def test_cel_rules_decide_for_their_kind(obj: dict[str, Any], expected: Status) -> None:
    assert compute(obj, custom=EXPRESSIONS).status is expected


def test_other_kinds_keep_kstatus() -> None:
    issuer = {"apiVersion": "cert-manager.io/v1", "kind": "Issuer", "metadata": {},
              "status": {"conditions": [{"type": "Ready", "status": "False"}]}}  # fmt: skip
    assert EXPRESSIONS(issuer) is None
    assert compute(issuer, custom=EXPRESSIONS).status is Status.IN_PROGRESS


def test_an_expression_that_does_not_compile_is_a_terminal_configuration_error() -> None:
    broken = CERTIFICATE.model_copy(update={"failed": "status.conditions.filter(e,"})
    with pytest.raises(InvalidCELExpressionError) as caught:
        HealthExpressions([CERTIFICATE, broken])
    assert caught.value.reason == "InvalidCELExpression"
    message = caught.value.message
    assert message.startswith("Reconciliation failed terminally due to configuration error")
    assert "spec.healthCheckExprs[1].failed" in message
