"""``api`` and ``core`` are pure: no clock, environment, randomness, files, network or keys.

import-linter (``make lint``) checks third-party packages; it does not see the standard
library, so this test reads every module of the pure layers and lists what they import.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "tagpilot"
PURE_LAYERS = ("api", "core")
FORBIDDEN = frozenset(
    {
        "os",
        "time",
        "random",
        "secrets",
        "uuid",
        "tempfile",
        "socket",
        "subprocess",
        "shutil",
        "sqlite3",
        "threading",
        "asyncio",
        "cryptography",
        "httpx",
        "click",
        "structlog",
    }
)
"""Top-level modules that read the clock or environment, draw randomness or do I/O."""


def _imports(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


@pytest.mark.parametrize("layer", PURE_LAYERS)
def test_the_pure_layers_import_nothing_with_side_effects(layer: str) -> None:
    offending = [
        f"{path.relative_to(SRC)}:{line}: {module}"
        for path in sorted((SRC / layer).rglob("*.py"))
        for line, module in _imports(path)
        if module.split(".")[0] in FORBIDDEN
    ]
    assert offending == []
