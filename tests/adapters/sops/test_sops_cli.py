"""``tagpilot sops encrypt|decrypt``: stdout or in place, keys from flags or environment,
exit code 2 for bad input and 1 for files that do not decrypt."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sops_helpers import AgeKey, SopsRunner

from tagpilot.adapters.sops import decrypt_text
from tagpilot.cli.sops import sops_group

SECRET = """\
apiVersion: v1
kind: Secret
metadata:
  name: demo
stringData:
  password: hunter2
"""


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    """Run ``tagpilot sops …`` in-process without a user key file or sops config."""
    base = {"SOPS_AGE_KEY_FILE": "", "SOPS_AGE_KEY": "", "XDG_CONFIG_HOME": "/nonexistent"}
    return CliRunner().invoke(sops_group, list(args), env=base | (env or {}))


@pytest.fixture
def plain_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A plaintext Secret in an otherwise empty working directory."""
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "secret.yaml"
    path.write_text(SECRET)
    return path


def test_encrypt_prints_the_encrypted_file(plain_file: Path, age_key: AgeKey) -> None:
    result = invoke(
        "encrypt", str(plain_file), "--age", age_key.recipient, "--encrypted-regex", "^stringData$"
    )
    assert result.exit_code == 0, result.output
    assert "name: demo" in result.stdout
    assert "hunter2" not in result.stdout
    decrypted = decrypt_text(result.stdout, file="secret.yaml", identities=age_key.identities())
    assert decrypted.documents[0]["stringData"] == {"password": "hunter2"}
    assert plain_file.read_text() == SECRET


def test_encrypt_in_place_with_sops_yaml_then_sops_and_tagpilot_decrypt_it(
    plain_file: Path, age_key: AgeKey, run_sops: SopsRunner
) -> None:
    (plain_file.parent / ".sops.yaml").write_text(
        f"creation_rules:\n  - path_regex: \\.yaml$\n    encrypted_regex: ^stringData$\n"
        f"    age: {age_key.recipient}\n"
    )
    plain_file.chmod(0o600)
    assert invoke("encrypt", "-i", str(plain_file)).exit_code == 0
    assert plain_file.stat().st_mode & 0o777 == 0o600
    assert "encrypted_regex: ^stringData$" in plain_file.read_text()
    assert run_sops("decrypt", str(plain_file)).stdout.endswith(b"password: hunter2\n")
    result = invoke("decrypt", "-i", str(plain_file), "--age-key-file", str(age_key.path))
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert plain_file.read_text().endswith("stringData:\n    password: hunter2\n")
    assert sorted(p.name for p in plain_file.parent.iterdir()) == [".sops.yaml", "secret.yaml"]


def test_decrypt_reads_the_key_file_from_the_environment(plain_file: Path, age_key: AgeKey) -> None:
    invoke("encrypt", "-i", str(plain_file), "--age", age_key.recipient)
    result = invoke("decrypt", str(plain_file), env={"SOPS_AGE_KEY_FILE": str(age_key.path)})
    assert result.exit_code == 0, result.output
    assert "password: hunter2" in result.stdout


def test_decrypt_with_the_wrong_key_fails_with_exit_1_naming_file_and_recipients(
    plain_file: Path, age_key: AgeKey, other_age_key: AgeKey
) -> None:
    invoke("encrypt", "-i", str(plain_file), "--age", age_key.recipient)
    result = invoke("decrypt", str(plain_file), "--age-key-file", str(other_age_key.path))
    assert result.exit_code == 1
    assert result.stderr.startswith(
        f"error: {plain_file}: no identity matches recipients {age_key.recipient}"
    )


def test_a_tampered_file_fails_unless_the_mac_check_is_skipped(
    plain_file: Path, age_key: AgeKey
) -> None:
    invoke(
        "encrypt",
        "-i",
        str(plain_file),
        "--age",
        age_key.recipient,
        "--encrypted-regex",
        "^stringData$",
    )
    plain_file.write_text(plain_file.read_text().replace("name: demo", "name: evil"))
    key = ("--age-key-file", str(age_key.path))
    refused = invoke("decrypt", str(plain_file), *key)
    assert refused.exit_code == 1
    assert "MAC mismatch: the file was modified after encryption" in refused.stderr
    assert invoke("decrypt", str(plain_file), *key, "--ignore-mac").exit_code == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(("decrypt", "{file}"), "not encrypted with sops", id="decrypt-plain-file"),
        pytest.param(("encrypt", "{file}"), "no .sops.yaml found and no --age", id="no-recipients"),
        pytest.param(
            (
                "encrypt",
                "{file}",
                "--age",
                "{recipient}",
                "--encrypted-regex",
                "a",
                "--unencrypted-suffix",
                "b",
            ),
            "only one crypt rule",
            id="two-crypt-rules",
        ),
        pytest.param(("decrypt", "{file}.missing"), "cannot read file", id="missing-file"),
    ],
)
def test_bad_input_exits_with_code_2_and_a_message(
    plain_file: Path, age_key: AgeKey, args: tuple[str, ...], message: str
) -> None:
    filled = [a.format(file=plain_file, recipient=age_key.recipient) for a in args]
    result = invoke(*filled, env={"SOPS_AGE_KEY_FILE": str(age_key.path)})
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ")
    assert message in result.stderr
