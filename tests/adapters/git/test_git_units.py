"""The git adapter's small parts: Flux's push-branch rules, redaction, the isolated environment."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest

from tagpilot.adapters.git import CheckoutRef, GitAuth, GitAuthError, PushSpec, SourceManagerError
from tagpilot.adapters.git.env import is_ssh_url, isolated_env
from tagpilot.adapters.git.flow import PushPlan, plan_push
from tagpilot.adapters.git.runner import redact
from tagpilot.adapters.git.workspace import push_option_args

KNOWN_HOSTS = b"[127.0.0.1]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample\n"


@pytest.mark.parametrize(
    ("checkout", "push", "expected"),
    [
        pytest.param(CheckoutRef(branch="main"), None, PushPlan("main", False, "", {}),
                     id="push-to-checkout-branch"),
        pytest.param(CheckoutRef(branch="main"), PushSpec(branch="main"),
                     PushPlan("main", False, "", {}), id="same-branch-no-switch"),
        pytest.param(CheckoutRef(branch="main"), PushSpec(branch="auto"),
                     PushPlan("auto", True, "", {}), id="other-branch-switches"),
        pytest.param(None, PushSpec(branch="master"), PushPlan("master", False, "", {}),
                     id="no-ref-compares-with-master"),
        pytest.param(None, PushSpec(branch="main"), PushPlan("main", True, "", {}),
                     id="no-ref-main-switches"),
        pytest.param(CheckoutRef(tag="v1"), PushSpec(branch="auto", refspec="r:r"),
                     PushPlan("auto", True, "r:r", {}), id="tag-checkout-switches"),
        pytest.param(CheckoutRef(branch="main"), PushSpec(options={"a": ""}),
                     PushPlan("main", False, "", {"a": ""}), id="options-only"),
    ],
)  # fmt: skip
def test_the_push_branch_follows_flux(
    checkout: CheckoutRef | None, push: PushSpec | None, expected: PushPlan
) -> None:
    assert plan_push(checkout, push) == expected


@pytest.mark.parametrize(
    ("checkout", "push"),
    [
        pytest.param(None, None, id="nothing"),
        pytest.param(CheckoutRef(tag="v1.0.0"), None, id="tag-checkout"),
        pytest.param(
            CheckoutRef(commit="abc"),
            PushSpec(refspec="HEAD:refs/heads/x"),
            id="refspec-alone-still-needs-a-branch",
        ),
    ],
)
def test_an_uninferable_push_branch_is_a_source_manager_failure(
    checkout: CheckoutRef | None, push: PushSpec | None
) -> None:
    with pytest.raises(SourceManagerError, match="push spec not provided, and cannot be inferred"):
        plan_push(checkout, push)


def test_only_a_switched_push_branch_is_forced() -> None:
    assert plan_push(CheckoutRef(branch="main"), PushSpec(branch="auto")).force
    assert not plan_push(CheckoutRef(branch="main"), None).force


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("fatal: bad s3cr3t here", "fatal: bad *** here", id="secret"),
        pytest.param("https://bob:pa55@host/x.git", "https://bob:***@host/x.git", id="url"),
        pytest.param("> Authorization: Basic Ym9iOnBh", "> Authorization: Basic ***", id="header"),
        pytest.param("nothing to hide", "nothing to hide", id="clean"),
    ],
)
def test_redact_removes_secrets_from_git_output(text: str, expected: str) -> None:
    assert redact(text, ["s3cr3t"]) == expected


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        pytest.param({}, [], id="none"),
        pytest.param(
            {"merge_request.create": ""}, ["--push-option=merge_request.create"], id="flag"
        ),
        pytest.param(
            {"b": "2", "a": "1"}, ["--push-option=a=1", "--push-option=b=2"], id="sorted-key-values"
        ),
    ],
)
def test_push_options_are_key_value_or_bare_keys(
    options: dict[str, str], expected: list[str]
) -> None:
    assert push_option_args(options) == expected


@pytest.mark.parametrize(
    ("url", "ssh"),
    [
        pytest.param("ssh://git@host:22/x.git", True, id="ssh-scheme"),
        pytest.param("git@github.com:org/x.git", True, id="scp-like"),
        pytest.param("https://host/x.git", False, id="https"),
        pytest.param("/srv/x.git", False, id="local-path"),
    ],
)
def test_ssh_urls_are_recognised(url: str, ssh: bool) -> None:
    assert is_ssh_url(url) is ssh


def test_https_credentials_travel_in_env_config_and_files_vanish(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GIT_DIR", "/elsewhere")
    monkeypatch.setenv("GIT_SSL_CAINFO", "/etc/ssl/inherited.pem")
    auth = GitAuth(username="bob", password="pa55", ca_pem=b"CA\n")
    with isolated_env("https://git.example.com:8443/x.git", auth) as env:
        values = dict(env.env)
        private = env.private_dir
        assert stat.S_IMODE(private.stat().st_mode) == 0o700
        ca_file = Path(values["GIT_CONFIG_VALUE_3"])
        assert stat.S_IMODE(ca_file.stat().st_mode) == 0o600
        assert ca_file.read_bytes() == b"CA\n"
    basic = base64.b64encode(b"bob:pa55").decode()
    assert values["GIT_CONFIG_KEY_2"] == "http.https://git.example.com:8443/.extraHeader"
    assert values["GIT_CONFIG_VALUE_2"] == f"Authorization: Basic {basic}"
    assert "GIT_DIR" not in values
    assert "GIT_SSL_CAINFO" not in values
    assert values["GIT_TERMINAL_PROMPT"] == "0"
    assert values["GIT_CONFIG_NOSYSTEM"] == "1"
    assert values["HOME"].startswith(str(private))
    assert "pa55" not in repr(auth)
    assert not private.exists()


def test_ssh_runs_with_the_secrets_key_and_strict_known_hosts() -> None:
    auth = GitAuth(identity_pem=b"KEY", known_hosts=KNOWN_HOSTS)
    with isolated_env("ssh://git@127.0.0.1:2222/x.git", auth) as env:
        command = env.env["GIT_SSH_COMMAND"]
        key_file = env.private_dir / "identity"
        assert key_file.read_bytes() == b"KEY\n"
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert f"-i {key_file}" in command
    assert "StrictHostKeyChecking=yes" in command
    assert "BatchMode=yes" in command
    assert f"UserKnownHostsFile={env.private_dir / 'known_hosts'}" in command


def test_ssh_without_known_hosts_is_refused_and_leaves_nothing_behind() -> None:
    before = set(Path(os.environ.get("TMPDIR", "/tmp")).glob("tagpilot-git-*"))
    with (
        pytest.raises(GitAuthError, match="no known_hosts"),
        isolated_env("git@host:x.git", GitAuth(identity_pem=b"KEY")),
    ):
        pass
    assert set(Path(os.environ.get("TMPDIR", "/tmp")).glob("tagpilot-git-*")) == before
