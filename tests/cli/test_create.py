"""``tagpilot create ... --export``: Flux's flags, messages and byte-exact YAML (spec §6.2)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from ruamel.yaml import YAML

from tagpilot.cli.create import NO_STORE_MESSAGE, create
from tagpilot.cli.errors import GuardedGroup


@click.group(cls=GuardedGroup)
def cli() -> None:
    """A stand-in for the tagpilot root group."""


cli.add_command(create)


def run(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(cli, ["create", *args], input=stdin)


@pytest.fixture(scope="module")
def golden(testdata: Path) -> Path:
    return testdata / "export"


@pytest.mark.parametrize(
    ("args", "golden_file"),
    [
        pytest.param(
            [
                "image",
                "repository",
                "podinfo",
                "--image=ghcr.io/stefanprodan/podinfo",
                "--interval=5m",
                "--secret-ref=regcred",
                "--cert-ref=ca",
                "--scan-timeout=90s",
                "--export",
            ],
            "image-repository.yaml",
            id="image-repository",
        ),
        pytest.param(
            [
                "image",
                "policy",
                "podinfo",
                "--image-ref=podinfo",
                "--select-numeric=asc",
                "--filter-regex=^main-[a-f0-9]+-(?P<ts>[0-9]+)",
                "--filter-extract=$ts",
                "--export",
            ],
            "image-policy-numerical.yaml",
            id="image-policy-numerical",
        ),
        pytest.param(
            [
                "image",
                "update",
                "flux-system",
                "--git-repo-ref=flux-system",
                "--checkout-branch=main",
                "--author-name=flux",
                "--author-email=flux@example.com",
                "--signing-key-secret=my-deploy-key",
                "--signing-key-type=ssh",
                "--export",
            ],
            "image-update.yaml",
            id="image-update-signing-key",
        ),
        pytest.param(
            [
                "image",
                "policy",
                "podinfo",
                "--image-ref=podinfo",
                "--select-semver=>=1.0.0",
                r"--filter-regex=^v?[0-9]+\.[0-9]+\.[0-9]+$",
                "--label",
                "team=apps,app.kubernetes.io/name=podinfo",
                "--export",
            ],
            "image-policy-semver-labels.yaml",
            id="image-policy-semver-labels",
        ),
        pytest.param(
            [
                "image",
                "update",
                "blaster-dev-automation",
                "-n",
                "apps",
                "--git-repo-ref=blaster-dev",
                "--git-repo-namespace=flux-system",
                "--git-repo-path=./k8s/dev",
                "--checkout-branch=develop",
                "--push-branch=develop",
                "--author-name=FluxCD",
                "--author-email=andrew@reids.net.au",
                "--commit-template={{range .Changed.Changes}}{{print .OldValue}} -> "
                "{{println .NewValue}}{{end}} [skip ci]",
                "--interval=5m",
                "--export",
            ],
            "image-update-path-template.yaml",
            id="image-update-path-and-template",
        ),
        pytest.param(
            [
                "image",
                "policy",
                "podinfo",
                "--image-ref=podinfo",
                "--select-alpha=desc",
                "--reflect-digest=Always",
                "--interval=10m",
                "--export",
            ],
            "image-policy-digest.yaml",
            id="image-policy-digest-always",
        ),
        pytest.param(
            [
                "source",
                "git",
                "blaster-dev",
                "--url=ssh://git-ssh.reids.net.au/games/blaster.git",
                "--branch=develop",
                "--secret-ref=flux-ssh-auth",
                "--export",
            ],
            "source-git.yaml",
            id="source-git",
        ),
        pytest.param(
            [
                "secret",
                "registry",
                "blaster-dev-registry",
                "--docker-server=registry.reids.net.au",
                "--docker-username=blaster-dev",
                "--docker-password=REPLACE-ME",
                "--docker-email=andrew@reids.net.au",
                "--export",
            ],
            "secret-registry.yaml",
            id="secret-registry",
        ),
    ],
)
def test_export_matches_the_golden_file_byte_for_byte(
    args: list[str], golden_file: str, golden: Path
) -> None:
    result = run(*args)
    assert result.exit_code == 0, result.output
    assert result.output == (golden / golden_file).read_text()


def test_a_password_read_from_stdin_stays_out_of_argv(golden: Path) -> None:
    result = run(
        "secret",
        "git",
        "podinfo-auth",
        "--url=https://github.com/org/podinfo",
        "--username=git",
        "--password-stdin",
        "--export",
        stdin="12345\n",
    )
    assert result.exit_code == 0, result.output
    assert result.output == (golden / "secret-git-basic.yaml").read_text()


def test_the_registry_secret_carries_kubectl_style_docker_config() -> None:
    result = run(
        "secret",
        "registry",
        "regcred",
        "--docker-server=ghcr.io",
        "--docker-username=bot",
        "--docker-password-stdin",
        "--export",
        stdin="tok\n",
    )
    document = YAML(typ="safe").load(result.output)
    config = json.loads(base64.b64decode(document["data"][".dockerconfigjson"]))
    assert config == {
        "auths": {"ghcr.io": {"username": "bot", "password": "tok", "auth": "Ym90OnRvaw=="}}
    }


def test_an_ssh_git_secret_derives_the_public_key_and_needs_known_hosts(tmp_path: Path) -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    (tmp_path / "id").write_bytes(private)
    (tmp_path / "known_hosts").write_text(
        "git.example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE\n"
    )
    args = [
        "secret",
        "git",
        "deploy",
        "--url=ssh://git@git.example.com/org/repo",
        f"--private-key-file={tmp_path / 'id'}",
    ]
    refused = run(*args, "--export")
    assert refused.exit_code == 2
    assert (
        "does not fetch SSH host keys over the network: pass --known-hosts-file" in refused.output
    )
    result = run(*args, f"--known-hosts-file={tmp_path / 'known_hosts'}", "--export")
    assert result.exit_code == 0, result.output
    data = YAML(typ="safe").load(result.output)["stringData"]
    assert data["identity"] == private.decode()
    assert data["identity.pub"] == public.decode() + "\n"
    assert data["known_hosts"] == "git.example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE"
    assert "identity: |" in result.output


def test_an_ssh_git_secret_without_a_key_file_gets_a_new_ecdsa_key(tmp_path: Path) -> None:
    (tmp_path / "kh").write_text("host ssh-ed25519 AAAA\n")
    result = run(
        "secret",
        "git",
        "deploy",
        "--url=ssh://git@host/repo",
        f"--known-hosts-file={tmp_path / 'kh'}",
        "--export",
    )
    assert result.exit_code == 0, result.output
    data = YAML(typ="safe").load(result.output)["stringData"]
    assert data["identity.pub"].startswith("ecdsa-sha2-nistp384 ")
    assert "OPENSSH PRIVATE KEY" in data["identity"]


_UPDATE = (
    "image",
    "update",
    "podinfo",
    "--git-repo-ref=flux-system",
    "--checkout-branch=main",
    "--author-name=bot",
    "--author-email=bot@example.com",
)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            ["image", "repository", "a", "--image=x/y", "--export"],
            "name 'a' is invalid, it should adhere to standard defined in RFC 1123, "
            "the name can only contain alphanumeric characters or '-'",
            id="one-character-name",
        ),
        pytest.param(
            ["image", "repository", "Podinfo", "--image=x/y", "--export"],
            "name 'Podinfo' is invalid",
            id="uppercase-name",
        ),
        pytest.param(
            ["image", "repository", "podinfo", "--export"],
            "an image repository (--image) is required",
            id="image-required",
        ),
        pytest.param(
            ["image", "repository", "podinfo", "--image=ghcr.io/org/app:1.0", "--export"],
            "should not include a tag; remove ':1.0'",
            id="image-with-tag",
        ),
        pytest.param(
            ["image", "repository", "podinfo", "--image=x/y", "--scan-timeout=1h", "--export"],
            "the timeout field allows no h unit",
            id="scan-timeout-hours",
        ),
        pytest.param(
            ["image", "policy", "podinfo", "--select-semver=1.x", "--export"],
            "the name of an ImageRepository in the namespace is required (--image-ref)",
            id="image-ref-required",
        ),
        pytest.param(
            ["image", "policy", "podinfo", "--image-ref=p", "--export"],
            "a policy must be provided with either --select-semver or --select-alpha",
            id="no-policy",
        ),
        pytest.param(
            ["image", "policy", "podinfo", "--image-ref=p", "--select-alpha=up", "--export"],
            '--select-alpha must be one of ["asc", "desc"]',
            id="alpha-order",
        ),
        pytest.param(
            ["image", "policy", "podinfo", "--image-ref=p", "--select-numeric=up", "--export"],
            '--select-numeric must be one of ["asc", "desc"]',
            id="numeric-order",
        ),
        pytest.param(
            [
                "image",
                "policy",
                "podinfo",
                "--image-ref=p",
                "--select-alpha=asc",
                "--select-numeric=asc",
                "--export",
            ],
            "only one of --select-semver, --select-alpha or --select-numeric can be specified",
            id="alpha-and-numeric",
        ),
        pytest.param(
            [
                "image",
                "policy",
                "podinfo",
                "--image-ref=p",
                "--select-semver=1.x",
                "--select-alpha=asc",
                "--export",
            ],
            "only one of --select-semver, --select-alpha or --select-numeric can be specified",
            id="semver-and-alpha-is-an-error-not-an-empty-policy",
        ),
        pytest.param(
            [
                "image",
                "policy",
                "podinfo",
                "--image-ref=p",
                "--select-semver=1.x",
                "--filter-extract=$ts",
                "--export",
            ],
            "cannot specify --filter-extract without specifying --filter-regex",
            id="extract-without-regex",
        ),
        pytest.param(
            [
                "image",
                "policy",
                "podinfo",
                "--image-ref=p",
                "--select-semver=1.x",
                "--filter-regex=(",
                "--export",
            ],
            "--filter-regex is an invalid regex pattern",
            id="bad-regex",
        ),
        pytest.param(
            [
                "image",
                "policy",
                "podinfo",
                "--image-ref=p",
                "--select-semver=1.x",
                "--filter-regex=^(?P<ts>[0-9]+)$",
                "--filter-extract=$tz",
                "--export",
            ],
            "capture group $tz used in --filter-extract not found in --filter-regex",
            id="unknown-group",
        ),
        pytest.param(
            [
                "image",
                "policy",
                "podinfo",
                "--image-ref=p",
                "--select-semver=1.x",
                "--filter-regex=^(?P<ts>[0-9]+)$",
                "--filter-extract=${ts",
                "--export",
            ],
            "--filter-extract is malformed",
            id="malformed-extract",
        ),
        pytest.param(
            [
                "image",
                "policy",
                "podinfo",
                "--image-ref=p",
                "--select-semver=1.x",
                "--reflect-digest=Often",
                "--export",
            ],
            "invalid value for --reflect-digest, "
            'must be one of ["Never", "IfNotPresent", "Always"]',
            id="reflect-enum",
        ),
        pytest.param(
            [
                "image",
                "policy",
                "podinfo",
                "--image-ref=p",
                "--select-semver=1.x",
                "--interval=5m",
                "--export",
            ],
            "the --interval flag can only be used with the 'Always' digest reflection policy",
            id="interval-without-always",
        ),
        pytest.param(
            [
                "image",
                "policy",
                "podinfo",
                "--image-ref=p",
                "--select-semver=1.x",
                "--reflect-digest=Always",
                "--export",
            ],
            "--reflect-digest=Always needs --interval",
            id="always-without-interval",
        ),
        pytest.param(
            [
                "image",
                "update",
                "auto",
                "--checkout-branch=main",
                "--author-name=a",
                "--author-email=a@b",
                "--export",
            ],
            "a reference to a GitRepository is required (--git-repo-ref)",
            id="git-repo-ref-required",
        ),
        pytest.param(
            [
                "image",
                "update",
                "auto",
                "--git-repo-ref=r",
                "--author-name=a",
                "--author-email=a@b",
                "--export",
            ],
            "the Git repository branch is required (--checkout-branch)",
            id="checkout-branch-required",
        ),
        pytest.param(
            [
                "image",
                "update",
                "auto",
                "--git-repo-ref=r",
                "--checkout-branch=main",
                "--author-email=a@b",
                "--export",
            ],
            "the author name is required (--author-name)",
            id="author-name-required",
        ),
        pytest.param(
            [
                "image",
                "update",
                "auto",
                "--git-repo-ref=r",
                "--checkout-branch=main",
                "--author-name=a",
                "--export",
            ],
            "the author email is required (--author-email)",
            id="author-email-required",
        ),
        pytest.param(
            [
                "image",
                "update",
                "auto",
                "--git-repo-ref=r",
                "--checkout-branch=main",
                "--author-name=a",
                "--author-email=a@b",
                "--signing-key-type=ssh",
                "--export",
            ],
            "--signing-key-type requires --signing-key-secret",
            id="key-type-without-secret",
        ),
        pytest.param(
            [
                "image",
                "update",
                "auto",
                "--git-repo-ref=r",
                "--checkout-branch=main",
                "--author-name=a",
                "--author-email=a@b",
                "--signing-key-secret=k",
                "--signing-key-type=x509",
                "--export",
            ],
            '--signing-key-type must be one of ["gpg", "ssh"]',
            id="key-type-enum",
        ),
        pytest.param(
            ["source", "git", "repo", "--branch=main", "--export"],
            "url is required",
            id="url-required",
        ),
        pytest.param(
            ["source", "git", "repo", "--url=git@github.com:org/repo", "--branch=main", "--export"],
            "git URL scheme '' not supported, can be: ssh, http and https",
            id="scp-style-url",
        ),
        pytest.param(
            ["source", "git", "repo", "--url=https://h/r", "--export"],
            "a Git ref is required, use one of the following: "
            "--branch, --tag, --commit, --ref-name or --tag-semver",
            id="ref-required",
        ),
        pytest.param(
            ["secret", "git", "auth", "--url=https://h/r", "--username=u", "--export"],
            "for Git over HTTP/S the username and password, or a bearer token is required",
            id="http-credentials",
        ),
        pytest.param(
            [
                "secret",
                "git",
                "auth",
                "--url=https://h/r",
                "-u",
                "u",
                "-p",
                "p",
                "--bearer-token=t",
                "--export",
            ],
            "user credentials and bearer token cannot be used together",
            id="basic-and-bearer",
        ),
        pytest.param(
            ["image", "repository", "podinfo", "--image=x/y", "--label=novalue", "--export"],
            "invalid label format 'novalue', must be key=value",
            id="label-format",
        ),
        pytest.param(
            ["image", "repository", "podinfo", "--image=x/y", "--label=-bad=x", "--export"],
            "invalid label '-bad'",
            id="label-key",
        ),
        pytest.param(
            ["image", "policy", "podinfo", "--image-ref=p", "--select-semver=banana", "--export"],
            "--select-semver: invalid semver range 'banana': cannot read 'banana'",
            id="semver-range-that-does-not-parse",
        ),
        pytest.param(
            [*_UPDATE, "--commit-template={{ range .Updated.Images }}{{ . }}{{ end }}", "--export"],
            "--commit-template: template uses removed '.Updated' field. "
            "Please use '.Changed' instead.",
            id="commit-template-with-the-removed-updated-field",
        ),
        pytest.param(
            [*_UPDATE, "--commit-template={{ range .Changed.ImageResult }}{{ end }}", "--export"],
            "template uses removed '.Changed.ImageResult' field",
            id="commit-template-with-the-removed-image-result-field",
        ),
        pytest.param(
            [*_UPDATE, "--commit-template={{ .AutomationObject", "--export"],
            "--commit-template: unable to create commit message template from spec",
            id="commit-template-that-does-not-parse",
        ),
    ],
)
def test_bad_flags_fail_with_fluxs_message_and_exit_code_2(args: list[str], message: str) -> None:
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert result.output.startswith("error: ")
    assert message in result.output


def test_a_bad_interval_is_a_usage_error() -> None:
    result = run("image", "repository", "podinfo", "--image=x/y", "--interval=5", "--export")
    assert result.exit_code == 2
    assert "Invalid value for '--interval'" in result.output


@pytest.mark.parametrize(
    "template",
    [
        pytest.param("{{ range .Changed.Changes }}{{ .NewValue }}{{ end }}", id="changes"),
        pytest.param('{{ index .Values "env" }}', id="values-known-only-at-run-time"),
        pytest.param("{{ .AutomationObject.Name }}: {{ len .Changed.FileChanges }}", id="name"),
    ],
)
def test_a_commit_template_that_parses_and_uses_current_fields_is_accepted(
    template: str,
) -> None:
    result = run(*_UPDATE, f"--commit-template={template}", "--export")
    assert result.exit_code == 0, result.output
    commit = YAML(typ="safe").load(result.output)["spec"]["git"]["commit"]
    assert commit["messageTemplate"] == template


def test_without_export_nothing_is_written_and_the_exit_code_is_2() -> None:
    result = run("image", "repository", "podinfo", "--image=x/y")
    assert result.exit_code == 2
    assert result.output == f"error: {NO_STORE_MESSAGE}\n"


def test_secret_values_never_appear_in_error_messages() -> None:
    result = run(
        "secret",
        "git",
        "auth",
        "--url=https://h/r",
        "-u",
        "u",
        "-p",
        "hunter2",
        "--bearer-token=t0ken",
        "--export",
    )
    assert result.exit_code == 2
    assert "hunter2" not in result.output and "t0ken" not in result.output


@pytest.mark.parametrize(
    ("flags", "ref"),
    [
        pytest.param(["--branch=main"], {"branch": "main"}, id="branch"),
        pytest.param(["--branch=main", "--tag=v1.0.0"], {"tag": "v1.0.0"}, id="tag-over-branch"),
        pytest.param(
            ["--tag=v1", "--tag-semver=>=1.0.0"], {"semver": ">=1.0.0"}, id="semver-over-tag"
        ),
        pytest.param(
            ["--tag-semver=1.x", "--ref-name=refs/heads/x"], {"name": "refs/heads/x"}, id="name"
        ),
        pytest.param(
            ["--branch=main", "--commit=abc123"],
            {"commit": "abc123", "branch": "main"},
            id="commit",
        ),
    ],
)
def test_source_git_ref_flags_follow_the_api_precedence(
    flags: list[str], ref: dict[str, str]
) -> None:
    result = run("source", "git", "repo", "--url=https://host/repo.git", *flags, "--export")
    assert result.exit_code == 0, result.output
    assert YAML(typ="safe").load(result.output)["spec"]["ref"] == ref
