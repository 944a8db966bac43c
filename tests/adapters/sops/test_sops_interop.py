"""Interoperability with the real sops binary, both ways, for every store and crypt rule.

Files encrypted by sops are decrypted by tagpilot and compared with ``sops decrypt``; files
encrypted by tagpilot are decrypted by sops, which also verifies their MAC.  sops runs once per
case in a module-scoped fixture to keep the suite fast.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sops_helpers import TESTDATA, AgeKey, SopsRunner

from tagpilot.adapters.sops import (
    CryptRule,
    decrypt_text,
    detect_format,
    encrypt_document,
    is_sops_encrypted,
    load_config,
)
from tagpilot.adapters.sops.format import is_encrypted_string
from tagpilot.adapters.sops.tree import to_plain
from tagpilot.adapters.sops.yamlstore import load_yaml

BINARY_PAYLOAD = b"\x00\x01binary\xff\xfe payload\n"


@dataclass(frozen=True)
class Case:
    """One file, encrypted with one crypt rule given as sops flags or as a .sops.yaml."""

    id: str
    source: str
    flags: tuple[str, ...] = ()
    config: str | None = None

    def rule(self, directory: Path, file: Path) -> dict[str, Any]:
        """Keyword arguments for ``encrypt_document`` matching this case."""
        if self.config is not None:
            return {"rules": load_config(directory / ".sops.yaml")}
        if self.flags:
            name = self.flags[0].removeprefix("--").replace("-", "_")
            return {"crypt": CryptRule(**{name: self.flags[1]})}  # type: ignore[arg-type]
        return {}


CASES = [
    Case("yaml-default-suffix", "secret.yaml"),
    Case("yaml-encrypted-regex", "secret.yaml", ("--encrypted-regex", "^(data|stringData)$")),
    Case("yaml-unencrypted-regex", "secret.yaml", ("--unencrypted-regex", "^(kind|metadata)$")),
    Case("yaml-encrypted-suffix", "secret.yaml", ("--encrypted-suffix", "word")),
    Case("yaml-custom-unencrypted-suffix", "secret.yaml", ("--unencrypted-suffix", "name")),
    Case(
        "yaml-mac-only-encrypted",
        "secret.yaml",
        config="creation_rules:\n  - encrypted_regex: ^(data|stringData)$\n"
        "    mac_only_encrypted: true\n    age: {recipient}\n",
    ),
    Case(
        "yaml-encrypted-comment-regex",
        "commented.yaml",
        config="creation_rules:\n  - encrypted_comment_regex: sops:enc\n    age: {recipient}\n",
    ),
    Case("yaml-multi-document", "multi.yaml"),
    Case("json", "config.json"),
    Case("dotenv", "app.env"),
    Case("binary", "blob.bin"),
]


@dataclass(frozen=True)
class Prepared:
    """A case's directory, plaintext file, and what sops made of it."""

    case: Case
    directory: Path
    plain: Path
    encrypted: bytes
    sops_decrypted: bytes


def _prepare(case: Case, root: Path, run_sops: SopsRunner, key: AgeKey) -> Prepared:
    directory = root / case.id
    directory.mkdir()
    plain = directory / case.source
    if case.source == "blob.bin":
        plain.write_bytes(BINARY_PAYLOAD)
    else:
        shutil.copy(TESTDATA / case.source, plain)
    if case.config is not None:
        (directory / ".sops.yaml").write_text(case.config.format(recipient=key.recipient))
        args: tuple[str, ...] = ("encrypt", case.source)
    else:
        args = ("encrypt", "--age", key.recipient, *case.flags, case.source)
    encrypted = run_sops(*args, cwd=directory).stdout
    (directory / f"sops-{case.source}").write_bytes(encrypted)
    decrypted = run_sops("decrypt", f"sops-{case.source}", cwd=directory).stdout
    return Prepared(case, directory, plain, encrypted, decrypted)


@pytest.fixture(scope="module")
def prepared(
    tmp_path_factory: pytest.TempPathFactory, run_sops: SopsRunner, age_key: AgeKey
) -> dict[str, Prepared]:
    """Every case encrypted and decrypted once by the real sops."""
    root = tmp_path_factory.mktemp("interop")
    return {case.id: _prepare(case, root, run_sops, age_key) for case in CASES}


def _plain_values(content: bytes, source: str) -> Any:
    """Parse plaintext the way the format defines values (YAML 1.2 / JSON / raw lines)."""
    if source.endswith(".yaml"):
        return [to_plain(doc) for doc in load_yaml(content.decode(), file=source)]
    if source.endswith(".json"):
        return json.loads(content)
    return content


