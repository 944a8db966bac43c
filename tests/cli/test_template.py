"""``tagpilot template render``: golden output, options, and clear exit-2 errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tagpilot.cli.create import create
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


# A template a Flux user might paste, using Sprig functions and literals beyond the basics.
SPRIG_TEMPLATE = (
    '{{ $t := toDate "2006-01-02" "2024-05-01" }}'
    '[{{ .AutomationObject.Name | camelcase }}] {{ $t.Format "Jan 2006" }}'
    '{{ range .Changed.Changes }} {{ base (splitList ":" .NewValue | first) }}'
    '@{{ (semver (splitList ":" .NewValue | last)).IncMinor }}'
    '{{ if semverCompare "^5" (splitList ":" .NewValue | last) }} major-5{{ end }}'
    "{{ end }} {{ typeOf 1_000 }} {{ 0x1p-2 }} {{ 1+2i }}"
)


def test_render_handles_sprigs_hermetic_functions_and_go_literals(tmp_path: Path) -> None:
    changes = _write(tmp_path, "changes.json", [CHANGE])
    code, out, err = _render(
        "--template", SPRIG_TEMPLATE, "--changes", changes, "--automation", "ns/podinfo-auto"
    )
    assert (code, err) == (0, "")
    assert out == "[PodinfoAuto] May 2024 podinfo@5.1.0 major-5 int 0.25 (1+2i)"


def test_render_reports_a_wrongly_typed_map_key(tmp_path: Path) -> None:
    changes = _write(tmp_path, "changes.json", [CHANGE])
    code, _, err = _render("--template", "{{ index .Values 1 }}", "--changes", changes)
    assert code == 2
    assert "error calling index: value has type int; should be string" in err


def test_create_image_update_exports_a_template_with_the_new_functions() -> None:
    args = [
        "image",
        "update",
        "podinfo",
        "--git-repo-ref=flux-system",
        "--checkout-branch=main",
        "--author-name=bot",
        "--author-email=bot@example.com",
        f"--commit-template={SPRIG_TEMPLATE}",
        "--export",
    ]
    result = CliRunner().invoke(create, args)
    assert result.exit_code == 0, result.output
    assert "semverCompare" in result.stdout
    assert "messageTemplate:" in result.stdout
