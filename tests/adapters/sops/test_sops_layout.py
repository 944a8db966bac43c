"""What tagpilot writes looks like what sops writes, and sops reads tagpilot's plain values
with the same types (its MAC check would fail otherwise)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sops_helpers import TESTDATA, AgeKey, SopsRunner

from tagpilot.adapters.sops import CryptRule, decrypt_text, encrypt_document
from tagpilot.adapters.sops.tree import to_plain
from tagpilot.adapters.sops.yamlstore import load_yaml

NOTHING_MATCHES = CryptRule(encrypted_regex="^never$")


def _shape(text: str) -> str:
    """Blank out what differs between two encryptions: ciphertexts, key blocks, timestamps."""
    text = re.sub(r"ENC\[AES256_GCM,[^\]]*\]", "ENC[…]", text)
    text = re.sub(
        r"(-----BEGIN AGE ENCRYPTED FILE-----\n)(?:.*\n)*?(\s*-----END)", r"\1…\n\2", text
    )
    return re.sub(r'lastmodified: "[^"]*"', 'lastmodified: "…"', text)


@pytest.mark.parametrize(
    ("source", "flags"),
    [
        pytest.param("multi.yaml", (), id="multi-document-default-rule"),
        pytest.param("commented.yaml", ("--encrypted-regex", "^hidden$"), id="comments-regex"),
    ],
)
def test_encrypted_yaml_has_the_layout_sops_writes(
    tmp_path: Path, run_sops: SopsRunner, age_key: AgeKey, source: str, flags: tuple[str, ...]
) -> None:
    crypt = CryptRule(encrypted_regex=flags[1]) if flags else None
    plain = (TESTDATA / source).read_text()
    ours = encrypt_document(plain, path=source, recipients=[age_key.recipient], crypt=crypt)
    theirs = run_sops("encrypt", "--age", age_key.recipient, *flags, str(TESTDATA / source))
    assert _shape(ours) == _shape(theirs.stdout.decode())


def test_plain_values_we_write_are_read_back_identically_by_sops(
    tmp_path: Path, run_sops: SopsRunner, age_key: AgeKey
) -> None:
    """Nothing is encrypted, so every value below reaches sops only through our YAML text."""
    plain = (TESTDATA / "tricky.yaml").read_text()
    target = tmp_path / "tricky.yaml"
    target.write_text(
        encrypt_document(plain, path=target, recipients=[age_key.recipient], crypt=NOTHING_MATCHES)
    )
    decrypted_by_sops = run_sops("decrypt", str(target)).stdout.decode()
    expected = [to_plain(doc) for doc in load_yaml(plain, file="tricky.yaml")]
    assert [to_plain(doc) for doc in load_yaml(decrypted_by_sops, file="sops")] == expected
    ours = decrypt_text(target.read_text(), file="tricky.yaml", identities=age_key.identities())
    assert list(ours.documents) == expected
