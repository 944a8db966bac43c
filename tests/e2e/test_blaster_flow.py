"""The seeds' Blaster flow end to end, with every piece real.

GitLab CI pushes ``dev-YYYYMMDD.N`` tags to a registry behind a deploy-token login; the
cluster repo holds the runbook's ImageRepository, ImagePolicy, ImageUpdateAutomation and
GitRepository (SSH, ``flux-ssh-auth``); the app repo's ``k8s/dev/50-app-deployment.yaml``
carries the marker.  ``tagpilot reconcile --once`` runs as its own process and must push one
commit with the runbook's ``[skip ci]`` message to ``develop`` — and nothing on a rerun.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e_support import (
    DEPLOYMENT,
    FIRST_TAGS,
    TOKEN,
    USER,
    app_repo,
    secret,
    tagpilot,
    write_cluster,
)

from servers.git import SshServer, git, run_sshd
from servers.ocipush import seed
from servers.registry import RunningRegistry, run_registry, write_htpasswd
from tagpilot.adapters.store import SqliteStore
from tagpilot.ports import ObjectKey


def _ssh_cluster(tmp: Path, registry: RunningRegistry, sshd: SshServer, bare: Path) -> Path:
    identity = {"identity": sshd.client_key.decode(), "known_hosts": sshd.known_hosts.decode()}
    return write_cluster(tmp, registry, sshd.url(bare), identity)


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshServer]:
    with run_sshd(tmp_path_factory.mktemp("sshd")) as server:
        yield server


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[RunningRegistry]:
    htpasswd = write_htpasswd(tmp_path / "htpasswd", {USER: TOKEN})
    with run_registry(tmp_path / "registry", htpasswd=htpasswd) as running:
        seed(running.url, "games/blaster", FIRST_TAGS, user=USER, password=TOKEN)
        yield running


def test_a_new_dev_tag_lands_as_one_skip_ci_commit_on_develop(
    tmp_path: Path, registry: RunningRegistry, sshd: SshServer, state_home: Path
) -> None:
    bare = app_repo(tmp_path, registry)
    cluster = _ssh_cluster(tmp_path, registry, sshd, bare)
    before = git("rev-parse", "develop", cwd=bare)

    run = tagpilot("reconcile", str(cluster), "--once", cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr

    image = f"{registry.host}/games/blaster"
    assert git("rev-parse", "develop~1", cwd=bare) == before
    message = git("log", "-1", "--format=%B", "develop", cwd=bare)
    assert message.strip() == (f"{image}:dev-20251115.42 -> {image}:dev-20251115.51\n [skip ci]")
    author = git("log", "-1", "--format=%an <%ae>", "develop", cwd=bare)
    assert author == "FluxCD <andrew@reids.net.au>"
    diff = git("diff", "develop~1", "develop", cwd=bare)
    assert f'-          image: {image}:dev-20251115.42 # {{"$imagepolicy"' in diff
    assert f'+          image: {image}:dev-20251115.51 # {{"$imagepolicy"' in diff
    assert diff.count("\n+") == 2  # the +++ header and the one changed line
    assert "pushed commit" in run.stdout
    # The GitRepository runs after the automation: the same pass stores the pushed commit.
    pushed = git("rev-parse", "develop", cwd=bare)
    assert re.search(
        rf"^✔ GitRepository flux-system/\S+: stored artifact for revision 'develop@sha1:{pushed}'$",
        run.stdout,
        re.MULTILINE,
    ), run.stdout
    assert not (tmp_path / ".tagpilot").exists(), "state stays out of the working directory"
    (history,) = SqliteStore(state_home / "tagpilot/state.db").runs(
        "flux-system", "blaster-dev-automation"
    )
    assert history.commit == git("rev-parse", "develop", cwd=bare)
    assert [(c["old"], c["new"]) for c in history.changes] == [
        (f"{image}:dev-20251115.42", f"{image}:dev-20251115.51")
    ]

    again = tagpilot("reconcile", str(cluster), "--once", cwd=tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr
    assert git("rev-parse", "develop~1", cwd=bare) == before, "a rerun must not commit"


def test_dry_run_shows_the_diff_and_message_and_pushes_nothing(
    tmp_path: Path, registry: RunningRegistry, sshd: SshServer, state_home: Path
) -> None:
    bare = app_repo(tmp_path, registry)
    cluster = _ssh_cluster(tmp_path, registry, sshd, bare)
    before = git("rev-parse", "develop", cwd=bare)

    run = tagpilot("reconcile", str(cluster), "--once", "--dry-run", cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "+          image: " in run.stdout and "dev-20251115.51" in run.stdout
    assert "commit message:" in run.stdout and "[skip ci]" in run.stdout
    assert git("rev-parse", "develop", cwd=bare) == before
    assert not (state_home / "tagpilot").exists(), "a dry run writes no state"
    assert not (tmp_path / ".tagpilot").exists(), "nor git mirrors in the working directory"


def test_a_wrong_host_key_fails_the_run_without_pushing(
    tmp_path: Path, registry: RunningRegistry, sshd: SshServer
) -> None:
    bare = app_repo(tmp_path, registry)
    cluster = _ssh_cluster(tmp_path, registry, sshd, bare)
    manifest = cluster / "flux-system/secrets/flux-ssh-auth.yaml"
    other_key = "AAAAC3NzaC1lZDI1NTE5AAAAIKXV1iQ0qC7y3yqS4bVh2kD9yq0y1yqS4bVh2kD9yq0y"
    wrong = f"[127.0.0.1]:{sshd.port} ssh-ed25519 {other_key}\n"
    manifest.write_text(
        secret("flux-ssh-auth", {"identity": sshd.client_key.decode(), "known_hosts": wrong})
    )
    before = git("rev-parse", "develop", cwd=bare)
    run = tagpilot("reconcile", str(cluster), "--once", cwd=tmp_path)
    assert run.returncode == 1
    assert "✗ ImageUpdateAutomation flux-system/blaster-dev-automation" in run.stdout
    assert "BEGIN OPENSSH PRIVATE KEY" not in run.stdout + run.stderr
    assert git("rev-parse", "develop", cwd=bare) == before


def _push_files(bare: Path, files: dict[str, bytes], links: dict[str, str] | None = None) -> None:
    """Commit ``files`` (and symlinks ``links``: name -> target) on top of ``develop``."""
    work = bare.with_name(bare.name + ".seed")
    for name, data in files.items():
        (work / name).parent.mkdir(parents=True, exist_ok=True)
        (work / name).write_bytes(data)
    for name, target in (links or {}).items():
        (work / name).symlink_to(target)
    git("add", "--all", cwd=work)
    git("commit", "--quiet", "-m", "more manifests", cwd=work)
    git("push", "--quiet", str(bare), "HEAD:refs/heads/develop", cwd=work)


def _state_args(tmp: Path) -> list[str]:
    return ["--state", str(tmp / "state" / "state.db")]


def test_a_one_shot_run_scans_now_even_when_the_last_scan_is_younger_than_the_interval(
    tmp_path: Path, registry: RunningRegistry, sshd: SshServer
) -> None:
    """CI pushes a tag seconds after the last run: the next run must see it (interval 1m)."""
    bare = app_repo(tmp_path, registry)
    cluster = _ssh_cluster(tmp_path, registry, sshd, bare)
    state = _state_args(tmp_path)
    first = tagpilot("reconcile", str(cluster), "--once", *state, cwd=tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    seed(registry.url, "games/blaster", ["dev-20251115.52"], user=USER, password=TOKEN)

    cron = tagpilot(
        "reconcile", str(cluster), "--once", "--respect-intervals", *state, cwd=tmp_path
    )
    assert cron.returncode == 0, cron.stdout + cron.stderr
    assert "not rescanned: its interval has not passed (--respect-intervals)" in cron.stdout
    assert "dev-20251115.52" not in git("show", "develop:" + DEPLOYMENT, cwd=bare)

    second = tagpilot("reconcile", str(cluster), "--once", *state, cwd=tmp_path)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "not rescanned" not in second.stdout
    assert "dev-20251115.52" in git("show", "develop:" + DEPLOYMENT, cwd=bare)


BROKEN_MARKERS = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: blaster-tools
  namespace: blaster-dev
spec:
  template:
    spec:
      containers:
        - name: smart
          image: {image}:dev-20251115.42 # {{{l}$imagepolicy{r}: {l}{policy}{r}}}
        - name: typo
          image: {image}:dev-20251115.42 # {{"$imagepolicy": "flux-system:blaster-dev-polcy"}}
        - name: namespace
          image: {image}:dev-20251115.42 # {{"$imagepolicy": "blaster-dev:blaster-dev-policy"}}
        - name: brace
          image: {image}:dev-20251115.42 # {{"$imagepolicy": "flux-system:blaster-dev-policy"
"""


