"""One unrelated file under PATH must not stop every automation.

A Helm chart template, a file that is not UTF-8, a YAML alias bomb or a Secret encrypted to
somebody else's age key is left out and reported (file, line, why); every object that does
not depend on it still loads.  A Secret that failed to decrypt is remembered, so the objects
that use it fail with that reason.  ``.sourceignore`` files (gitignore syntax, as Flux's
source-controller reads them) and ``--exclude`` patterns keep files out altogether.
"""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from servers.ocipush import seed
from servers.registry import RunningRegistry, run_registry
from tagpilot.adapters.manifests import ManifestReader, load_manifests
from tagpilot.adapters.sops.keys import AgeIdentities, load_identity_file
from tagpilot.api.loader import ManifestError
from tagpilot.cli.app import build_app
from tagpilot.cli.main import cli
from tagpilot.core.secrets import MissingSecretError

IMAGES = """\
apiVersion: image.toolkit.fluxcd.io/v1
kind: ImageRepository
metadata:
  name: app
  namespace: flux-system
spec:
  image: {registry}/org/app
  interval: 1m
---
apiVersion: image.toolkit.fluxcd.io/v1
kind: ImagePolicy
metadata:
  name: app
  namespace: flux-system
spec:
  imageRepositoryRef:
    name: app
  policy:
    semver:
      range: 1.x
"""

PRIVATE = """\
apiVersion: image.toolkit.fluxcd.io/v1
kind: ImageRepository
metadata:
  name: private
  namespace: flux-system
spec:
  image: {registry}/org/private
  interval: 1m
  secretRef:
    name: private-registry
"""

HELM_TEMPLATE = """\
{{- if .Values.enabled }}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "app.fullname" . }}
spec:
  replicas: {{ .Values.replicaCount }}
{{- end }}
"""

ALIAS_BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 10)}]\n" for i in range(6)
)


def _age_key(directory: Path) -> tuple[Path, str]:
    directory.mkdir(parents=True, exist_ok=True)
    key = directory / "keys.txt"
    subprocess.run(["age-keygen", "-o", str(key)], check=True, capture_output=True)
    recipient = subprocess.run(
        ["age-keygen", "-y", str(key)], check=True, capture_output=True, text=True
    ).stdout.strip()
    return key, recipient


def _encrypted_registry_secret(recipient: str) -> str:
    created = CliRunner().invoke(
        cli,
        [
            "create",
            "secret",
            "registry",
            "private-registry",
            "--docker-server=registry.example",
            "--docker-username=ci",
            "--docker-password-stdin",
            "--export",
            "--sops",
            "--sops-age",
            recipient,
        ],
        input="s3cret\n",
    )
    assert created.exit_code == 0, created.output
    return created.stdout


@pytest.fixture
def ours(tmp_path: Path) -> tuple[Path, str]:
    return _age_key(tmp_path / "ours")


@pytest.fixture
def theirs(tmp_path: Path) -> tuple[Path, str]:
    return _age_key(tmp_path / "theirs")


@pytest.fixture
def cluster(tmp_path: Path) -> Path:
    root = tmp_path / "repo" / "clusters" / "dev"
    root.mkdir(parents=True)
    (root / "images.yaml").write_text(IMAGES.format(registry="registry.example"))
    return root


def _write(path: Path, content: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)


BadFile = Callable[[str], str | bytes]

BAD_FILES: list[tuple[str, str, BadFile, str, int | None]] = [
    (
        "helm-chart-template",
        "charts/app/templates/deployment.yaml",
        lambda _: HELM_TEMPLATE,
        "YAML syntax error at column 3",
        1,
    ),
    ("not-utf8", "notes/latin1.yaml", lambda _: "name: caf\xe9\n".encode("latin-1"), "UTF-8", None),
    ("alias-bomb", "bomb.yaml", lambda _: ALIAS_BOMB, "alias bomb", 5),
    (
        "secret-for-somebody-else",
        "secrets/private-registry.yaml",
        _encrypted_registry_secret,
        "no identity matches recipients",
        None,
    ),
    (
        "flux-object-then-broken-yaml",
        "half.yaml",
        lambda _: (
            IMAGES.format(registry="r.example").replace("name: app", "name: half")
            + "---\nkey: [unclosed\n"
        ),
        "YAML syntax error",
        23,
    ),
]


@pytest.mark.parametrize(
    ("relative", "content", "why", "line"),
    [pytest.param(*case[1:], id=case[0]) for case in BAD_FILES],
)
def test_a_file_that_cannot_be_loaded_is_left_out_and_reported_and_the_rest_loads(
    cluster: Path,
    ours: tuple[Path, str],
    theirs: tuple[Path, str],
    relative: str,
    content: BadFile,
    why: str,
    line: int | None,
) -> None:
    bad = cluster / relative
    _write(bad, content(theirs[1]))
    manifests = load_manifests([cluster], identities=load_identity_file(ours[0]))
    assert [(o.kind, o.name) for o in manifests.objects] == [
        ("ImageRepository", "app"),
        ("ImagePolicy", "app"),
    ]
    [problem] = manifests.problems
    assert problem.location is not None and problem.location.file == str(bad)
    assert problem.location.line == line
    assert why in str(problem)


