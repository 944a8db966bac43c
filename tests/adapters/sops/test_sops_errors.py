"""Refusals: tampered values, a tampered MAC, the wrong key, and input that is not sops.

Each message names the file; the MAC check is on by default (unlike Flux) with an escape hatch.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from sops_helpers import AgeKey, SopsRunner

from tagpilot.adapters.sops import (
    AgeIdentities,
    MacMismatchError,
    NoMatchingIdentityError,
    SopsDecryptError,
    decrypt_text,
    encrypt_document,
)
from tagpilot.core.errors import InvalidInputError

SECRET = """\
apiVersion: v1
kind: Secret
metadata:
  name: demo
stringData:
  password: hunter2
  port: 5432
"""


@pytest.fixture(scope="module")
def sops_secret(
    tmp_path_factory: pytest.TempPathFactory, run_sops: SopsRunner, age_key: AgeKey
) -> str:
    """A Secret encrypted by the real sops with Flux's encrypted_regex."""
    plain = tmp_path_factory.mktemp("errors") / "secret.yaml"
    plain.write_text(SECRET)
    args = ("--age", age_key.recipient, "--encrypted-regex", "^(data|stringData)$")
    return run_sops("encrypt", *args, str(plain)).stdout.decode()


def _tamper_ciphertext(text: str, field: str) -> str:
    """Flip one base64 character of ``field``'s ciphertext."""
    pattern = re.compile(rf"({field}: ENC\[AES256_GCM,data:)(.)")
    return pattern.sub(lambda m: m.group(1) + ("A" if m.group(2) != "A" else "B"), text, count=1)


def test_a_modified_plaintext_value_is_a_mac_mismatch_naming_the_file(
    sops_secret: str, age_key: AgeKey
) -> None:
    tampered = sops_secret.replace("name: demo", "name: evil")
    with pytest.raises(
        MacMismatchError, match=r"^secret\.yaml: MAC mismatch: the file was modified"
    ):
        decrypt_text(tampered, file="secret.yaml", identities=age_key.identities())


def test_sops_refuses_the_same_modified_file(
    sops_secret: str, run_sops: SopsRunner, tmp_path: Path
) -> None:
    target = tmp_path / "secret.yaml"
    target.write_text(sops_secret.replace("name: demo", "name: evil"))
    result = run_sops("decrypt", str(target), check=False)
    assert result.returncode != 0
    assert b"MAC mismatch" in result.stderr


def test_mac_check_can_be_skipped_like_flux_does(sops_secret: str, age_key: AgeKey) -> None:
    tampered = sops_secret.replace("name: demo", "name: evil")
    result = decrypt_text(
        tampered, file="secret.yaml", identities=age_key.identities(), verify_mac=False
    )
    assert result.documents[0]["metadata"]["name"] == "evil"
    assert result.documents[0]["stringData"]["password"] == "hunter2"
    assert not result.mac_verified


def test_a_modified_ciphertext_names_the_value_that_fails(
    sops_secret: str, age_key: AgeKey
) -> None:
    with pytest.raises(
        SopsDecryptError, match=r"secret\.yaml: cannot decrypt the value at stringData\.password"
    ):
        decrypt_text(
            _tamper_ciphertext(sops_secret, "password"),
            file="secret.yaml",
            identities=age_key.identities(),
            verify_mac=False,
        )


def test_a_modified_mac_is_refused(sops_secret: str, age_key: AgeKey) -> None:
    tampered = _tamper_ciphertext(sops_secret, "mac")
    with pytest.raises(MacMismatchError, match=r"secret\.yaml: MAC mismatch"):
        decrypt_text(tampered, file="secret.yaml", identities=age_key.identities())


def test_a_modified_lastmodified_is_refused(sops_secret: str, age_key: AgeKey) -> None:
    tampered = re.sub(r'lastmodified: "(\d{4})', r'lastmodified: "1999', sops_secret)
    with pytest.raises(MacMismatchError, match="does not decrypt"):
        decrypt_text(tampered, file="secret.yaml", identities=age_key.identities())


