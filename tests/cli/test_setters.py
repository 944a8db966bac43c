"""``tagpilot setters apply``: flags, text and JSON output, dry-run, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tagpilot.cli.main import cli
from tagpilot.cli.setters import parse_policy_flag, setters
from tagpilot.core.setters import PolicyTarget

DIGEST = "sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"
BLASTER_MARKER = '# {"$imagepolicy": "flux-system:blaster-dev-policy"}'
DEPLOYMENT = f"""\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: blaster-app
  namespace: blaster-dev
spec:
  template:
    spec:
      containers:
        - name: blaster
          image: registry.reids.net.au/games/blaster:dev-20251115.42 {BLASTER_MARKER}
        - name: other
          image: busybox:1.36 # {{"$imagepolicy": "flux-system:unknown"}}
"""
POLICY = "flux-system:blaster-dev-policy=registry.reids.net.au/games/blaster:dev-20251115.51"


@pytest.mark.parametrize(
    ("flag", "key", "target"),
    [
        pytest.param("ns:app=app:1.2", "ns:app", PolicyTarget("app", "1.2"), id="name-tag"),
        pytest.param(
            "ns:app=localhost:5000/app:1.2",
            "ns:app",
            PolicyTarget("localhost:5000/app", "1.2"),
            id="registry-port",
        ),
        pytest.param(
            f"ns:app=localhost:5000/team/app:1.2@{DIGEST}",
            "ns:app",
            PolicyTarget("localhost:5000/team/app", "1.2", DIGEST),
            id="port-tag-digest",
        ),
        pytest.param(
            f"ns:app=ghcr.io/acme/app@{DIGEST}",
            "ns:app",
            PolicyTarget("ghcr.io/acme/app", "", DIGEST),
            id="digest-only",
        ),
    ],
)
def test_policy_flags_split_name_tag_and_digest(flag: str, key: str, target: PolicyTarget) -> None:
    assert parse_policy_flag(flag) == (key, target)


@pytest.mark.parametrize(
    ("flag", "reason"),
    [
        pytest.param("app=app:1.2", "NAMESPACE:NAME", id="no-namespace"),
        pytest.param("ns:app", "NAMESPACE:NAME", id="no-equals"),
        pytest.param("ns:app=localhost:5000/app", "neither a tag nor a digest", id="port-no-tag"),
        pytest.param("ns:app=app:", "neither a tag nor a digest", id="empty-tag"),
        pytest.param("ns:app=app:1.2@sha256", "not ALGORITHM:HEX", id="bad-digest"),
        pytest.param("ns:app=app:bad tag", "not a valid image tag", id="space-in-tag"),
        pytest.param("ns:app==app:1", "image name", id="bad-name"),
    ],
)
def test_bad_policy_flags_exit_2_naming_the_value(tmp_path: Path, flag: str, reason: str) -> None:
    result = CliRunner().invoke(setters, ["apply", str(tmp_path), "--policy", flag])
    assert result.exit_code == 2
    assert f"'{flag}'" in result.output
    assert reason in result.output


def write_deployment(root: Path) -> Path:
    """The seeds' Blaster dev deployment under ``root/k8s/dev``."""
    path = root / "k8s" / "dev" / "50-app-deployment.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(DEPLOYMENT)
    return path


def test_apply_rewrites_and_prints_one_line_per_change(tmp_path: Path) -> None:
    path = write_deployment(tmp_path)
    result = CliRunner().invoke(setters, ["apply", str(tmp_path), "--policy", POLICY])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "k8s/dev/50-app-deployment.yaml: registry.reids.net.au/games/blaster:dev-20251115.42"
        " -> registry.reids.net.au/games/blaster:dev-20251115.51 (flux-system:blaster-dev-policy)",
        "1 change in 1 file",
    ]
    assert "k8s/dev/50-app-deployment.yaml:13: no policy for setter flux-system:unknown" in (
        result.stderr
    )
    assert path.read_text() == DEPLOYMENT.replace("dev-20251115.42", "dev-20251115.51")


