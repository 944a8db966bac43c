"""``create secret ... --export --sops``: Secrets the real sops decrypts, honouring .sops.yaml."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pyrage
import pytest
from click.testing import CliRunner

from tagpilot.cli.main import cli

SOPS = str(Path(sys.executable).parent / "sops")
ARGS = [
    "create",
    "secret",
    "registry",
    "blaster-dev-registry",
    "--docker-server=registry.reids.net.au",
    "--docker-username=blaster-dev",
    "--docker-password=REPLACE-ME",
    "--export",
    "--sops",
]


@pytest.fixture
def age_key(tmp_path: Path) -> tuple[Path, str]:
    key = tmp_path / "key.txt"
    subprocess.run(["age-keygen", "-o", str(key)], check=True, capture_output=True)
    out = subprocess.run(["age-keygen", "-y", str(key)], check=True, capture_output=True, text=True)
    return key, out.stdout.strip()


def _sops_decrypt(path: Path, key: Path) -> str:
    env = {**os.environ, "SOPS_AGE_KEY_FILE": str(key)}
    done = subprocess.run(
        [SOPS, "--disable-version-check", "decrypt", str(path)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout


def test_the_seeds_sops_yaml_rule_encrypts_only_data_and_sops_decrypts_it(
    tmp_path: Path, age_key: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    key, recipient = age_key
    (tmp_path / ".sops.yaml").write_text(
        "creation_rules:\n  - path_regex: 'clusters/my-cluster/.*/secrets/.*\\.yaml$'\n"
        f"    encrypted_regex: '^(data|stringData)$'\n    age: ['{recipient}']\n"
    )
    target = "clusters/my-cluster/flux-system/secrets/blaster-dev-registry.yaml"
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, [*ARGS, "--sops-path", target])
    assert result.exit_code == 0, result.output
    assert "name: blaster-dev-registry" in result.stdout
    assert "REPLACE-ME" not in result.stdout
    (tmp_path / "s.yaml").write_text(result.stdout)
    assert "kubernetes.io/dockerconfigjson" in _sops_decrypt(tmp_path / "s.yaml", key)


@pytest.mark.parametrize(
    ("extra", "sops_yaml", "message"),
    [
        pytest.param([], False, "--sops needs --sops-age RECIPIENT", id="no-recipients"),
        pytest.param([], True, "needs --sops-path FILE", id="rules-without-path"),
        pytest.param(
            ["--sops-path", "elsewhere/x.yaml"],
            True,
            "no creation rule matches",
            id="path-matches-no-rule",
        ),
    ],
)
def test_sops_export_problems_exit_2_with_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, extra: list[str], sops_yaml: bool, message: str
) -> None:
    if sops_yaml:
        (tmp_path / ".sops.yaml").write_text(
            "creation_rules:\n  - path_regex: 'secrets/.*'\n"
            f"    age: '{pyrage.x25519.Identity.generate().to_public()!s}'\n"
        )
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, [*ARGS, *extra])
    assert result.exit_code == 2
    assert message in result.stderr
