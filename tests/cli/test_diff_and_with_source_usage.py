"""The command line of ``diff kustomization`` and ``reconcile kustomization --with-source``:
help, usage errors, and the failures that need no cluster or daemon."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from servers.git import free_port
from tagpilot.cli.main import cli
from tagpilot.cli.reconcile_leaf import source_key
from tagpilot.core.errors import InvalidInputError
from tagpilot.ports import ObjectKey


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(
    ("args", "wanted"),
    [
        pytest.param(["diff", "--help"], ["kustomization"], id="diff lists kustomization"),
        pytest.param(
            ["diff", "kustomization", "--help"],
            ["--path", "--kustomization-file", "--kubeconfig", "0 no differences, 1 differences"],
            id="diff kustomization: its flags and flux's exit codes",
        ),
        pytest.param(
            ["reconcile", "kustomization", "--help"], ["--with-source", "--kubeconfig"],
            id="reconcile kustomization: --with-source and --kubeconfig",
        ),
        pytest.param(
            ["reconcile", "source", "git", "--help"], ["--kubeconfig", "requestedAt"],
            id="reconcile source git: --kubeconfig",
        ),
        pytest.param(["--help"], ["diff"], id="the top level lists diff"),
    ],
)  # fmt: skip
def test_help_names_the_flags(args: list[str], wanted: list[str]) -> None:
    code, out, _ = _run(*args)
    assert code == 0
    text = " ".join(out.split())
    for word in wanted:
        assert word in text, out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["diff", "kustomization", "app"], "Missing option '--path'", id="no --path"),
        pytest.param(["diff", "kustomization", "--path", "."], "Missing argument 'NAME'",
                     id="no name"),
        pytest.param(["reconcile", "source", "git", "app", "--with-source"],
                     "No such option '--with-source'", id="--with-source on a source"),
    ],
)  # fmt: skip
def test_usage_errors_exit_2(args: list[str], message: str) -> None:
    code, _, err = _run(*args)
    assert code == 2
    assert message in err


def test_diff_with_an_unreadable_kubeconfig_is_one_line_and_exit_2(tmp_path: Path) -> None:
    config = tmp_path / "kubeconfig"
    config.write_text("apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\n")
    code, out, err = _run(
        "diff", "kustomization", "app", "--path", str(tmp_path), "--kubeconfig", str(config)
    )
    assert code == 2
    assert out == ""
    assert err.startswith("✗ ") and err.count("\n") == 1 and "Traceback" not in err


def test_with_source_without_a_daemon_says_what_to_do() -> None:
    server = f"http://127.0.0.1:{free_port()}"
    code, _, err = _run("reconcile", "kustomization", "app", "--with-source", "--server", server)
    assert code == 1
    assert err == f"✗ no tagpilot daemon at {server}: start 'tagpilot run' or use " + (
        "'tagpilot reconcile PATH --once'\n"
    )


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        pytest.param({"sourceRef": {"kind": "GitRepository", "name": "app"}},
                     ObjectKey("GitRepository", "apps", "app"), id="same namespace by default"),
        pytest.param({"sourceRef": {"kind": "GitRepository", "name": "app",
                                    "namespace": "flux-system"}},
                     ObjectKey("GitRepository", "flux-system", "app"), id="another namespace"),
    ],
)  # fmt: skip
def test_the_source_is_the_kustomizations_source_ref(
    spec: dict[str, object], expected: ObjectKey
) -> None:
    assert source_key(spec, "apps") == expected


@pytest.mark.parametrize(
    "spec",
    [
        pytest.param({"sourceRef": {"kind": "OCIRepository", "name": "app"}}, id="not git"),
        pytest.param({}, id="no sourceRef"),
    ],
)
def test_a_source_tagpilot_does_not_reconcile_is_refused_by_name(spec: dict[str, object]) -> None:
    with pytest.raises(InvalidInputError, match="is not a GitRepository"):
        source_key(spec, "apps")