def test_broken_markers_and_unreadable_files_are_reported_and_fail_the_run(
    tmp_path: Path, registry: RunningRegistry, sshd: SshServer
) -> None:
    bare = app_repo(tmp_path, registry)
    image = f"{registry.host}/games/blaster"
    marker = b'# {"$imagepolicy": "flux-system:blaster-dev-policy"}'
    _push_files(
        bare,
        {
            "k8s/dev/60-tools.yaml": BROKEN_MARKERS.format(
                image=image, l="\u201c", r="\u201d", policy="flux-system:blaster-dev-policy"
            ).encode(),
            "k8s/dev/70-latin1.yaml": b"image: caf\xe9 " + marker + b"\n",
            "k8s/dev/80-broken.yaml": b"a: [unclosed " + marker + b"\n",
            "outside.yaml": b"image: x " + marker + b"\n",
        },
        links={"k8s/dev/90-link.yaml": "../../outside.yaml"},
    )
    cluster = _ssh_cluster(tmp_path, registry, sshd, bare)
    run = tagpilot("reconcile", str(cluster), "--once", *_state_args(tmp_path), cwd=tmp_path)

    assert run.returncode == 1, run.stdout + run.stderr
    warnings = [line.strip() for line in run.stdout.splitlines() if "warning: " in line]
    assert warnings == [
        "warning: k8s/dev/60-tools.yaml:11: typographic quotes (\u201c \u201d) where JSON "
        'needs plain double quotes ("): # {\u201c$imagepolicy\u201d: '
        "\u201cflux-system:blaster-dev-policy\u201d}",
        "warning: k8s/dev/60-tools.yaml:13: marker names 'flux-system:blaster-dev-polcy', "
        "which matches no policy with a latest image; did you mean "
        "'flux-system:blaster-dev-policy'?",
        "warning: k8s/dev/60-tools.yaml:15: marker names 'blaster-dev:blaster-dev-policy', which "
        "matches no policy with a latest image; the policy is known as "
        "'flux-system:blaster-dev-policy': an automation updates only markers of policies in "
        "its own namespace",
        "warning: k8s/dev/60-tools.yaml:17: not valid JSON (Expecting ',' delimiter): "
        '# {"$imagepolicy": "flux-system:blaster-dev-policy"',
        "warning: k8s/dev/70-latin1.yaml: not UTF-8 (byte 10); file left untouched",
        "warning: k8s/dev/80-broken.yaml:2: cannot parse YAML (expected ',' or ']', but got "
        "'<stream end>'); file left untouched",
        "warning: k8s/dev/90-link.yaml: symlink leads outside the update path; not read",
    ]
    assert "pushed commit" in run.stdout, "the good marker is still updated and pushed"
    assert "1 need attention" in run.stdout
    store = SqliteStore(tmp_path / "state" / "state.db")
    key = ObjectKey("ImageUpdateAutomation", "flux-system", "blaster-dev-automation")
    status = store.get_status(key)
    assert status is not None
    ready = next(c for c in status["conditions"] if c["type"] == "Ready")
    assert ready["status"] == "True"
    assert ready["message"].startswith("pushed commit '")
    assert (
        "; 7 problems need attention: k8s/dev/60-tools.yaml:11: typographic quotes"
        in ready["message"]
    )
    (warning,) = [e for e in store.events(key) if e.type == "Warning"]
    assert warning.reason == "NeedsAttention"
    assert warning.message.splitlines()[-1] == (
        "k8s/dev/90-link.yaml: symlink leads outside the update path; not read"
    )


