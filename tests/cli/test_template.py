"""``tagpilot template render``: golden output, options, and clear exit-2 errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tagpilot.cli.template import template

GOLDEN = Path(__file__).resolve().parents[1] / "testdata" / "templates"
CHANGE = {
    "file": "deploy.yaml",
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "name": "podinfo",
    "namespace": "default",
    "old": "podinfo:5.0.0",
    "new": "podinfo:5.0.3",
    "setter": "flux-system:podinfo",
}


def _write(tmp_path: Path, name: str, content: object) -> str:
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return str(path)


def _render(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(template, ["render", *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("case", ["flux-docs-files-objects", "gerrit-change-id", "no-value"])
def test_render_prints_the_golden_message_exactly(case: str) -> None:
    folder = GOLDEN / case
    args = [
        "--template-file",
        str(folder / "template.txt"),
        "--changes",
        str(folder / "changes.json"),
    ]
    if (folder / "values.json").exists():
        args += ["--values", str(folder / "values.json")]
    code, out, _ = _render(*args, "--automation", "flux-system/podinfo-auto")
    assert (code, out) == (0, (folder / "expected.txt").read_text())


def test_inline_template_with_default_automation(tmp_path: Path) -> None:
    changes = _write(tmp_path, "changes.json", [CHANGE])
    code, out, _ = _render(
        "--template", "{{ .AutomationObject }}: {{ len .Changed.Changes }}", "--changes", changes
    )
    assert (code, out) == (0, "flux-system/flux-system: 1")


def test_identity_keys_may_be_omitted_for_objects_without_them(tmp_path: Path) -> None:
    row = {"file": "kustomization.yaml", "old": "1", "new": "2", "setter": "ns:p:tag"}
    changes = _write(tmp_path, "changes.json", [row])
    code, out, _ = _render(
        "--template",
        "{{ range $id, $c := .Changed.Objects }}[{{ $id.Kind }}]{{ end }}",
        "--changes",
        changes,
    )
    assert (code, out) == (0, "[]")


@pytest.mark.parametrize(
    ("changes", "values", "automation", "message"),
    [
        pytest.param("[{", None, "a/b", "changes.json:1: not valid JSON", id="bad-json"),
        pytest.param(
            {"file": "x"}, None, "a/b", "expected a JSON list of changes", id="not-a-list"
        ),
        pytest.param(
            [{"file": "x", "old": "1", "new": "2"}],
            None,
            "a/b",
            "[0]: missing key(s): setter",
            id="missing-key",
        ),
        pytest.param(
            [dict(CHANGE, old=1)], None, "a/b", "[0].old: expected a string", id="number-value"
        ),
        pytest.param(
            [CHANGE], ["x"], "a/b", "values.json: expected a JSON object", id="values-not-object"
        ),
        pytest.param(
            [CHANGE], {"k": 1}, "a/b", "values.json: k: expected a string value", id="values-number"
        ),
        pytest.param(
            [CHANGE], None, "just-a-name", "--automation: expected NAMESPACE/NAME", id="automation"
        ),
    ],
)
def test_bad_input_exits_2_naming_file_and_problem(
    tmp_path: Path, changes: object, values: object, automation: str, message: str
) -> None:
    args = ["--template", "x", "--changes", _write(tmp_path, "changes.json", changes)]
    if values is not None:
        args += ["--values", _write(tmp_path, "values.json", values)]
    code, out, err = _render(*args, "--automation", automation)
    assert (code, out) == (2, "")
    assert err.startswith("error: ")
    assert message in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            "{{ if",
            "unable to create commit message template from spec: "
            "template: commit message:1: unclosed action",
            id="parse",
        ),
        pytest.param(
            "{{ .Nope }}",
            "failed to run template from spec: template: commit message:1:3:",
            id="exec",
        ),
        pytest.param(
            "{{ range .Updated.Images }}{{ end }}",
            "template uses removed '.Updated' field. Please use '.Changed' instead.",
            id="removed",
        ),
        pytest.param(
            "{{ range until 100000000 }}{{ end }}", "exceeds the limit of 100000", id="limit"
        ),
    ],
)
def test_template_errors_exit_2_with_flux_message(tmp_path: Path, text: str, message: str) -> None:
    changes = _write(tmp_path, "changes.json", [CHANGE])
    code, _, err = _render("--template", text, "--changes", changes)
    assert code == 2
    assert message in err


@pytest.mark.parametrize("both", [pytest.param(False, id="neither"), pytest.param(True, id="both")])
def test_exactly_one_template_option_is_required(tmp_path: Path, both: bool) -> None:
    changes = _write(tmp_path, "changes.json", [CHANGE])
    args = ["--template", "x", "--template-file", _write(tmp_path, "t.txt", "x")] if both else []
    code, _, err = _render(*args, "--changes", changes)
    assert code == 2
    assert "exactly one of --template and --template-file" in err
