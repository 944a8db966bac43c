"""The secrets sweep: run the whole flow with known secret values, then find none of them.

One world on loopback: a registry behind a password (its Secret SOPS-encrypted with age),
sshd with a passphrase-protected client key, git smart HTTPS with a password and a private CA,
and a webhook Receiver with a token.  ``reconcile --once`` pushes over SSH, a run with wrong
passwords fails, then ``tagpilot run`` pushes over HTTPS after a webhook.  While each process
runs, the argv of it and all its children is sampled every 10 ms.  Afterwards every log line,
every stored status and event, the raw state file, the temp dir the processes used and the
state dir (except the git mirror's object store) are searched: no secret, and no encoding of
one (base64 Basic credentials, PEM lines), may appear anywhere.

Host verification is on by default: an SSH host key missing from known_hosts, an empty
known_hosts, and an HTTPS server whose CA the Secret does not name are all refused.
"""

from __future__ import annotations

import signal
import time
import traceback
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from git_faults_procs import ArgvSampler, start_tagpilot
from git_faults_support import rescan_every_run
from git_faults_sweep import (
    AUTOMATION_LINE,
    GIT_PASSWORD,
    GIT_USER,
    REGISTRY_PASSWORD,
    REGISTRY_USER,
    SSH_PASSPHRASE,
    WEBHOOK_TOKEN,
    WRONG_PASSWORD,
    World,
    add_receiver,
    basic_credentials,
    encrypted_copy,
    haystacks,
    hits,
    https_values,
    make_age_key,
    pem_lines,
    point_git_at,
    registry_secret,
    ssh_values,
)

from adapters.git.redirect_servers import recording_git_server, redirector
from e2e.e2e_support import DEV, FIRST_TAGS, app_repo, write_cluster
from servers.git import SshServer, free_port, git, run_git_http, run_sshd
from servers.ocipush import seed
from servers.pki import Pki, make_pki
from servers.registry import RunningRegistry, run_registry, write_htpasswd
from tagpilot.adapters.git import run_git_flow
from tagpilot.adapters.git.model import GitAuthError
from tagpilot.ports import CheckoutRef, CommitSpec, GitAuth


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshServer]:
    with run_sshd(tmp_path_factory.mktemp("sshd")) as server:
        yield server


@pytest.fixture
def world(tmp_path: Path, sshd: SshServer) -> Iterator[World]:
    htpasswd = write_htpasswd(tmp_path / "htpasswd", {REGISTRY_USER: REGISTRY_PASSWORD})
    pki = make_pki(tmp_path / "pki")
    repos = tmp_path / "repos"
    repos.mkdir()
    credentials = f"{GIT_USER}:{GIT_PASSWORD}"
    tls = (pki.server_cert, pki.server_key)
    with (
        run_registry(tmp_path / "registry", htpasswd=htpasswd) as registry,
        run_git_http(repos, credentials=credentials, tls=tls) as https,
    ):
        seed(registry.url, "games/blaster", FIRST_TAGS, user=REGISTRY_USER,
             password=REGISTRY_PASSWORD)  # fmt: skip
        yield _build_world(tmp_path, registry, sshd, https.base_url, pki, repos)


def _build_world(
    root: Path, registry: RunningRegistry, sshd: SshServer, https: str, pki: Pki, repos: Path
) -> World:
    bare = app_repo(root, registry, repos)
    cluster = write_cluster(root, registry, sshd.url(bare), {})
    rescan_every_run(root)
    age_key, recipient, age_secret = make_age_key(root)
    encrypted = encrypted_copy(sshd.client_key, root)
    world = World(root, registry, sshd, https, pki, bare, cluster, age_key, encrypted)
    world.temp.mkdir()
    world.secrets = {
        "registry password": REGISTRY_PASSWORD,
        "registry Basic credentials": basic_credentials(REGISTRY_USER, REGISTRY_PASSWORD),
        "git password": GIT_PASSWORD,
        "git Basic credentials": basic_credentials(GIT_USER, GIT_PASSWORD),
        "wrong password": WRONG_PASSWORD,
        "wrong git Basic credentials": basic_credentials(GIT_USER, WRONG_PASSWORD),
        "wrong registry Basic credentials": basic_credentials(REGISTRY_USER, WRONG_PASSWORD),
        "webhook token": WEBHOOK_TOKEN,
        "SSH key passphrase": SSH_PASSPHRASE,
        "age identity": age_secret,
    }
    for index, line in enumerate(pem_lines(sshd.client_key) + pem_lines(encrypted)):
        world.secrets[f"SSH private key, PEM line {index}"] = line
    world.recipient = recipient
    registry_secret(world, REGISTRY_PASSWORD, recipient)
    point_git_at(world, sshd.url(bare), ssh_values(world))
    return world


