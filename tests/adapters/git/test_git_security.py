"""Trust and credentials against real servers: host keys, known_hosts, passwords, private CAs.

Every refusal must be a clear tagpilot error that names the fix and carries no secret.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from git_helpers import HTTP_PASSWORD, HTTP_USER, FlowCase, set_image
from redirect_servers import recording_git_server, redirector

from servers.git import GitHttpServer, SshServer, git, host_key_line, make_ssh_key
from servers.pki import Pki
from tagpilot.adapters.git import GitAuth, GitAuthError, GitCommandError, RedirectRefusedError
from tagpilot.adapters.git.mirror import Mirror


def test_a_wrong_host_key_is_refused_and_not_learned(
    ssh_case: FlowCase, sshd: SshServer, tmp_path: Path
) -> None:
    impostor = make_ssh_key(tmp_path, "impostor").with_suffix(".pub")
    auth = replace(ssh_case.auth, known_hosts=host_key_line(sshd.port, impostor))
    with pytest.raises(GitAuthError, match="host key is not in the Secret's known_hosts"):
        ssh_case.run(set_image("9.9.9"), auth=auth)
    assert ssh_case.remote.head("main") == ssh_case.remote.initial


@pytest.mark.parametrize(
    "known_hosts",
    [pytest.param(None, id="missing"), pytest.param(b"\n  \n", id="blank")],
)
def test_no_known_hosts_is_refused_before_connecting(
    known_hosts: bytes | None, ssh_case: FlowCase
) -> None:
    auth = replace(ssh_case.auth, known_hosts=known_hosts)
    with pytest.raises(GitAuthError, match=r"has no known_hosts.*never trusted on first use"):
        ssh_case.run(set_image("9.9.9"), auth=auth)


def test_a_key_the_server_does_not_know_is_an_authentication_error(
    ssh_case: FlowCase, tmp_path: Path
) -> None:
    stranger = make_ssh_key(tmp_path, "stranger").read_bytes()
    auth = replace(ssh_case.auth, identity_pem=stranger)
    with pytest.raises(GitAuthError, match="authentication failed"):
        ssh_case.run(set_image("9.9.9"), auth=auth)


def test_a_wrong_identity_passphrase_is_reported_as_such(
    ssh_case: FlowCase, tmp_path: Path
) -> None:
    locked = tmp_path / "locked"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "right-pass", "-f", str(locked)], check=True
    )
    auth = replace(ssh_case.auth, identity_pem=locked.read_bytes(), identity_passphrase=b"wrong")
    with pytest.raises(GitAuthError, match="cannot decrypt the SSH identity"):
        ssh_case.run(set_image("9.9.9"), auth=auth)


@pytest.mark.parametrize(
    "auth",
    [
        pytest.param(GitAuth(username=HTTP_USER, password="wrong-Pw-42"), id="wrong-password"),
        pytest.param(GitAuth(bearer_token="tok-secret-42"), id="bearer-not-accepted"),
        pytest.param(GitAuth(), id="no-credentials"),
    ],
)
def test_wrong_https_credentials_give_a_clear_error_without_the_secret(
    auth: GitAuth, https_case: FlowCase, pki: Pki
) -> None:
    auth = replace(auth, ca_pem=pki.ca_cert.read_bytes())
    with pytest.raises(GitAuthError, match="authentication failed") as caught:
        https_case.run(set_image("9.9.9"), auth=auth)
    for secret in ("wrong-Pw-42", "tok-secret-42", HTTP_PASSWORD):
        assert secret not in str(caught.value)


def test_https_with_the_secrets_own_ca_works_even_with_an_inherited_ca_variable(
    https_case: FlowCase, pki: Pki, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GIT_SSL_CAINFO", str(pki.other_ca_cert))
    monkeypatch.setenv("SSL_CERT_FILE", str(pki.other_ca_cert))
    auth = replace(https_case.auth, ca_pem=pki.ca_cert.read_bytes())
    https_case.run(set_image("9.9.9"), auth=auth)
    assert https_case.remote.show("main", "deploy.yaml") == "image: app:9.9.9"


def test_https_without_the_ca_fails_certificate_verification(https_case: FlowCase) -> None:
    with pytest.raises(GitCommandError, match="certificate") as caught:
        https_case.run(set_image("9.9.9"))
    assert HTTP_PASSWORD not in str(caught.value)
    assert https_case.remote.head("main") == https_case.remote.initial


@pytest.mark.parametrize(
    ("with_cert", "pushed"),
    [pytest.param(True, True, id="with-client-cert"), pytest.param(False, False, id="without")],
)
def test_a_client_certificate_from_the_secret_is_presented(
    with_cert: bool, pushed: bool, https_case: FlowCase, mtls_server: GitHttpServer, pki: Pki
) -> None:
    auth = GitAuth(ca_pem=pki.ca_cert.read_bytes())
    if with_cert:
        auth = replace(auth, cert_pem=pki.client_cert.read_bytes(),
                       key_pem=pki.client_key.read_bytes())  # fmt: skip
    case = replace(https_case, url=mtls_server.url(https_case.remote.path), auth=auth)
    if pushed:
        case.run(set_image("9.9.9"))
    else:
        with pytest.raises(GitCommandError):
            case.run(set_image("9.9.9"))
    assert (https_case.remote.head("main") != https_case.remote.initial) is pushed


_HOOKS = (
    "post-checkout", "pre-commit", "post-commit", "reference-transaction", "pre-push",
    "post-index-change", "pre-auto-gc", "post-rewrite",
)  # fmt: skip


def _plant_hooks(directory: Path, marks: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name in _HOOKS:
        hook = directory / name
        hook.write_text(f"#!/bin/sh\ntouch {marks}/{name}\n")
        hook.chmod(0o755)


@pytest.mark.parametrize(
    "where",
    [
        pytest.param("mirror-hooks-dir", id="in-the-mirrors-hooks-directory"),
        pytest.param("config-hooks-path", id="named-by-the-mirrors-core-hooksPath"),
    ],
)
def test_hooks_planted_in_the_state_directory_never_run(
    where: str, any_case: FlowCase, tmp_path: Path
) -> None:
    any_case.run(set_image("1.1.0"))
    mirror = Mirror.for_url(any_case.state_dir, any_case.url)
    marks = tmp_path / "marks"
    marks.mkdir()
    if where == "mirror-hooks-dir":
        _plant_hooks(mirror.path / "hooks", marks)
    else:
        _plant_hooks(tmp_path / "planted-hooks", marks)
        git("config", "core.hooksPath", str(tmp_path / "planted-hooks"), cwd=mirror.path)

    any_case.run(set_image("1.2.0"))

    assert any_case.remote.show("main", "deploy.yaml") == "image: app:1.2.0"
    assert sorted(path.name for path in marks.iterdir()) == []


def _with_userinfo(url: str, password: str) -> str:
    return url.replace("http://", f"http://{HTTP_USER}:{password}@", 1)


_BEARER = "tok-Redirect-42"


@pytest.mark.parametrize(
    "other_asks",
    [pytest.param(False, id="other-origin-anonymous"),
     pytest.param(True, id="other-origin-asks-for-credentials")],
)  # fmt: skip
@pytest.mark.parametrize(
    ("auth", "in_url"),
    [
        pytest.param(GitAuth(username=HTTP_USER, password=HTTP_PASSWORD), False,
                     id="password-from-the-secret"),
        pytest.param(GitAuth(), True, id="password-in-the-url"),
        pytest.param(GitAuth(bearer_token=_BEARER), False, id="bearer-token"),
    ],
)  # fmt: skip
def test_credentials_never_follow_a_redirect_to_another_origin(
    auth: GitAuth, in_url: bool, other_asks: bool, http_case: FlowCase, repos_root: Path
) -> None:
    credentials = f"{HTTP_USER}:{HTTP_PASSWORD}" if other_asks else None
    with (
        recording_git_server(str(repos_root), credentials) as other,
        redirector(other.base_url) as front,
    ):
        url = f"{front}/{http_case.remote.path.name}"
        case = replace(http_case, url=_with_userinfo(url, HTTP_PASSWORD) if in_url else url)
        with pytest.raises(RedirectRefusedError) as caught:
            case.run(set_image("9.9.9"), auth=auth)
    message = str(caught.value)
    expected = "answered with a redirect" if auth.bearer_token else "redirected to another origin"
    assert expected in message and "not sent" in message, message
    if not auth.bearer_token:
        assert f"another origin, {other.base_url};" in message
    assert other.authorizations == []
    assert HTTP_PASSWORD not in message and _BEARER not in message
    assert http_case.remote.head("main") == http_case.remote.initial


def test_a_redirect_within_the_same_origin_keeps_working_with_the_password(
    http_case: FlowCase, repos_root: Path
) -> None:
    with recording_git_server(str(repos_root), f"{HTTP_USER}:{HTTP_PASSWORD}") as server:
        url = f"{server.base_url}/moved/{http_case.remote.path.name}"
        replace(http_case, url=url).run(set_image("1.1.0"))
    assert http_case.remote.show("main", "deploy.yaml") == "image: app:1.1.0"
    assert any(request.startswith("GET /moved/") for request in server.requests)


def test_a_password_in_the_url_never_reaches_argv_or_messages(
    http_case: FlowCase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_git, bin_dir, calls = shutil.which("git"), tmp_path / "bin", tmp_path / "argv.log"
    bin_dir.mkdir()
    wrapper = bin_dir / "git"
    wrapper.write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> {calls}\nexec {real_git} "$@"\n')
    wrapper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    case = replace(http_case, url=_with_userinfo(http_case.url, HTTP_PASSWORD), auth=GitAuth())

    case.run(set_image("1.1.0"))
    with pytest.raises(GitAuthError, match="authentication failed") as caught:
        replace(case, url=_with_userinfo(http_case.url, "wrong-Url-Pw-7")).run(set_image("1.2.0"))

    assert http_case.remote.show("main", "deploy.yaml") == "image: app:1.1.0"
    argv = calls.read_text()
    assert "fetch" in argv and "push" in argv
    for secret in (HTTP_PASSWORD, "wrong-Url-Pw-7"):
        assert secret not in argv
        assert secret not in str(caught.value)