def test_the_wrong_key_names_the_files_recipients(
    sops_secret: str, age_key: AgeKey, other_age_key: AgeKey
) -> None:
    with pytest.raises(NoMatchingIdentityError) as caught:
        decrypt_text(sops_secret, file="secret.yaml", identities=other_age_key.identities())
    message = str(caught.value)
    assert message.startswith(f"secret.yaml: no identity matches recipients {age_key.recipient}")
    assert "tried 1 age identities from" in message
    assert "AGE-SECRET-KEY" not in message


def test_no_identities_at_all_says_so(sops_secret: str) -> None:
    with pytest.raises(NoMatchingIdentityError, match="no age identities were given"):
        decrypt_text(sops_secret, file="secret.yaml", identities=AgeIdentities())


@pytest.mark.parametrize("given", ["none", "the-wrong-one"])
def test_a_missing_key_error_names_every_place_a_key_can_come_from(
    sops_secret: str, other_age_key: AgeKey, given: str
) -> None:
    identities = other_age_key.identities() if given == "the-wrong-one" else AgeIdentities()
    with pytest.raises(NoMatchingIdentityError) as caught:
        decrypt_text(sops_secret, file="secret.yaml", identities=identities)
    message = str(caught.value)
    for place in ("--age-key-file", "SOPS_AGE_KEY_FILE", "~/.config/sops/age/keys.txt"):
        assert place in message


def test_a_plain_file_is_bad_input_not_a_decryption_failure(age_key: AgeKey) -> None:
    with pytest.raises(InvalidInputError, match=r"secret\.yaml: not encrypted with sops"):
        decrypt_text(SECRET, file="secret.yaml", identities=age_key.identities())


def test_encrypting_an_encrypted_file_is_refused(sops_secret: str, age_key: AgeKey) -> None:
    with pytest.raises(InvalidInputError, match="already encrypted"):
        encrypt_document(sops_secret, path="secret.yaml", recipients=[age_key.recipient])


def test_integers_beyond_int64_are_refused_as_sops_refuses_them(
    age_key: AgeKey, run_sops: SopsRunner, tmp_path: Path
) -> None:
    text = "stringData:\n  big: 9223372036854775808\n"
    with pytest.raises(InvalidInputError, match=r"stringData\.big.*does not fit in 64 bits"):
        encrypt_document(text, path="big.yaml", recipients=[age_key.recipient])
    (tmp_path / "big.yaml").write_text(text)
    assert (
        run_sops(
            "encrypt", "--age", age_key.recipient, str(tmp_path / "big.yaml"), check=False
        ).returncode
        != 0
    )


def test_non_string_keys_are_refused_with_their_line(age_key: AgeKey) -> None:
    with pytest.raises(InvalidInputError, match=r"x\.yaml:2: data: sops supports only string"):
        encrypt_document("data:\n  1: one\n", path="x.yaml", recipients=[age_key.recipient])


@pytest.mark.parametrize(
    ("recipients", "message"),
    [
        pytest.param([], "no age recipients", id="none"),
        pytest.param(["age1notakey"], "not an age X25519 recipient", id="malformed"),
    ],
)
def test_bad_recipients_are_bad_input(recipients: list[str], message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        encrypt_document(SECRET, path="secret.yaml", recipients=recipients)


def test_malformed_yaml_is_bad_input_naming_the_file(age_key: AgeKey) -> None:
    with pytest.raises(InvalidInputError, match=r"^broken\.yaml: not valid YAML"):
        encrypt_document("a: [1,\n", path="broken.yaml", recipients=[age_key.recipient])


def test_a_file_without_age_recipients_names_its_key_types(age_key: AgeKey) -> None:
    encrypted = json.loads(
        encrypt_document('{"a": "b"}', path="x.json", recipients=[age_key.recipient])
    )
    encrypted["sops"]["pgp"] = encrypted["sops"].pop("age")
    with pytest.raises(SopsDecryptError, match=r"x\.json: the file has no age recipients .*pgp"):
        decrypt_text(json.dumps(encrypted), file="x.json", identities=age_key.identities())
