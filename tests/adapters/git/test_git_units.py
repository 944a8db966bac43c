"""The git adapter's small parts: Flux's push-branch rules, redaction, the isolated environment."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tagpilot.adapters.git import CheckoutRef, GitAuth, GitAuthError, PushSpec, SourceManagerError
from tagpilot.adapters.git.credentials import origin, url_without_credentials
from tagpilot.adapters.git.env import is_ssh_url, isolated_env
from tagpilot.adapters.git.flow import PushPlan, plan_push
from tagpilot.adapters.git.runner import redact, remote_moved
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


def _config(env: dict[str, str]) -> dict[str, list[str]]:
    """The ``GIT_CONFIG_KEY_n``/``VALUE_n`` settings of ``env``, every value of each key."""
    found: dict[str, list[str]] = {}
    for index in range(int(env["GIT_CONFIG_COUNT"])):
        found.setdefault(env[f"GIT_CONFIG_KEY_{index}"], []).append(
            env[f"GIT_CONFIG_VALUE_{index}"]
        )
    return found


def test_https_credentials_travel_in_a_private_file_for_their_origin_only_and_vanish(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GIT_DIR", "/elsewhere")
    monkeypatch.setenv("GIT_SSL_CAINFO", "/etc/ssl/inherited.pem")
    auth = GitAuth(username="bob", password="pa:5/5", ca_pem=b"CA\n")
    with isolated_env("https://git.example.com:8443/x.git", auth) as env:
        values = dict(env.env)
        config = _config(values)
        private = env.private_dir
        assert stat.S_IMODE(private.stat().st_mode) == 0o700
        ca_file = Path(config["http.sslCAInfo"][0])
        assert stat.S_IMODE(ca_file.stat().st_mode) == 0o600
        assert ca_file.read_bytes() == b"CA\n"
        store = private / "credentials"
        assert stat.S_IMODE(store.stat().st_mode) == 0o600
        assert store.read_text() == "https://bob:pa%3A5%2F5@git.example.com:8443\n"
    assert config["credential.helper"] == ["", f"store --file={store}"]
    assert env.guarded_origin == "https://git.example.com:8443"
    assert "pa:5/5" not in repr(values) and "pa%3A5%2F5" not in repr(values)
    assert not any(key.endswith("extraHeader") for key in config)
    assert "GIT_DIR" not in values
    assert "GIT_SSL_CAINFO" not in values
    assert values["GIT_TERMINAL_PROMPT"] == "0"
    assert values["GIT_CONFIG_NOSYSTEM"] == "1"
    assert values["HOME"].startswith(str(private))
    assert "pa:5/5" not in repr(auth)
    assert not private.exists()


def test_a_bearer_token_is_a_header_for_its_origin_and_redirects_are_not_followed() -> None:
    with isolated_env("https://git.example.com/x.git", GitAuth(bearer_token="tok")) as env:
        config = _config(dict(env.env))
    assert config["http.https://git.example.com/.extraHeader"] == ["Authorization: Bearer tok"]
    assert config["http.followRedirects"] == ["false"]
    assert env.guarded_origin == "https://git.example.com"


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("https://git.example.com/x.git", id="https"),
        pytest.param("ssh://git@127.0.0.1:2222/x.git", id="ssh"),
    ],
)
def test_hooks_and_fsmonitor_are_switched_off_for_every_git_call(url: str) -> None:
    with isolated_env(url, GitAuth(known_hosts=KNOWN_HOSTS)) as env:
        config = _config(dict(env.env))
    assert config["core.hooksPath"] == [os.devnull]
    assert config["core.fsmonitor"] == ["false"]


@pytest.mark.parametrize(
    ("url", "auth", "clean", "expected"),
    [
        pytest.param("https://bob:pa%40ss@host/x.git", GitAuth(), "https://host/x.git",
                     GitAuth(username="bob", password="pa@ss"), id="userinfo-moves-to-auth"),
        pytest.param("http://bob:pw@host:8080/x.git", GitAuth(username="al", password="s"),
                     "http://host:8080/x.git", GitAuth(username="al", password="s"),
                     id="the-secret-wins"),
        pytest.param("https://bob@host/x.git", GitAuth(), "https://host/x.git",
                     GitAuth(username="bob"), id="username-only"),
        pytest.param("https://host/x.git", GitAuth(), "https://host/x.git", GitAuth(),
                     id="no-userinfo"),
        pytest.param("ssh://git@host/x.git", GitAuth(), "ssh://git@host/x.git", GitAuth(),
                     id="ssh-user-stays"),
    ],
)  # fmt: skip
def test_a_password_in_the_url_moves_to_the_credentials(
    url: str, auth: GitAuth, clean: str, expected: GitAuth
) -> None:
    assert url_without_credentials(url, auth) == (clean, expected)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        pytest.param("https://Host.example/x.git", "https://host.example", id="https"),
        pytest.param("https://host:443/x", "https://host", id="default-port-dropped"),
        pytest.param("http://127.0.0.1:8080/x", "http://127.0.0.1:8080", id="port-kept"),
        pytest.param("http://[::1]:8080/x", "http://[::1]:8080", id="ipv6"),
        pytest.param("ssh://host/x", "", id="not-http"),
    ],
)
def test_an_origin_is_scheme_host_and_port(url: str, expected: str) -> None:
    assert origin(url) == expected


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


@pytest.mark.parametrize(
    ("stderr", "moved"),
    [
        pytest.param(" ! [rejected]        HEAD -> main (fetch first)", True, id="fetch-first"),
        pytest.param(" ! [rejected]        HEAD -> main (non-fast-forward)", True, id="nff"),
        pytest.param(" ! [remote rejected] HEAD -> main (failed to update ref)", True,
                     id="failed-to-update-ref"),
        pytest.param("remote: error: cannot lock ref 'refs/heads/main': is at a but expected b\n"
                     " ! [remote rejected] HEAD -> main (cannot lock ref)", True, id="cannot-lock"),
        pytest.param(" ! [remote rejected] HEAD -> main (pre-receive hook declined)", False,
                     id="hook-declined-is-not-a-race"),
        pytest.param("fatal: unable to access 'x': Could not resolve host", False, id="network"),
    ],
)  # fmt: skip
def test_a_push_refused_because_the_branch_moved_is_told_apart(stderr: str, moved: bool) -> None:
    assert remote_moved(stderr) is moved