def test_dry_run_prints_the_diff_and_writes_nothing(tmp_path: Path) -> None:
    path = write_deployment(tmp_path)
    result = CliRunner().invoke(setters, ["apply", str(tmp_path), "--policy", POLICY, "--dry-run"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(
        "--- a/k8s/dev/50-app-deployment.yaml\n"
        "+++ b/k8s/dev/50-app-deployment.yaml\n"
        "@@ -8,6 +8,6 @@"
    )
    assert (
        "-          image: registry.reids.net.au/games/blaster:dev-20251115.42 #" in result.stdout
    )
    assert (
        "+          image: registry.reids.net.au/games/blaster:dev-20251115.51 #" in result.stdout
    )
    assert result.stdout.endswith("1 change in 1 file (dry run: nothing written)\n")
    assert path.read_text() == DEPLOYMENT


def test_json_output_lists_changes_unknown_markers_and_problems(tmp_path: Path) -> None:
    write_deployment(tmp_path)
    (tmp_path / "broken.yaml").write_text('a: [b # {"$imagepolicy": "x:y"}\n')
    result = CliRunner().invoke(setters, ["apply", str(tmp_path), "--policy", POLICY, "-o", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "changes": [
            {
                "file": "k8s/dev/50-app-deployment.yaml",
                "old": "registry.reids.net.au/games/blaster:dev-20251115.42",
                "new": "registry.reids.net.au/games/blaster:dev-20251115.51",
                "setter": "flux-system:blaster-dev-policy",
                "object": {
                    "apiVersion": "apps/v1",
                    "kind": "Deployment",
                    "name": "blaster-app",
                    "namespace": "blaster-dev",
                },
            }
        ],
        "unknownMarkers": [
            {
                "file": "k8s/dev/50-app-deployment.yaml",
                "line": 13,
                "setter": "flux-system:unknown",
                "hint": "known policies: flux-system:blaster-dev-policy",
            }
        ],
        "malformedMarkers": [],
        "problems": [
            {
                "file": "broken.yaml",
                "message": "broken.yaml:2: cannot parse YAML (expected ',' or ']', but got "
                "'<stream end>'); file left untouched",
            }
        ],
    }


def test_a_missing_path_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(setters, ["apply", str(tmp_path / "nope")])
    assert result.exit_code == 2
    assert "does not exist" in result.output


SMART = "# {\u201c$imagepolicy\u201d: \u201cflux-system:blaster-dev-policy\u201d}"


def test_markers_that_are_not_markers_are_reported_in_text_and_json(tmp_path: Path) -> None:
    (tmp_path / "pasted.yaml").write_text(f"image: registry.reids.net.au/games/blaster:1 {SMART}\n")
    text = CliRunner().invoke(setters, ["apply", str(tmp_path), "--policy", POLICY])
    assert text.exit_code == 0, text.output
    assert text.stderr == (
        "warning: pasted.yaml:1: typographic quotes (\u201c \u201d) where JSON needs plain "
        f'double quotes ("): {SMART}\n'
    )
    document = CliRunner().invoke(
        setters, ["apply", str(tmp_path), "--policy", POLICY, "-o", "json"]
    )
    assert json.loads(document.stdout)["malformedMarkers"] == [
        {
            "file": "pasted.yaml",
            "line": 1,
            "comment": SMART,
            "problem": "typographic quotes (\u201c \u201d) where JSON needs plain double quotes "
            '(")',
        }
    ]


def test_an_unknown_marker_warning_suggests_the_policy_meant(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(
        'image: x # {"$imagepolicy": "flux-system:blaster-dev-polcy"}\n'
    )
    result = CliRunner().invoke(setters, ["apply", str(tmp_path), "--policy", POLICY])
    assert result.stderr == (
        "warning: a.yaml:1: no policy for setter flux-system:blaster-dev-polcy; left unchanged "
        "(did you mean 'flux-system:blaster-dev-policy'?)\n"
    )


def test_a_path_that_is_not_a_directory_is_an_error_not_a_traceback() -> None:
    result = CliRunner().invoke(cli, ["setters", "apply", "/dev/null"])
    assert result.exit_code == 2
    assert result.output == (
        "error: /dev/null: not a directory: setters apply walks a directory of manifests\n"
    )
    assert result.exception is None or isinstance(result.exception, SystemExit)
