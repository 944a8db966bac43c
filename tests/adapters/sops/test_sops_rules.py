"""``.sops.yaml`` creation rules, including the seeds' Flux repository layout.

The rule ``clusters/my-cluster/.*/secrets/.*\\.yaml$`` must match when encrypting from a
sub-directory, because sops matches against the path relative to ``.sops.yaml``'s directory.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sops_helpers import AgeKey, SopsRunner

from tagpilot.adapters.sops import (
    CryptRule,
    decrypt_file,
    encrypt_document,
    encrypt_secret_for_export,
    find_config,
    load_config,
)
from tagpilot.core.errors import InvalidInputError

SEEDS_CONFIG = """\
# .sops.yaml
creation_rules:
- path_regex: 'clusters/my-cluster/.*/secrets/.*\\.yaml$'
  encrypted_regex: '^(data|stringData)$'
  age: ['{recipient}']
"""

REGISTRY_SECRET = """\
apiVersion: v1
kind: Secret
metadata:
  name: blaster-dev-registry
  namespace: flux-system
type: kubernetes.io/dockerconfigjson
data:
  .dockerconfigjson: eyJhdXRocyI6e319
"""

SECRET_PATH = "clusters/my-cluster/flux-system/secrets/blaster-dev-registry.yaml"


@pytest.fixture
def repo(tmp_path: Path, age_key: AgeKey) -> Path:
    """A Flux repository with the seeds' .sops.yaml and a registry Secret to encrypt."""
    (tmp_path / ".sops.yaml").write_text(SEEDS_CONFIG.format(recipient=age_key.recipient))
    secret = tmp_path / SECRET_PATH
    secret.parent.mkdir(parents=True)
    secret.write_text(REGISTRY_SECRET)
    return tmp_path


def test_seeds_rule_matches_from_a_subdirectory_like_sops(
    repo: Path, run_sops: SopsRunner, age_key: AgeKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    subdir = repo / "clusters" / "my-cluster"
    monkeypatch.chdir(subdir)
    relative = Path("flux-system/secrets/blaster-dev-registry.yaml")
    config_path = find_config(Path.cwd())
    assert config_path == repo / ".sops.yaml"
    ours = encrypt_document(relative.read_text(), path=relative, rules=load_config(config_path))
    theirs = run_sops("encrypt", str(relative), cwd=subdir).stdout.decode()
    for text in (ours, theirs):
        assert "name: blaster-dev-registry" in text
        assert ".dockerconfigjson: ENC[AES256_GCM," in text
        assert "encrypted_regex: ^(data|stringData)$" in text
    (subdir / "ours.yaml").write_text(ours)
    assert (
        run_sops("decrypt", "ours.yaml", cwd=subdir)
        .stdout.decode()
        .endswith("data:\n    .dockerconfigjson: eyJhdXRocyI6e319\n")
    )


def test_a_path_no_rule_matches_is_refused_as_sops_refuses_it(
    repo: Path, run_sops: SopsRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo)
    other = repo / "apps" / "config.yaml"
    other.parent.mkdir()
    other.write_text("a: 1\n")
    with pytest.raises(InvalidInputError, match=r"no creation rule matches apps/config\.yaml"):
        encrypt_document(other.read_text(), path=other, rules=load_config(repo / ".sops.yaml"))
    result = run_sops("encrypt", str(other), cwd=repo, check=False)
    assert b"no matching creation rules found" in result.stderr


@pytest.mark.parametrize(
    ("path", "expected_rule"),
    [
        pytest.param("prod/secret.yaml", 0, id="first-rule"),
        pytest.param("prod/other.json", 1, id="second-rule-catch-all"),
        pytest.param("dev/secret.yaml", 1, id="unanchored-but-must-match"),
    ],
)
def test_first_matching_rule_wins(
    tmp_path: Path, age_key: AgeKey, path: str, expected_rule: int
) -> None:
    (tmp_path / ".sops.yaml").write_text(
        "creation_rules:\n"
        "  - path_regex: ^prod/.*\\.yaml$\n    encrypted_regex: ^data$\n"
        f"    age: {age_key.recipient}\n"
        f"  - age: ' {age_key.recipient} , {age_key.recipient}'\n"
    )
    config = load_config(tmp_path / ".sops.yaml")
    rule = config.rule_for(tmp_path / path)
    assert rule.index == expected_rule
    assert set(rule.recipients) == {age_key.recipient}


def test_rule_settings_are_read_into_the_crypt_rule(tmp_path: Path, age_key: AgeKey) -> None:
    (tmp_path / ".sops.yaml").write_text(
        f"creation_rules:\n  - unencrypted_regex: ^meta\n    mac_only_encrypted: true\n"
        f"    age: [{age_key.recipient}]\n"
    )
    rule = load_config(tmp_path / ".sops.yaml").rules[0]
    assert rule.crypt == CryptRule(unencrypted_regex="^meta", mac_only_encrypted=True)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param("rules: []\n", "expected a creation_rules list", id="no-creation-rules"),
        pytest.param(
            "creation_rules:\n  - encrypted_regex: a\n    unencrypted_suffix: b\n",
            "only one crypt rule",
            id="two-crypt-rules",
        ),
        pytest.param(
            "creation_rules:\n  - path_regex: '(?<=x)'\n", "creation_rules\\[0\\]", id="bad-re2"
        ),
        pytest.param("creation_rules:\n  - age: nope\n", "not an age X25519", id="bad-recipient"),
    ],
)
def test_a_malformed_config_is_bad_input_naming_the_file(
    tmp_path: Path, content: str, message: str
) -> None:
    (tmp_path / ".sops.yaml").write_text(content)
    with pytest.raises(InvalidInputError, match=message):
        load_config(tmp_path / ".sops.yaml")


def test_secret_exported_for_flux_keeps_kubernetes_fields_readable(
    tmp_path: Path, run_sops: SopsRunner, age_key: AgeKey
) -> None:
    exported = encrypt_secret_for_export(
        REGISTRY_SECRET, path="blaster-dev-registry.yaml", recipients=[age_key.recipient]
    )
    assert exported.startswith(
        "apiVersion: v1\nkind: Secret\nmetadata:\n    name: blaster-dev-registry\n"
    )
    assert "eyJhdXRocyI6e319" not in exported
    target = tmp_path / "blaster-dev-registry.yaml"
    target.write_text(exported)
    decrypted = run_sops("decrypt", str(target)).stdout.decode()
    assert decrypted.endswith("data:\n    .dockerconfigjson: eyJhdXRocyI6e319\n")
    assert decrypt_file(target, identities=age_key.identities()).documents[0]["type"] == (
        "kubernetes.io/dockerconfigjson"
    )


def test_secret_export_follows_the_repository_rules(repo: Path, age_key: AgeKey) -> None:
    exported = encrypt_secret_for_export(
        REGISTRY_SECRET, path=repo / SECRET_PATH, rules_path=repo / ".sops.yaml"
    )
    assert f"recipient: {age_key.recipient}" in exported
    assert "encrypted_regex: ^(data|stringData)$" in exported


def test_a_single_key_group_supplies_the_age_recipients(tmp_path: Path, age_key: AgeKey) -> None:
    (tmp_path / ".sops.yaml").write_text(
        f"creation_rules:\n  - key_groups:\n      - age:\n          - {age_key.recipient}\n"
    )
    assert load_config(tmp_path / ".sops.yaml").rules[0].recipients == (age_key.recipient,)