def test_the_runbook_downgrade_is_announced_before_its_commit(
    tmp_path: Path, registry: RunningRegistry, sshd: SshServer
) -> None:
    """dev-20251115.51 -> dev-20251115.9: the runbook's numerical policy reads .9 as more."""
    bare = app_repo(tmp_path, registry)
    cluster = _ssh_cluster(tmp_path, registry, sshd, bare)
    state = _state_args(tmp_path)
    assert tagpilot("reconcile", str(cluster), "--once", *state, cwd=tmp_path).returncode == 0
    seed(registry.url, "games/blaster", ["dev-20251115.9"], user=USER, password=TOKEN)

    run = tagpilot("reconcile", str(cluster), "--once", *state, cwd=tmp_path)
    assert run.returncode == 1, run.stdout + run.stderr
    lines = run.stdout.splitlines()
    policy = next(i for i, line in enumerate(lines) if "ImagePolicy" in line)
    assert lines[policy + 1].startswith("  warning: numerical order reads '20251115.9' and")
    assert "dev-20251115.51 -> dev-20251115.9 looks like a downgrade" in lines[policy + 2]
    automation = next(i for i, line in enumerate(lines) if "ImageUpdateAutomation" in line)
    assert lines[automation + 1].startswith(
        "  warning: k8s/dev/50-app-deployment.yaml: ImagePolicy flux-system/blaster-dev-policy: "
        "dev-20251115.51 -> dev-20251115.9 looks like a downgrade"
    )
    assert lines[automation + 2].startswith("  pushed commit '")


