"""``tagpilot policy eval``: the chosen tag on stdout, reasons and warnings, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tagpilot.cli.main import cli

BLASTER = "blaster/clusters/my-cluster/blaster/dev/20-blaster-images-dev.yaml"


def _run(args: list[str], stdin: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["policy", "eval", *args], input=stdin)
    return result.exit_code, result.stdout, result.stderr


def test_the_seeds_policy_picks_build_9_and_warns_about_dotted_numbers(examples: Path) -> None:
    code, out, err = _run(
        ["-f", str(examples / BLASTER), "--tags-file", str(examples / "blaster/tags.txt")]
    )
    assert (code, out) == (0, "dev-20251115.9\n")
    assert "20251115.9 > 20251115.51" in err


def test_json_output_lists_candidates_rejections_and_warnings(examples: Path) -> None:
    code, out, _ = _run(
        ["-f", str(examples / BLASTER), "--tag", "dev-20251115.42", "--tag", "latest", "-o", "json"]
    )
    document = json.loads(out)
    assert code == 0
    assert document["latest"] == "dev-20251115.42"
    assert document["candidates"] == 1
    assert document["rejected"][0]["tag"] == "latest"
    assert "does not match pattern" in document["rejected"][0]["reason"]


def test_explain_gives_every_tag_a_verdict(examples: Path) -> None:
    _, _, err = _run(
        [
            "-f",
            str(examples / BLASTER),
            "--tag",
            "dev-20251115.42",
            "--tag",
            "dev-20251114.7",
            "--explain",
        ]
    )
    assert "selected  dev-20251115.42" in err
    assert "candidate  dev-20251114.7" in err


def test_tags_can_come_from_stdin(examples: Path) -> None:
    code, out, _ = _run(
        ["-f", str(examples / BLASTER), "--tags-file", "-"],
        stdin="# pushed by CI\ndev-20251114.7\n\ndev-20251114.12\n",
    )
    assert (code, out) == (0, "dev-20251114.7\n")


def test_no_qualifying_tag_exits_1_with_flux_reason(examples: Path) -> None:
    code, out, err = _run(["-f", str(examples / BLASTER), "--tag", "latest"])
    assert (code, out) == (1, "")
    assert "no tag qualifies: version list argument cannot be empty" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            ["-f", "policies/semver-bad-range.yaml", "--tag", "1.0.0"],
            "semver-bad-range.yaml:1: spec.policy.semver.range",
            id="bad-range-located",
        ),
        pytest.param(
            ["-f", "policies/two-policies.yaml", "--tag", "1.0.0"],
            "several ImagePolicies (stable, previews); choose one with --name",
            id="ambiguous-file",
        ),
        pytest.param(
            ["-f", "policies/two-policies.yaml", "--name", "nope", "--tag", "1"],
            "no ImagePolicy named 'nope'",
            id="unknown-name",
        ),
        pytest.param(
            ["-f", "policies/two-policies.yaml", "--name", "stable"], "no tags given", id="no-tags"
        ),
        pytest.param(
            ["-f", "policies/missing.yaml", "--tag", "1.0.0"],
            "missing.yaml: no such file or directory",
            id="missing-file",
        ),
    ],
)
def test_bad_input_exits_2_with_a_located_message(
    testdata: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], message: str
) -> None:
    monkeypatch.chdir(testdata)
    code, _, err = _run(args)
    assert code == 2
    assert message in err
    assert "Traceback" not in err


def test_name_selects_one_of_several_policies(testdata: Path) -> None:
    code, out, _ = _run(
        [
            "-f",
            str(testdata / "policies/two-policies.yaml"),
            "--name",
            "previews",
            "--tag",
            "1.2.0",
            "--tag",
            "1.3.0-rc.1",
        ]
    )
    assert (code, out) == (0, "1.3.0-rc.1\n")


BAD_PATTERN = """\
apiVersion: image.toolkit.fluxcd.io/v1beta2
kind: ImagePolicy
metadata:
  name: blaster-dev-policy
  namespace: flux-system
spec:
  imageRepositoryRef:
    name: blaster-dev-repo
  filterTags:
    pattern: '^dev-(?P<ts>[0-9]{8}\\.[0-9]+$'
    extract: '$ts'
  policy:
    numerical:
      order: asc
"""


def test_a_bad_pattern_is_shown_as_written_with_single_backslashes(tmp_path: Path) -> None:
    (tmp_path / "policy.yaml").write_text(BAD_PATTERN)
    code, _, err = _run(["-f", str(tmp_path / "policy.yaml"), "--tag", "dev-1"])
    assert code == 2
    assert "invalid value '^dev-(?P<ts>[0-9]{8}\\.[0-9]+$': invalid regular expression" in err
    assert "\\\\" not in err
