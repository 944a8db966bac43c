"""``tagpilot scan`` without click: the quick start reads exactly as the click command.

Each command line runs twice, as a process: as a user starts it (``python -m tagpilot scan``,
which takes the quick path when it can) and through the click command group alone.  Exit code,
stdout and stderr must be identical, whether the quick path ran the listing or handed the
command line to click (help, usage errors).
"""

from __future__ import annotations

import base64
import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest
from registry_support import PASSWORD, USER, Seeded

from servers.fakes import run_stalling_server
from tagpilot.adapters.registry.blocking import ENVIRONMENT_PROXIES
from tagpilot.cli.scan_argv import parse_quick

QUICK, CLICK = True, False
CASES = [
    pytest.param(["{plain}/team/app"], QUICK, id="tags"),
    pytest.param(["{plain}/team/app", "-o", "json"], QUICK, id="json"),
    pytest.param(["-ojson", "{plain}/team/app"], QUICK, id="json-attached"),
    pytest.param(["--output=json", "{plain}/team/app"], QUICK, id="json-equals"),
    pytest.param(["{plain}/team/app", "--insecure", "--timeout=5s"], QUICK, id="insecure"),
    pytest.param(["{plain}/edge/empty"], QUICK, id="empty"),
    pytest.param(["{plain}/no/such"], QUICK, id="not-found-exit-1"),
    pytest.param(["ghcr.io/a/b:1.0"], QUICK, id="tag-given-exit-2"),
    pytest.param(["ghcr.io/a/b", "--timeout", "1h"], QUICK, id="hours-exit-2"),
    pytest.param(["{basic}/private/app", "--docker-config", "{config}"], QUICK, id="credentials"),
    pytest.param(["{basic}/private/app"], QUICK, id="credentials-missing"),
    pytest.param([], CLICK, id="no-image"),
    pytest.param(["--help"], CLICK, id="help"),
    pytest.param(["-h"], CLICK, id="short-help"),
    pytest.param(["{plain}/team/app", "--output", "yaml"], CLICK, id="bad-choice"),
    pytest.param(["{plain}/team/app", "--output="], CLICK, id="empty-choice"),
    pytest.param(["{plain}/team/app", "--ca-file", "{missing}"], CLICK, id="missing-file"),
    pytest.param(["{plain}/team/app", "--ca-file", "{directory}"], CLICK, id="directory"),
    pytest.param(["{plain}/team/app", "--colour"], CLICK, id="unknown-option"),
    pytest.param(["{plain}/team/app", "--timeout"], CLICK, id="missing-value"),
    pytest.param(["{plain}/team/app", "{plain}/edge/empty"], CLICK, id="two-images"),
    pytest.param(["{plain}/team/app", "-o", "json", "-o", "text"], CLICK, id="repeated"),
    pytest.param(["{plain}/team/app", "--insecure=yes"], CLICK, id="flag-with-value"),
]


@pytest.fixture
def names(plain_registry: Seeded, basic_registry: Seeded, tmp_path: Path) -> dict[str, str]:
    config = tmp_path / "config.json"
    auth = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    config.write_text(json.dumps({"auths": {basic_registry.host: {"auth": auth}}}))
    return {
        "plain": plain_registry.host,
        "basic": basic_registry.host,
        "config": str(config),
        "missing": str(tmp_path / "no-such.pem"),
        "directory": str(tmp_path),
    }


CLICK_ONLY = "import sys; from tagpilot.cli.main import main; sys.argv[0] = 'tagpilot'; main()"


def _process(*argv: str) -> tuple[int, str, str]:
    environment = {k: v for k, v in os.environ.items() if k not in ENVIRONMENT_PROXIES}
    done = subprocess.run(
        [sys.executable, *argv],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=environment,
    )
    return done.returncode, done.stdout, done.stderr


@pytest.mark.parametrize(("template", "quick"), CASES)
def test_the_quick_start_reads_exactly_as_the_click_command(
    names: dict[str, str], template: list[str], quick: bool
) -> None:
    args = [part.format(**names) for part in template]
    assert (parse_quick(args) is not None) is quick
    as_user = _process("-m", "tagpilot", "scan", *args)
    assert as_user == _process("-c", CLICK_ONLY, "scan", *args)


QUICK_PROBE = """
import sys
from tagpilot.cli.entry import main
sys.argv = ["tagpilot", "scan", sys.argv[1]]
try:
    main()
except SystemExit as done:
    assert not done.code, done.code
loaded = sorted(m for m in ("click", "asyncio", "httpx", "pydantic", "rich") if m in sys.modules)
print("loaded:", loaded, file=sys.stderr)
"""


def test_a_quick_scan_loads_no_click_no_asyncio_and_no_httpx(plain_registry: Seeded) -> None:
    argv = [sys.executable, "-c", QUICK_PROBE, f"{plain_registry.host}/team/app"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip()
    assert "loaded: []" in done.stderr


def test_a_slow_listing_shows_a_spinner_on_a_terminal_and_still_reports_its_error() -> None:
    """The spinner runs beside the listing; the listing's own error still ends the command."""
    with run_stalling_server() as host:
        controller, terminal = pty.openpty()
        try:
            done = subprocess.run(
                [sys.executable, "-m", "tagpilot", "scan", f"{host}/team/app", "--timeout=2s"],
                stdout=subprocess.PIPE,
                stderr=terminal,
                timeout=60,
                check=False,
            )
            os.close(terminal)
            seen = b""
            while chunk := _read_some(controller):
                seen += chunk
        finally:
            os.close(controller)
    text = seen.decode(errors="replace")
    assert done.returncode == 1
    assert done.stdout == b""
    assert f"listing tags of {host}/team/app" in text, "the spinner's label"
    assert "error: listing tags of" in text and "timed out after 2s" in text


def _read_some(descriptor: int) -> bytes:
    try:
        return os.read(descriptor, 65536)
    except OSError:  # the terminal's other end is closed: all was read
        return b""
