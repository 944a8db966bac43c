"""Golden Kustomization builds with the real kustomize (``kubectl kustomize`` of the pinned wheel).

Each directory of ``tests/testdata/kustomize`` is one case: ``input/`` is the source tree,
``spec.yaml`` the Kustomization spec fields (interval, prune and sourceRef are added here),
``expected.yaml`` either the built objects or ``error:`` (a part of the message) with
``mustNotContain:`` (text the message must not hold: secret values).  Files named
``*.sops.*`` are encrypted with the real sops to an age key before the build, which is given
the matching identity (the ``sops-wrong-age-key`` case gets another one).

``TAGPILOT_UPDATE_GOLDEN=1`` rewrites the expected objects of the cases that build.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML
from tests.adapters.kustomize.build_support import AgeKey, Sops

from tagpilot.adapters.kustomize import BuildError, BuildRequest, build
from tagpilot.api.kustomization import KustomizationSpec

CASES = Path(__file__).parents[2] / "testdata" / "kustomize"
UPDATE_GOLDEN = os.environ.get("TAGPILOT_UPDATE_GOLDEN") == "1"
WRONG_KEY_CASES = {"sops-wrong-age-key"}


def _yaml() -> YAML:
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.width = 4096
    return yaml


def _spec(case: Path) -> KustomizationSpec:
    fields = _yaml().load(case / "spec.yaml") or {}
    base = {"interval": "10m", "prune": True, "sourceRef": {"kind": "GitRepository", "name": "s"}}
    return KustomizationSpec.model_validate(base | fields)


def _source(case: Path, tmp_path: Path, sops: Sops, key: AgeKey) -> Path:
    root = tmp_path / "artifact"
    shutil.copytree(case / "input", root)
    for file in sorted(root.rglob("*.sops.*")):
        sops.encrypt_in_place(file, key.recipient)
    return root


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.mark.parametrize("case", sorted(p.name for p in CASES.iterdir() if p.is_dir()))
def test_the_build_gives_the_golden_objects_or_error(
    case: str, tmp_path: Path, sops: Sops, age_key: AgeKey, other_age_key: AgeKey
) -> None:
    directory = CASES / case
    spec = _spec(directory)
    root = _source(directory, tmp_path, sops, age_key)
    before = _tree(root)
    keys = (other_age_key if case in WRONG_KEY_CASES else age_key).identities()
    expected_file = directory / "expected.yaml"
    expected: Any = list(_yaml().load_all(expected_file)) if expected_file.exists() else []
    request = BuildRequest(root, spec.path or "", spec, keys)
    if expected and isinstance(expected[0], dict) and "error" in expected[0]:
        with pytest.raises(BuildError) as caught:
            build(request)
        assert caught.value.reason == "BuildFailed"
        assert expected[0]["error"] in caught.value.message
        for secret in expected[0].get("mustNotContain", []):
            assert secret not in caught.value.message
            assert secret not in repr(caught.value.__cause__)
        assert str(tmp_path) not in caught.value.message
    else:
        objects = build(request)
        if UPDATE_GOLDEN:
            with expected_file.open("w") as out:
                _yaml().dump_all(objects, out)
        assert objects == expected
    assert _tree(root) == before, "the source tree must not change"
