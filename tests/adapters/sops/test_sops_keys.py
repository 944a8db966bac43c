"""Where age identities come from: files, environment text, Flux ``sops-age`` Secrets."""

from __future__ import annotations

from pathlib import Path

import pyrage
import pytest
from sops_helpers import AgeKey

from tagpilot.adapters.sops import (
    identities_from_env,
    identities_from_secret,
    parse_identities,
    parse_recipients,
)
from tagpilot.adapters.sops.keys import unwrap_data_key, wrap_data_key
from tagpilot.core.errors import InvalidInputError


def test_identity_file_made_by_age_keygen_is_read(age_key: AgeKey) -> None:
    identities = age_key.identities()
    assert [str(i.to_public()) for i in identities.identities] == [age_key.recipient]


@pytest.mark.parametrize(
    ("env_names", "expected_sources"),
    [
        pytest.param(("SOPS_AGE_KEY",), ["SOPS_AGE_KEY"], id="key-text"),
        pytest.param(("SOPS_AGE_KEY_FILE",), ["<file>"], id="key-file"),
        pytest.param(("SOPS_AGE_KEY", "SOPS_AGE_KEY_FILE"), ["SOPS_AGE_KEY", "<file>"], id="both"),
        pytest.param((), [], id="neither"),
    ],
)
def test_environment_supplies_identities_like_sops(
    age_key: AgeKey, tmp_path: Path, env_names: tuple[str, ...], expected_sources: list[str]
) -> None:
    values = {"SOPS_AGE_KEY": age_key.path.read_text(), "SOPS_AGE_KEY_FILE": str(age_key.path)}
    env = {name: values[name] for name in env_names} | {"HOME": str(tmp_path)}
    identities = identities_from_env(env)
    sources = [s.replace(str(age_key.path), "<file>") for s in identities.sources]
    assert sources == expected_sources
    assert len(identities.identities) == len(expected_sources)


def test_default_user_key_file_is_used_when_present(age_key: AgeKey, tmp_path: Path) -> None:
    keys = tmp_path / "sops" / "age" / "keys.txt"
    keys.parent.mkdir(parents=True)
    keys.write_text(age_key.path.read_text())
    assert identities_from_env({"XDG_CONFIG_HOME": str(tmp_path)}).sources == (str(keys),)


def test_secret_agekey_entries_are_identities_and_others_are_ignored(age_key: AgeKey) -> None:
    data = {"age.agekey": age_key.path.read_bytes(), "sops.vault-token": b"ignored"}
    identities = identities_from_secret(data, secret="flux-system/sops-age")
    assert identities.sources == ("Secret flux-system/sops-age key age.agekey",)


def test_a_garbage_identity_line_is_refused_by_line_number_without_echoing_it() -> None:
    text = "# created: today\n\nAGE-SECRET-KEY-1NOTREALLY\n"
    with pytest.raises(InvalidInputError, match=r"^keys\.txt:3: malformed age identity$"):
        parse_identities(text, source="keys.txt")


def test_unsupported_identity_kinds_are_skipped() -> None:
    text = "AGE-PLUGIN-YUBIKEY-1XYZ\nAGE-SECRET-KEY-PQ-1XYZ\n"
    assert not parse_identities(text, source="keys.txt")


def test_recipients_split_on_commas_and_trim_spaces(age_key: AgeKey) -> None:
    text = f" {age_key.recipient} ,{age_key.recipient},"
    assert parse_recipients(text) == (age_key.recipient, age_key.recipient)


def test_data_key_wrapped_by_pyrage_is_a_readable_armored_age_file(age_key: AgeKey) -> None:
    data_key = bytes(range(32))
    stanzas = wrap_data_key(data_key, [age_key.recipient])
    assert stanzas[0].enc.startswith("-----BEGIN AGE ENCRYPTED FILE-----\n")
    assert stanzas[0].enc.endswith("-----END AGE ENCRYPTED FILE-----\n")
    assert unwrap_data_key(stanzas, age_key.identities(), file="f") == data_key
    assert (
        pyrage.decrypt(stanzas[0].enc.encode(), list(age_key.identities().identities)) == data_key
    )
