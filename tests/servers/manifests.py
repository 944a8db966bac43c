"""Manifest builders shared by the end-to-end tests, the fault tests and ``make demo``."""

from __future__ import annotations

import base64

__all__ = ["secret"]


def secret(name: str, values: dict[str, str], kind: str = "Opaque") -> str:
    """A Secret manifest in ``flux-system`` with base64 ``data``."""
    data = {k: base64.b64encode(v.encode()).decode() for k, v in values.items()}
    body = "\n".join(f"  {k}: {v}" for k, v in data.items())
    return (
        f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\n"
        f"  namespace: flux-system\ntype: {kind}\ndata:\n{body}\n"
    )