def _our_values(content: bytes, source: str) -> Any:
    return _plain_values(content, source)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_files_encrypted_by_sops_decrypt_to_what_sops_decrypts(
    case: Case, prepared: dict[str, Prepared], age_key: AgeKey
) -> None:
    item = prepared[case.id]
    ours = decrypt_text(item.encrypted, file=case.source, identities=age_key.identities())
    assert ours.mac_verified
    assert _our_values(ours.content, case.source) == _plain_values(item.sops_decrypted, case.source)


@pytest.mark.parametrize(
    "case_id", ["yaml-multi-document", "json", "dotenv", "binary"], ids=lambda c: c
)
def test_decrypted_text_is_byte_identical_to_sops_output(
    case_id: str, prepared: dict[str, Prepared], age_key: AgeKey
) -> None:
    item = prepared[case_id]
    ours = decrypt_text(item.encrypted, file=item.case.source, identities=age_key.identities())
    assert ours.content == item.sops_decrypted


def test_comments_are_decrypted_and_kept_in_place(
    prepared: dict[str, Prepared], age_key: AgeKey
) -> None:
    item = prepared["yaml-default-suffix"]
    assert b"# credentials" not in item.encrypted
    ours = decrypt_text(item.encrypted, file="secret.yaml", identities=age_key.identities())
    assert "stringData:\n    # credentials\n    username: admin\n" in ours.text
    in_list = "                - first\n                # between items\n                - 2\n"
    assert in_list in ours.text
    assert in_list in item.sops_decrypted.decode()


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_files_encrypted_by_tagpilot_decrypt_with_sops(
    case: Case, prepared: dict[str, Prepared], run_sops: SopsRunner, age_key: AgeKey
) -> None:
    item = prepared[case.id]
    ours = encrypt_document(
        item.plain.read_bytes(),
        path=item.plain,
        recipients=[] if case.config else [age_key.recipient],
        **case.rule(item.directory, item.plain),
    )
    target = item.directory / f"ours-{case.source}"
    target.write_text(ours, encoding="utf-8")
    result = run_sops("decrypt", target.name, cwd=item.directory)
    assert _plain_values(result.stdout, case.source) == _plain_values(
        item.sops_decrypted, case.source
    )


def _encrypted_paths(content: str) -> Counter[str]:
    """Count encrypted values per key path (sops stores list comments as items: skip those)."""
    found: Counter[str] = Counter()

    def visit(value: Any, path: str) -> None:
        if isinstance(value, dict):
            for key, child in value.items():
                if key != "sops":
                    visit(child, f"{path}.{key}")
        elif isinstance(value, list):
            for child in value:
                visit(child, f"{path}[]")
        elif is_encrypted_string(value) and not value.endswith("type:comment]"):
            found[path] += 1

    for document in load_yaml(content, file="x.yaml"):
        visit(to_plain(document), "")
    return found


@pytest.mark.parametrize(
    "case", [c for c in CASES if c.source == "secret.yaml"], ids=lambda c: c.id
)
def test_the_same_leaves_are_encrypted_as_sops_encrypts(
    case: Case, prepared: dict[str, Prepared], age_key: AgeKey
) -> None:
    item = prepared[case.id]
    ours = encrypt_document(
        item.plain.read_text(),
        path=item.plain,
        recipients=[] if case.config else [age_key.recipient],
        **case.rule(item.directory, item.plain),
    )
    assert _encrypted_paths(ours) == _encrypted_paths(item.encrypted.decode())
    assert _encrypted_paths(ours)


def test_a_file_for_two_recipients_opens_with_either_key(
    tmp_path: Path, run_sops: SopsRunner, age_key: AgeKey, other_age_key: AgeKey
) -> None:
    target = tmp_path / "two.yaml"
    target.write_text(
        encrypt_document(
            "stringData:\n  password: hunter2\n",
            path=target,
            recipients=f"{age_key.recipient}, {other_age_key.recipient}",
        )
    )
    result = run_sops("decrypt", str(target), key=other_age_key)
    assert result.stdout == b"stringData:\n    password: hunter2\n"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_the_marker_flux_looks_for_tells_encrypted_from_plain(
    case: Case, prepared: dict[str, Prepared]
) -> None:
    item = prepared[case.id]
    file_format = detect_format(case.source)
    assert is_sops_encrypted(item.encrypted, file_format)
    assert not is_sops_encrypted(item.plain.read_bytes(), file_format)