def _run_sampled(world: World, *args: str, timeout: float = 120) -> tuple[int, str]:
    """Run ``tagpilot args...`` while sampling its family's argv; return (code, output)."""
    log = world.root / f"process-{len(world.outputs)}.log"
    process = start_tagpilot(args, cwd=world.root, log=log, env=world.env())
    with ArgvSampler(process.pid) as sampler:
        code = process.wait(timeout=timeout)
    world.argv += sampler.argv_lines()
    world.outputs.append(log.read_text())
    return code, world.outputs[-1]


def _once(world: World) -> tuple[int, str]:
    return _run_sampled(
        world, "reconcile", str(world.cluster), "--once", "--state", str(world.state),
        "--age-key-file", str(world.age_key),
    )  # fmt: skip


def _wait(predicate: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def _ready(url: str) -> bool:
    try:
        return httpx.get(url + "/readyz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _develop_has(world: World, tag: str) -> bool:
    return tag in git("show", "develop:k8s/dev/50-app-deployment.yaml", cwd=world.bare)


def _daemon_run(world: World, hook: str) -> int:
    """``tagpilot run`` over HTTPS: a webhook with the token makes it push ``.52``."""
    port = free_port()
    url, log = f"http://127.0.0.1:{port}", world.root / "daemon.log"
    process = start_tagpilot(
        ["run", str(world.cluster), "--state", str(world.state), "--age-key-file",
         str(world.age_key), "--http-address", f"127.0.0.1:{port}", "--log-format", "json", "-v"],
        cwd=world.root, log=log, env=world.env(),
    )  # fmt: skip
    try:
        with ArgvSampler(process.pid) as sampler:
            _wait(lambda: _ready(url), 60, "the daemon's readyz")
            seed(world.registry.url, "games/blaster", ["dev-20251115.52"], user=REGISTRY_USER,
                 password=REGISTRY_PASSWORD)  # fmt: skip
            assert httpx.post(url + "/hook/" + "0" * 64, json={}, timeout=5).status_code == 404
            delivered = httpx.post(url + hook, json={"source": "ci"}, timeout=5)
            assert delivered.status_code == 200, delivered.text
            _wait(lambda: _develop_has(world, "dev-20251115.52"), 60, "the webhook's commit")
            process.send_signal(signal.SIGTERM)
            code = process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    world.argv += sampler.argv_lines()
    world.outputs.append(log.read_text())
    return code


def test_the_sweep_itself_finds_a_planted_secret() -> None:
    planted = [("log line 1", b"user=flux password=" + GIT_PASSWORD.encode() + b" done")]
    assert hits({"git password": GIT_PASSWORD}, iter(planted)) == ["git password in log line 1"]


def test_no_secret_shows_in_logs_statuses_events_argv_or_files_after_the_whole_flow(
    world: World,
) -> None:
    code, output = _once(world)
    assert code == 0, output
    assert "pushed commit" in output

    # A wrong git password, then a wrong registry password: an automation whose repository
    # could not be scanned in this run holds back, so each failure gets a run of its own.
    point_git_at(world, f"{world.https_base}/blaster.git", https_values(world, WRONG_PASSWORD))
    code, output = _once(world)
    assert code == 1, output
    assert "authentication failed" in output, output
    registry_secret(world, WRONG_PASSWORD, world.recipient)
    code, output = _once(world)
    assert code == 1, output
    assert "refused the credentials" in output, output
    assert "not updated in this run" in output, output

    images = world.root / DEV / "20-blaster-images-dev.yaml"
    images.write_text(images.read_text().replace("interval: 1s", "interval: 1m"))
    point_git_at(world, f"{world.https_base}/blaster.git", https_values(world, GIT_PASSWORD))
    registry_secret(world, REGISTRY_PASSWORD, world.recipient)
    assert _daemon_run(world, add_receiver(world)) == 0

    assert _develop_has(world, "dev-20251115.52")
    commands = " ".join(world.argv)
    assert "git" in commands and "ssh" in commands and "remote-https" in commands, world.argv
    assert not hits(world.secrets, haystacks(world))


def _flow_error(world: World, url: str, auth: GitAuth) -> BaseException:
    """Run the git flow in this process against ``url``; return what it raised."""
    commit = CommitSpec("FluxCD", "flux@example.com", "never committed", datetime.now(UTC))
    with pytest.raises(GitAuthError) as caught:
        run_git_flow(
            url, state_dir=world.root / "in-process", auth=auth,
            checkout=CheckoutRef(branch="develop"), push_spec=None, commit=commit,
            apply=lambda _: True,
        )  # fmt: skip
    return caught.value


def test_git_exceptions_raised_in_process_carry_no_secret_in_text_repr_or_traceback(
    world: World,
) -> None:
    ca = world.pki.ca_cert.read_bytes()
    wrong_password = GitAuth(username=GIT_USER, password=WRONG_PASSWORD, ca_pem=ca)
    wrong_host = GitAuth(
        identity_pem=world.encrypted_identity,
        identity_passphrase=SSH_PASSPHRASE.encode(),
        known_hosts=b"[127.0.0.1]:1 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKXV1iQ0qC7y3yqS4bVh\n",
    )
    errors = [
        _flow_error(world, f"{world.https_base}/blaster.git", wrong_password),
        _flow_error(world, world.sshd.url(world.bare), wrong_host),
    ]
    assert "authentication failed" in str(errors[0])
    assert "host key" in str(errors[1])
    texts = [
        (f"exception {index}", "".join(traceback.format_exception(error)) + repr(error))
        for index, error in enumerate(errors)
    ]
    assert not hits(world.secrets, ((w, t.encode()) for w, t in texts))


_OTHER_HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKXV1iQ0qC7y3yqS4bVh2kD9yq0y1yqS4bVh2kD9yq0y"


def _known_hosts_for_another_server(world: World) -> str:
    return f"[127.0.0.1]:{world.sshd.port + 1} {world.sshd.known_hosts.decode().split(' ', 1)[1]}"


@pytest.mark.parametrize(
    ("transport", "values", "expected"),
    [
        pytest.param(
            "ssh",
            lambda w: {**ssh_values(w), "known_hosts": _known_hosts_for_another_server(w)},
            "SSH host key is not in the Secret's known_hosts",
            id="ssh-host-key-not-in-known-hosts",
        ),
        pytest.param(
            "ssh",
            lambda w: {
                **ssh_values(w),
                "known_hosts": f"[127.0.0.1]:{w.sshd.port} {_OTHER_HOST_KEY}\n",
            },
            "SSH host key is not in the Secret's known_hosts",
            id="ssh-host-key-changed",
            marks=pytest.mark.slow,
        ),
        pytest.param(
            "ssh",
            lambda w: {**ssh_values(w), "known_hosts": " "},
            "keys are never trusted on first use",
            id="ssh-empty-known-hosts",
        ),
        pytest.param(
            "https",
            lambda w: {"username": GIT_USER, "password": GIT_PASSWORD},
            "certificate",
            id="https-server-ca-not-in-the-secret",
        ),
        pytest.param(
            "https",
            lambda w: {**https_values(w, GIT_PASSWORD), "ca.crt": w.pki.other_ca_cert.read_text()},
            "certificate",
            id="https-server-signed-by-another-ca",
            marks=pytest.mark.slow,
        ),
    ],
)
def test_an_unverifiable_git_server_is_refused_by_default_and_nothing_is_pushed(
    world: World, transport: str, values: Callable[[World], dict[str, str]], expected: str
) -> None:
    url = world.sshd.url(world.bare) if transport == "ssh" else f"{world.https_base}/blaster.git"
    point_git_at(world, url, values(world))
    before = git("rev-parse", "develop", cwd=world.bare)

    code, output = _once(world)

    assert code == 1, output
    assert f"✗ {AUTOMATION_LINE}" in output
    assert expected in output, output
    assert git("rev-parse", "develop", cwd=world.bare) == before
    assert not hits(world.secrets, haystacks(world))


def test_a_redirect_to_another_origin_gets_no_credentials_and_the_run_says_why(
    world: World,
) -> None:
    """The GitRepository's server answers 302 to another host:port that records headers."""
    with (
        recording_git_server(str(world.bare.parent)) as other,
        redirector(other.base_url) as front,
    ):
        point_git_at(world, f"{front}/{world.bare.name}", {"username": GIT_USER,
                                                            "password": GIT_PASSWORD})  # fmt: skip
        before = git("rev-parse", "develop", cwd=world.bare)
        code, output = _once(world)

    assert code == 1, output
    assert f"✗ {AUTOMATION_LINE}" in output
    assert f"redirected to another origin, {other.base_url}" in output, output
    assert "credentials are not sent there" in output, output
    assert other.authorizations == []
    assert git("rev-parse", "develop", cwd=world.bare) == before
    assert not hits(world.secrets, haystacks(world))


def test_a_password_written_into_the_git_url_is_used_but_never_shown(world: World) -> None:
    """``https://user:password@host/...`` works like a Secret's password, and leaks nowhere."""
    url = world.https_base.replace("https://", f"https://{GIT_USER}:{GIT_PASSWORD}@")
    point_git_at(world, f"{url}/blaster.git", {"ca.crt": world.pki.ca_cert.read_text()})

    code, output = _once(world)

    assert code == 0, output
    assert "pushed commit" in output
    commands = " ".join(world.argv)
    assert "remote-https" in commands, world.argv
    assert not hits(world.secrets, haystacks(world))
