"""``api`` and ``core`` are pure: no clock, environment, randomness, files, network or keys.

import-linter (``make lint``) checks third-party packages as a whole; it does not see the
standard library nor parts of a package, so this test reads every module of the pure layers
and lists what they import.  ``cryptography``'s deterministic parts (ciphers, hashes,
parsing keys and certificates, as the commit templates' Sprig functions do) are allowed;
its key-pair generation (``asymmetric``) draws randomness and is not.
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
        "cryptography.hazmat.primitives.asymmetric",
        "httpx",
        "click",
        "structlog",
    }
)
"""Modules (and their submodules) that read the clock or environment, draw randomness or do
I/O."""


def _forbidden(module: str) -> bool:
    return any(module == name or module.startswith(name + ".") for name in FORBIDDEN)


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
        if _forbidden(module)
    ]
    assert offending == []