def test_objects_using_a_secret_that_did_not_decrypt_fail_with_that_reason(
    cluster: Path, ours: tuple[Path, str], theirs: tuple[Path, str]
) -> None:
    secret = cluster / "secrets/private-registry.yaml"
    _write(secret, _encrypted_registry_secret(theirs[1]))
    manifests = load_manifests([cluster], identities=load_identity_file(ours[0]))
    with pytest.raises(MissingSecretError) as caught:
        manifests.secrets.get(
            "flux-system", "private-registry", wanted_by="ImageRepository flux-system/private",
            reason="AuthenticationFailed",
        )  # fmt: skip
    message = str(caught.value)
    assert message.startswith(
        "ImageRepository flux-system/private: Secret 'flux-system/private-registry' could not "
        f"be loaded: {secret}: no identity matches recipients {theirs[1]}"
    )
    assert caught.value.reason == "AuthenticationFailed"


def test_an_encrypted_file_without_any_key_is_left_out_naming_where_keys_come_from(
    cluster: Path, theirs: tuple[Path, str]
) -> None:
    _write(cluster / "secrets/private-registry.yaml", _encrypted_registry_secret(theirs[1]))
    [problem] = load_manifests([cluster], identities=AgeIdentities()).problems
    for place in ("--age-key-file", "SOPS_AGE_KEY_FILE", "~/.config/sops/age/keys.txt"):
        assert place in str(problem)


def test_an_invalid_flux_object_is_still_an_error_and_lists_the_left_out_files_too(
    cluster: Path,
) -> None:
    _write(cluster / "charts/app/templates/deployment.yaml", HELM_TEMPLATE)
    bad = IMAGES.format(registry="r.example").replace("name: app\n", "name: bad\n")
    _write(cluster / "bad-policy.yaml", bad.replace("range: 1.x", "range: 1.x\n  surprise: 1"))
    with pytest.raises(ManifestError) as caught:
        load_manifests([cluster])
    text = str(caught.value)
    assert "bad-policy.yaml:" in text and "unknown field 'surprise'" in text
    assert "deployment.yaml:1: YAML syntax error" in text


def test_a_file_named_on_the_command_line_that_cannot_be_read_is_still_an_error(
    tmp_path: Path,
) -> None:
    named = tmp_path / "template.yaml"
    named.write_text(HELM_TEMPLATE)
    with pytest.raises(ManifestError, match="YAML syntax error"):
        load_manifests([named])


@pytest.mark.parametrize(
    ("ignore_files", "exclude", "loaded"),
    [
        pytest.param(
            {"clusters/dev/.sourceignore": "charts/\n"}, [], ["extra.yaml"], id="sourceignore-dir"
        ),
        pytest.param(
            {"clusters/dev/.sourceignore": "*.yaml\n!/images.yaml\n"},
            [],
            [],
            id="sourceignore-negation",
        ),
        pytest.param(
            {".sourceignore": "# the chart\nclusters/dev/charts/\n", ".git/HEAD": ""},
            [],
            ["extra.yaml"],
            id="sourceignore-at-the-work-tree-root-above-path",
        ),
        pytest.param(
            {"clusters/dev/charts/.sourceignore": "/app/templates/\n"},
            [],
            ["extra.yaml"],
            id="sourceignore-in-a-subdirectory-scoped-to-it",
        ),
        pytest.param(
            {"clusters/dev/charts/.sourceignore": "/templates/\n"},
            [],
            None,
            id="anchored-pattern-in-a-subdirectory-does-not-reach-deeper",
        ),
        pytest.param({}, ["charts/"], ["extra.yaml"], id="exclude-dir"),
        pytest.param({}, ["**/templates/*.yaml"], ["extra.yaml"], id="exclude-glob"),
        pytest.param(
            {"clusters/dev/.sourceignore": "!charts/\n"},
            ["charts/", "extra.yaml"],
            [],
            id="exclude-wins-over-sourceignore",
        ),
    ],
)
def test_sourceignore_and_exclude_keep_files_out(
    tmp_path: Path,
    cluster: Path,
    ignore_files: dict[str, str],
    exclude: list[str],
    loaded: list[str] | None,
) -> None:
    _write(cluster / "charts/app/templates/deployment.yaml", HELM_TEMPLATE)
    _write(
        cluster / "extra.yaml",
        IMAGES.format(registry="r.example").split("---\n")[0].replace("name: app", "name: extra"),
    )
    for relative, content in ignore_files.items():
        _write(tmp_path / "repo" / relative, content)
    manifests = load_manifests([cluster], exclude=exclude)
    if loaded is None:  # the template was not ignored: it is reported
        assert [p.location.file for p in manifests.problems if p.location] == [
            str(cluster / "charts/app/templates/deployment.yaml")
        ]
        return
    assert manifests.problems == []
    files = sorted({Path(o.source.file or "").name for o in manifests.objects})
    assert files == sorted(["images.yaml", *loaded])


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[RunningRegistry]:
    with run_registry(tmp_path / "registry") as running:
        seed(running.url, "org/app", ["1.0.0", "1.2.0"])
        yield running


