"""Write API objects back to YAML in Flux's field order, keeping what the user wrote.

Fields come out in the order of Flux's Go structs (apiVersion, kind, metadata, spec,
status), durations as written (``5m`` stays ``5m``), and only fields that were set:
defaults the manifest left out are not added.  Multi-line strings become ``|`` blocks.
Used by ``tagpilot get ... -o yaml`` and anything that saves objects as manifests.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.scalarstring import LiteralScalarString

from tagpilot.api.kinds import AnyObject

__all__ = ["dump_yaml", "object_document"]


def object_document(obj: AnyObject) -> dict[str, Any]:
    """The object as plain data with Flux field names, only the fields that were set."""
    return obj.model_dump(mode="json", exclude_unset=True)


def _literal_blocks(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _literal_blocks(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_literal_blocks(item) for item in value]
    if isinstance(value, str) and "\n" in value:
        return LiteralScalarString(value)
    return value


def dump_yaml(objs: Iterable[AnyObject]) -> str:
    """All objects as one multi-document YAML text, each document starting with ``---``."""
    yaml = YAML(typ="rt")
    yaml.indent(mapping=2, sequence=2, offset=0)
    yaml.width = 4096
    yaml.explicit_start = True
    stream = io.StringIO()
    yaml.dump_all([_literal_blocks(object_document(obj)) for obj in objs], stream)
    return stream.getvalue()