def test_after_a_push_the_ready_message_names_the_commit_and_branch(
    tmp_path: Path, registry: RunningRegistry, sshd: SshServer
) -> None:
    bare = app_repo(tmp_path, registry)
    cluster = _ssh_cluster(tmp_path, registry, sshd, bare)
    state = _state_args(tmp_path)
    run = tagpilot("reconcile", str(cluster), "--once", *state, cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    short = git("rev-parse", "--short=7", "develop", cwd=bare)
    expected = f"pushed commit '{short}' to branch 'develop'"
    assert f"✔ ImageUpdateAutomation flux-system/blaster-dev-automation: {expected}" in run.stdout
    shown = tagpilot("get", "image", "update", *state, "-o", "json", cwd=tmp_path)
    assert expected in shown.stdout, shown.stdout + shown.stderr

    again = tagpilot("reconcile", str(cluster), "--once", *state, cwd=tmp_path)
    assert "blaster-dev-automation: repository up-to-date" in again.stdout

    document = tagpilot("reconcile", str(cluster), "--once", *state, "-o", "json", cwd=tmp_path)
    rows = {row["kind"]: row for row in json.loads(document.stdout)}
    assert rows["ImageUpdateAutomation"]["warnings"] == []
    assert rows["ImagePolicy"]["warnings"] == []


def test_one_shot_failures_name_the_object_once_and_say_what_to_do(
    tmp_path: Path, registry: RunningRegistry, sshd: SshServer
) -> None:
    """No "ImageRepository X: ImageRepository X:", no "retrying in 10s" from a run that exits."""
    bare = app_repo(tmp_path, registry)
    cluster = _ssh_cluster(tmp_path, registry, sshd, bare)
    images = cluster / "blaster/dev/20-blaster-images-dev.yaml"
    images.write_text(
        images.read_text().replace("  interval: 1m\n", "  interval: 1m\n  provider: aws\n", 1)
    )

    run = tagpilot("reconcile", str(cluster), "--once", *_state_args(tmp_path), cwd=tmp_path)
    assert run.returncode == 1, run.stdout + run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].startswith(
        "✗ ImageRepository flux-system/blaster-dev-repo: provider 'aws' needs cloud credentials"
    )
    assert lines[1] == (
        "✗ ImagePolicy flux-system/blaster-dev-policy: no tags in database; fix the object it "
        "depends on (see above) and run again"
    )
    assert "retrying" not in run.stdout