def test_reconcile_once_runs_the_rest_reports_the_left_out_files_and_exits_1(
    tmp_path: Path,
    cluster: Path,
    registry: RunningRegistry,
    ours: tuple[Path, str],
    theirs: tuple[Path, str],
) -> None:
    (cluster / "images.yaml").write_text(IMAGES.format(registry=registry.host))
    (cluster / "private.yaml").write_text(PRIVATE.format(registry=registry.host))
    _write(cluster / "secrets/private-registry.yaml", _encrypted_registry_secret(theirs[1]))
    _write(cluster / "charts/app/templates/deployment.yaml", HELM_TEMPLATE)
    home = tmp_path / "home"
    home.mkdir()
    result = CliRunner().invoke(
        cli,
        [
            "reconcile", str(cluster), "--once", "--state", str(tmp_path / "state/state.db"),
            "--age-key-file", str(ours[0]),
        ],
        env={"HOME": str(home), "XDG_CONFIG_HOME": str(home), "SOPS_AGE_KEY_FILE": None,
             "SOPS_AGE_KEY": None},
    )  # fmt: skip
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    assert any(line.startswith("✔ ImageRepository flux-system/app:") for line in lines)
    assert "✔ ImagePolicy flux-system/app: Latest image tag for" in result.stdout
    assert "resolved to 1.2.0" in result.stdout
    [private] = [line for line in lines if line.startswith("✗ ImageRepository flux-system/private")]
    secret = cluster / "secrets/private-registry.yaml"
    assert (
        f"Secret 'flux-system/private-registry' could not be loaded: {secret}: "
        f"no identity matches recipients {theirs[1]}"
    ) in private
    assert "3 objects reconciled, 1 failed" in result.stdout
    assert f"error: left out {cluster / 'charts/app/templates/deployment.yaml'}:1: " in (
        result.stderr
    )
    assert f"error: left out {cluster / 'secrets/private-registry.yaml'}" in result.stderr


def test_reconcile_once_with_exclude_leaves_the_template_out_quietly(
    tmp_path: Path, cluster: Path, registry: RunningRegistry
) -> None:
    (cluster / "images.yaml").write_text(IMAGES.format(registry=registry.host))
    _write(cluster / "charts/app/templates/deployment.yaml", HELM_TEMPLATE)
    result = CliRunner().invoke(
        cli,
        ["reconcile", str(cluster), "--once", "--state", str(tmp_path / "state/state.db"),
         "--exclude", "charts/"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.stderr == ""


def test_a_reload_refuses_an_edit_that_breaks_a_file_in_use_but_leaves_out_a_new_bad_file(
    cluster: Path,
) -> None:
    reader = ManifestReader()
    assert len(reader([cluster]).objects) == 2
    _write(cluster / "charts/app/templates/deployment.yaml", HELM_TEMPLATE)
    assert [p.location.file for p in reader([cluster]).problems if p.location] == [
        str(cluster / "charts/app/templates/deployment.yaml")
    ]
    good = (cluster / "images.yaml").read_text()
    (cluster / "images.yaml").write_text(good.replace("  policy:\n", "  policy: [unclosed\n"))
    with pytest.raises(ManifestError) as caught:
        reader([cluster])
    assert [p.location.file for p in caught.value.problems if p.location] == [
        str(cluster / "images.yaml")
    ]
    (cluster / "images.yaml").write_text(good)
    assert len(reader([cluster]).objects) == 2


def test_the_engine_wiring_reports_left_out_files_on_every_load(
    tmp_path: Path, cluster: Path
) -> None:
    heard: list[str] = []
    _write(cluster / "charts/app/templates/deployment.yaml", HELM_TEMPLATE)
    app = build_app(
        [cluster],
        state=tmp_path / "state" / "state.db",
        dry_run=True,
        on_problems=lambda problems: heard.extend(str(p) for p in problems),
    )
    try:
        assert [str(p) for p in app.problems] == heard
        assert heard[0].startswith(f"{cluster / 'charts/app/templates/deployment.yaml'}:1: ")
        assert app.engine.reload([cluster]).error is None
        assert len(heard) == 2
    finally:
        asyncio.run(app.aclose())
