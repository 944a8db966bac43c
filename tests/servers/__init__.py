"""Real servers on loopback for tests and benchmarks: registry, token service, proxies, fakes.

Plain functions and context managers; conftest files wrap them in fixtures.  Importable as
``servers`` from the tests tree and as ``tests.servers`` from the repository root (bench).
"""

from __future__ import annotations

__all__: list[str] = []
