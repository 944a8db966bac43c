"""Kubernetes ``v1`` Secret, as read from manifests and written by ``create secret``.

``data`` values are base64; ``stringData`` values are plain and win over ``data`` on the
same key (the API server merges them that way).  :meth:`Secret.values` gives the merged,
decoded bytes.  SOPS-encrypted Secrets are not parsed here: the loader hands them on
undecrypted (see :mod:`tagpilot.api.loader`).
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import ClassVar, Literal

from pydantic import field_validator

from tagpilot.api.image import FluxObject
from tagpilot.api.meta import SpecError

__all__ = [
    "DOCKER_CONFIG_JSON_KEY",
    "SECRET_TYPE_DOCKER_CONFIG_JSON",
    "SECRET_TYPE_OPAQUE",
    "Secret",
    "docker_config_json",
    "docker_registry_secret",
    "string_data_secret",
]

SECRET_TYPE_OPAQUE = "Opaque"
SECRET_TYPE_DOCKER_CONFIG_JSON = "kubernetes.io/dockerconfigjson"
DOCKER_CONFIG_JSON_KEY = ".dockerconfigjson"


class Secret(FluxObject):
    """A Kubernetes Secret (``apiVersion: v1``) in Go field order."""

    KIND: ClassVar[str] = "Secret"
    REDACTED_FIELDS: ClassVar[tuple[str, ...]] = ("data", "stringData")
    api_version: Literal["v1"] = "v1"
    kind: Literal["Secret"] = "Secret"
    immutable: bool | None = None
    data: dict[str, str] | None = None
    string_data: dict[str, str] | None = None
    type: str = SECRET_TYPE_OPAQUE

    @field_validator("data")
    @classmethod
    def _base64(cls, data: dict[str, str] | None) -> dict[str, str] | None:
        for key, value in (data or {}).items():
            try:
                base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError):
                raise SpecError((key,), "must be base64 (use stringData for plain text)") from None
        return data

    def values(self) -> dict[str, bytes]:
        """Every key decoded: ``data`` base64-decoded, then ``stringData`` on top."""
        merged = {key: base64.b64decode(value) for key, value in (self.data or {}).items()}
        merged.update({key: value.encode() for key, value in (self.string_data or {}).items()})
        return merged

    def __repr__(self) -> str:
        keys = sorted(self.values())
        where = f"name={self.name!r}, namespace={self.namespace!r}"
        return f"Secret({where}, type={self.type!r}, keys={keys})"

    __str__ = __repr__


def docker_config_json(server: str, username: str, password: str, email: str | None = None) -> str:
    """The ``.dockerconfigjson`` text ``kubectl create secret docker-registry`` writes."""
    entry = {"username": username, "password": password}
    if email:
        entry["email"] = email
    entry["auth"] = base64.b64encode(f"{username}:{password}".encode()).decode()
    return json.dumps({"auths": {server: entry}}, separators=(",", ":"))


def docker_registry_secret(
    name: str, namespace: str, config_json: str, labels: dict[str, str] | None = None
) -> Secret:
    """A ``kubernetes.io/dockerconfigjson`` Secret with base64 ``data``, as kubectl makes it."""
    metadata: dict[str, object] = {"name": name, "namespace": namespace}
    if labels:
        metadata["labels"] = labels
    return Secret.model_validate(
        {
            "metadata": metadata,
            "data": {DOCKER_CONFIG_JSON_KEY: base64.b64encode(config_json.encode()).decode()},
            "type": SECRET_TYPE_DOCKER_CONFIG_JSON,
        }
    )


def string_data_secret(
    name: str, namespace: str, values: dict[str, str], labels: dict[str, str] | None = None
) -> Secret:
    """An Opaque Secret with ``stringData``, as ``flux create secret`` makes it (no ``type``)."""
    metadata: dict[str, object] = {"name": name, "namespace": namespace}
    if labels:
        metadata["labels"] = labels
    return Secret.model_validate({"metadata": metadata, "stringData": values})
