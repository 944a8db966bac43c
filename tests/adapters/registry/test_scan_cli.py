"""``tagpilot scan IMAGE``: crane-style listing against real registries, errors as one line."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from registry_support import APP_TAGS, PASSWORD, USER, Seeded

from servers.pki import Pki
from tagpilot.cli.errors import GuardedGroup
from tagpilot.cli.scan import scan


@click.group(cls=GuardedGroup)
def cli() -> None:
    """The scan command inside the same guarded group the real CLI uses."""


cli.add_command(scan)


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["scan", *args])
    return result.exit_code, result.stdout, result.stderr


def test_scan_prints_one_tag_per_line_in_registry_order(plain_registry: Seeded) -> None:
    code, out, _ = _run(f"{plain_registry.host}/team/app")
    assert code == 0
    assert sorted(out.splitlines()) == sorted(APP_TAGS)


def test_scan_json_output_has_the_canonical_name(plain_registry: Seeded) -> None:
    code, out, _ = _run(f"{plain_registry.host}/team/app", "-o", "json")
    document = json.loads(out)
    assert code == 0
    assert document["canonicalImageName"] == f"{plain_registry.host}/team/app"
    assert sorted(document["tags"]) == sorted(APP_TAGS)


def test_scan_of_an_empty_repository_prints_nothing(plain_registry: Seeded) -> None:
    assert _run(f"{plain_registry.host}/edge/empty") == (0, "", "")


def test_scan_uses_the_docker_config_credentials(basic_registry: Seeded, tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    auth = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    config.write_text(json.dumps({"auths": {basic_registry.host: {"auth": auth}}}))
    code, out, _ = _run(f"{basic_registry.host}/private/app", "--docker-config", str(config))
    assert code == 0
    assert len(out.splitlines()) == len(APP_TAGS)


@pytest.mark.usefixtures("no_ca_environment")
def test_scan_trusts_the_ca_file(tls_registry: Seeded, pki: Pki) -> None:
    code, out, _ = _run(f"{tls_registry.host}/secure/app", "--ca-file", str(pki.ca_cert))
    assert code == 0
    assert len(out.splitlines()) == len(APP_TAGS)


@pytest.mark.usefixtures("no_ca_environment")
def test_scan_presents_the_client_certificate(mtls_registry: Seeded, pki: Pki) -> None:
    code, out, _ = _run(
        f"{mtls_registry.host}/mutual/app",
        *("--ca-file", str(pki.ca_cert)),
        *("--cert-file", str(pki.client_cert), "--key-file", str(pki.client_key)),
    )
    assert code == 0
    assert len(out.splitlines()) == len(APP_TAGS)


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        pytest.param(
            ["ghcr.io/org/app:1.0"], 2, "should not include a tag; remove ':1.0'", id="tag"
        ),
        pytest.param(["https://ghcr.io/a/b"], 2, "remove 'https://'", id="scheme"),
        pytest.param(["ghcr.io/a/b", "--timeout", "1h"], 2, "--timeout", id="hours-not-allowed"),
    ],
)
def test_scan_reports_bad_input_in_one_line_with_exit_2(
    args: list[str], code: int, message: str
) -> None:
    exit_code, out, err = _run(*args)
    assert (exit_code, out) == (code, "")
    assert err.startswith("error: ")
    assert message in err
    assert "Traceback" not in err


def test_scan_of_an_unknown_repository_fails_with_exit_1(plain_registry: Seeded) -> None:
    code, _, err = _run(f"{plain_registry.host}/no/such")
    assert code == 1
    assert "not found" in err


def test_scan_with_a_key_but_no_certificate_is_bad_input(pki: Pki) -> None:
    code, _, err = _run("reg.io/a/b", "--key-file", str(pki.client_key))
    assert code == 2
    assert "tls.crt and tls.key must be given together" in err


def test_scan_insecure_works_and_warns_that_plain_http_is_allowed(plain_registry: Seeded) -> None:
    code, out, err = _run(f"{plain_registry.host}/team/app", "--insecure")
    assert code == 0
    assert sorted(out.splitlines()) == sorted(APP_TAGS)
    assert f"warning: --insecure: plain HTTP to {plain_registry.host} is allowed" in err


STARTUP_PROBE = """
import sys
from tagpilot.cli.main import main
sys.argv = ["tagpilot", "scan", sys.argv[1]]
try:
    main()
except SystemExit as done:
    assert not done.code, done.code
from tagpilot.adapters.registry.tls import client_tls
heavy = sorted(m for m in ("pydantic", "rich", "re2", "ruamel", "tagpilot.api") if m in sys.modules)
print("heavy:", heavy, "trust store loaded:", client_tls(None).system_loaded, file=sys.stderr)
"""


def test_scan_of_a_plain_registry_loads_no_models_no_rich_and_no_trust_store(
    plain_registry: Seeded,
) -> None:
    """What keeps `tagpilot scan` quick to start: only what one listing needs is loaded."""
    argv = [sys.executable, "-c", STARTUP_PROBE, f"{plain_registry.host}/team/app"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert sorted(done.stdout.splitlines()) == sorted(APP_TAGS)
    assert "heavy: [] trust store loaded: False" in done.stderr
