"""SOPS in Kustomization builds: what is decrypted, when, and what an error may show.

Files are encrypted with the real ``sops`` binary; decryption uses tagpilot's SOPS module
with the identities a ``decryption.secretRef`` Secret's ``*.agekey`` entries give.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML
from tests.adapters.kustomize.build_support import AgeKey, Sops

from tagpilot.adapters.kustomize import BuildError, BuildRequest, build
from tagpilot.adapters.kustomize.confine import SopsSource
from tagpilot.adapters.kustomize.decrypt import decrypt_object, decrypt_sources, redact
from tagpilot.api.kustomization import KustomizationSpec

BASE = {"interval": "1m", "prune": True, "sourceRef": {"kind": "GitRepository", "name": "s"}}
DECRYPTING = KustomizationSpec.model_validate(BASE | {"decryption": {"provider": "sops"}})
PLAIN = KustomizationSpec.model_validate(BASE)
SECRET = """\
apiVersion: v1
kind: Secret
metadata:
  name: db
stringData:
  password: hunter2
"""


def _encrypted(tmp_path: Path, sops: Sops, key: AgeKey, name: str, text: str) -> Path:
    file = tmp_path / name
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(text)
    sops.encrypt_in_place(file, key.recipient)
    return file


def _load(file: Path) -> Any:
    return YAML(typ="safe", pure=True).load(file)


def test_without_decryption_an_encrypted_secret_is_built_as_it_is(
    tmp_path: Path, sops: Sops, age_key: AgeKey
) -> None:
    _encrypted(tmp_path, sops, age_key, "src/secret.yaml", SECRET)
    (secret,) = build(BuildRequest(tmp_path / "src", ".", PLAIN, age_key.identities()))
    assert "sops" in secret and "hunter2" not in str(secret)


def test_any_kind_with_a_sops_block_is_decrypted_as_a_whole(
    tmp_path: Path, sops: Sops, age_key: AgeKey
) -> None:
    config = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  level: debug\n"
    obj = _load(_encrypted(tmp_path, sops, age_key, "cm.yaml", config))
    obj["metadata"]["namespace"] = "added-by-kustomize"  # the MAC no longer matches: unchecked
    assert decrypt_object(obj, age_key.identities()) == {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "c", "namespace": "added-by-kustomize"},
        "data": {"level": "debug"},
    }


def test_a_secret_data_value_holding_a_sops_file_is_decrypted_in_its_format(
    tmp_path: Path, sops: Sops, age_key: AgeKey
) -> None:
    inner = _encrypted(tmp_path, sops, age_key, "settings.yaml", "data:\n  user: admin\n")
    value = base64.b64encode(inner.read_bytes()).decode()
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s"},
        "data": {"settings.yaml": value, "plain": base64.b64encode(b"kept").decode()},
    }
    result = decrypt_object(secret, age_key.identities())
    assert base64.b64decode(result["data"]["settings.yaml"]) == b"data:\n    user: admin\n"
    assert result["data"]["plain"] == secret["data"]["plain"]


@pytest.mark.parametrize("value", ["Disabled", "disabled", "DISABLED"])
def test_the_decrypt_annotation_leaves_an_object_encrypted(
    tmp_path: Path, sops: Sops, age_key: AgeKey, value: str
) -> None:
    obj = _load(_encrypted(tmp_path, sops, age_key, "secret.yaml", SECRET))
    obj["metadata"]["annotations"] = {"kustomize.toolkit.fluxcd.io/decrypt": value}
    assert decrypt_object(obj, age_key.identities()) is obj


def test_an_encrypted_patch_file_is_decrypted_before_the_build(
    tmp_path: Path, sops: Sops, age_key: AgeKey
) -> None:
    root = tmp_path / "src"
    root.mkdir()
    (root / "secret.yaml").write_text(SECRET)
    (root / "kustomization.yaml").write_text(
        "resources: [secret.yaml]\npatches: [{path: patch.yaml}]\n"
    )
    _encrypted(root, sops, age_key, "patch.yaml", SECRET.replace("hunter2", "rotated"))
    before = (root / "patch.yaml").read_bytes()
    (secret,) = build(BuildRequest(root, ".", DECRYPTING, age_key.identities()))
    assert secret["stringData"] == {"password": "rotated"}
    assert (root / "patch.yaml").read_bytes() == before, "the source is never modified"


def test_an_encrypted_object_without_keys_names_where_the_key_belongs(
    tmp_path: Path, sops: Sops, age_key: AgeKey
) -> None:
    _encrypted(tmp_path, sops, age_key, "src/secret.yaml", SECRET)
    with pytest.raises(BuildError) as caught:
        build(BuildRequest(tmp_path / "src", ".", DECRYPTING, None))
    assert caught.value.message == (
        "Secret/db is SOPS-encrypted but no age key was found: put the age identity in a "
        "'*.agekey' entry of the Secret named by spec.decryption.secretRef"
    )


def test_a_wrong_key_names_the_recipients_and_keys_tried_and_no_value(
    tmp_path: Path, sops: Sops, age_key: AgeKey, other_age_key: AgeKey
) -> None:
    root = tmp_path / "src"
    _encrypted(tmp_path, sops, age_key, "src/app.env", "TOKEN=hunter2\n")
    (root / "kustomization.yaml").write_text("secretGenerator: [{name: s, envs: [app.env]}]\n")
    with pytest.raises(BuildError) as caught:
        build(BuildRequest(root, ".", DECRYPTING, other_age_key.identities()))
    message = caught.value.message
    assert message.startswith("app.env: decryption failed: no identity matches recipients ")
    assert age_key.recipient in message
    assert "tried 1 age identities from Secret sops-age key age.agekey" in message
    assert "hunter2" not in message and caught.value.__cause__ is None
    assert caught.value.reason == "BuildFailed"


def test_the_values_of_decrypted_files_are_masked_in_kustomize_messages(
    tmp_path: Path, sops: Sops, age_key: AgeKey
) -> None:
    env = _encrypted(tmp_path, sops, age_key, "app.env", "TOKEN=hunter2\nPORT=80\n")
    values = decrypt_sources(
        [SopsSource(env, "dotenv")], age_key.identities(), name=lambda p: p.name
    )
    assert env.read_text() == "TOKEN=hunter2\nPORT=80\n"
    assert values == {"hunter2"}, "values shorter than three characters mask nothing"
    message = "invalid env line 'TOKEN=hunter2' in app.env"
    assert redact(message, values) == "invalid env line 'TOKEN=***' in app.env"
