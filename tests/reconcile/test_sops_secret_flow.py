"""The seeds' flow for registry credentials: a Secret made with ``create secret registry
--export --sops``, committed beside the ImageRepository, decrypted at load, used to scan."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from reconcile_support import PASSWORD, USER, FakeClock

from servers.registry import RunningRegistry
from tagpilot.adapters.manifests import load_manifests
from tagpilot.adapters.registry.pool import RegistryPool
from tagpilot.adapters.sops.keys import load_identity_file
from tagpilot.adapters.store import SqliteStore
from tagpilot.api.image import ImageRepository
from tagpilot.cli.main import cli
from tagpilot.core.secrets import MissingSecretError
from tagpilot.reconcile.context import ReconcileContext
from tagpilot.reconcile.image_repository import reconcile_image_repository


def _age_key(directory: Path) -> tuple[Path, str]:
    key = directory / "age.agekey"
    subprocess.run(["age-keygen", "-o", str(key)], check=True, capture_output=True)
    recipient = subprocess.run(
        ["age-keygen", "-y", str(key)], check=True, capture_output=True, text=True
    ).stdout.strip()
    return key, recipient


def _write_cluster(root: Path, host: str, recipient: str) -> Path:
    secrets = root / "clusters/my-cluster/flux-system/secrets"
    secrets.mkdir(parents=True)
    created = CliRunner().invoke(
        cli,
        [
            "create",
            "secret",
            "registry",
            "blaster-dev-registry",
            f"--docker-server={host}",
            f"--docker-username={USER}",
            "--docker-password-stdin",
            "--export",
            "--sops",
            "--sops-age",
            recipient,
        ],
        input=PASSWORD + "\n",
    )
    assert created.exit_code == 0, created.output
    assert PASSWORD not in created.stdout
    (secrets / "blaster-dev-registry.yaml").write_text(created.stdout)
    images = root / "clusters/my-cluster/blaster/dev/20-blaster-images-dev.yaml"
    images.parent.mkdir(parents=True)
    images.write_text(
        "apiVersion: image.toolkit.fluxcd.io/v1beta2\nkind: ImageRepository\nmetadata:\n"
        "  name: blaster-dev-repo\n  namespace: flux-system\nspec:\n"
        f"  image: {host}/games/blaster\n  interval: 1m\n"
        "  secretRef:\n    name: blaster-dev-registry\n"
    )
    return root / "clusters/my-cluster"


async def test_an_encrypted_registry_secret_is_decrypted_and_used_to_scan(
    tmp_path: Path, blaster_registry: RunningRegistry, clock: FakeClock, store: SqliteStore
) -> None:
    key, recipient = _age_key(tmp_path)
    cluster = _write_cluster(tmp_path, blaster_registry.host, recipient)
    manifests = load_manifests([cluster], identities=load_identity_file(key))
    (repo,) = [o.obj for o in manifests.objects if isinstance(o.obj, ImageRepository)]
    pool = RegistryPool()
    try:
        ctx = ReconcileContext(clock=clock, store=store, registry=pool, secrets=manifests.secrets)
        outcome = await reconcile_image_repository(repo, ctx)
    finally:
        await pool.aclose()
    assert outcome.ready, outcome.document
    assert outcome.document["lastScanResult"]["tagCount"] == 4


def test_an_encrypted_secret_without_a_key_is_reported_with_its_file(
    tmp_path: Path, blaster_registry: RunningRegistry
) -> None:
    _, recipient = _age_key(tmp_path)
    cluster = _write_cluster(tmp_path, blaster_registry.host, recipient)
    manifests = load_manifests([cluster])
    [problem] = manifests.problems
    assert re.search(r"blaster-dev-registry\.yaml: encrypted with SOPS", str(problem))
    with pytest.raises(MissingSecretError, match=r"could not be loaded: .*encrypted with SOPS"):
        manifests.secrets.get(
            "flux-system", "blaster-dev-registry", wanted_by="test", reason="Failure"
        )


def test_a_wrong_key_names_the_files_recipients(
    tmp_path: Path, blaster_registry: RunningRegistry
) -> None:
    _, recipient = _age_key(tmp_path)
    cluster = _write_cluster(tmp_path, blaster_registry.host, recipient)
    (tmp_path / "other").mkdir()
    other, _ = _age_key(tmp_path / "other")
    manifests = load_manifests([cluster], identities=load_identity_file(other))
    [problem] = manifests.problems
    assert recipient in str(problem)
    assert [o.kind for o in manifests.objects] == ["ImageRepository"]


def test_a_sops_age_secret_among_the_manifests_supplies_the_key(
    tmp_path: Path, blaster_registry: RunningRegistry
) -> None:
    key, recipient = _age_key(tmp_path)
    cluster = _write_cluster(tmp_path, blaster_registry.host, recipient)
    (cluster / "flux-system/sops-age.yaml").write_text(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: sops-age\n  namespace: flux-system\n"
        "stringData:\n  age.agekey: |\n"
        + "".join(f"    {line}\n" for line in key.read_text().splitlines())
    )
    manifests = load_manifests([cluster])
    secret = manifests.secrets.get(
        "flux-system", "blaster-dev-registry", wanted_by="test", reason="Failure"
    )
    assert secret.has(".dockerconfigjson")
