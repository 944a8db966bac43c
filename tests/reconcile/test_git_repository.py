"""The GitRepository reconciler against a real smart-HTTP git server: the status ``flux get
sources git`` reads (artifact, Ready and ArtifactInStorage), what an unchanged or moved remote
does to it, and Flux's reasons and messages when the fetch fails."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from reconcile_support import FakeClock

from servers.git import GitHttpServer, git, make_bare_repo, run_git_http
from tagpilot.adapters.git.artifact import CliGitSource
from tagpilot.adapters.manifests import load_manifests
from tagpilot.adapters.registry.pool import RegistryPool
from tagpilot.adapters.store import SqliteStore
from tagpilot.api.meta import Condition, NamespacedName
from tagpilot.api.source import GitRepository, GitRepositoryStatus
from tagpilot.ports import ObjectKey
from tagpilot.reconcile.context import ReconcileContext
from tagpilot.reconcile.git_repository import reconcile_git_repository
from tagpilot.reconcile.outcome import Outcome

USER, PASSWORD = "flux", "gitpw-Rk3-never-shown"


@pytest.fixture(scope="module")
def repos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("repos")


@pytest.fixture(scope="module")
def server(repos: Path) -> Iterator[GitHttpServer]:
    """Smart HTTP with Basic auth, serving every repository under ``repos``."""
    with run_git_http(repos, credentials=f"{USER}:{PASSWORD}") as running:
        yield running


@pytest.fixture
def remote(repos: Path, tmp_path: Path) -> Path:
    """A fresh app repository with ``k8s/dev/app.yaml`` on ``develop``."""
    path = repos / f"{tmp_path.name}.git"
    make_bare_repo(path, {"k8s/dev/app.yaml": "image: app:1\n"}, branch="develop")
    return path


@pytest.fixture
async def ctx(
    tmp_path: Path, clock: FakeClock, store: SqliteStore
) -> AsyncIterator[ReconcileContext]:
    pool = RegistryPool()
    yield ReconcileContext(
        clock=clock, store=store, registry=pool, git_source=CliGitSource(tmp_path / "state")
    )
    await pool.aclose()


def manifests(tmp_path: Path, url: str, spec: str, password: str | None = PASSWORD) -> Path:
    """A GitRepository ``apps/blaster-dev`` with ``spec`` lines, and its Secret if a password."""
    secret = (
        "---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: git-auth\n  namespace: apps\n"
        f"stringData:\n  username: {USER}\n  password: {password}\n"
    )
    path = tmp_path / "cluster.yaml"
    path.write_text(
        "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\n"
        "metadata:\n  name: blaster-dev\n  namespace: apps\n"
        f"spec:\n  url: {url}\n  interval: 1m\n  secretRef:\n    name: git-auth\n{spec}"
        + (secret if password is not None else "")
    )
    return path


async def reconcile(
    ctx: ReconcileContext, path: Path, *, generation: int = 1
) -> Outcome[GitRepositoryStatus]:
    loaded = load_manifests([path])
    ctx.secrets = loaded.secrets
    (source,) = [item.obj for item in loaded.objects if isinstance(item.obj, GitRepository)]
    ctx.git_repositories = {NamespacedName("apps", "blaster-dev"): source}
    outcome = await reconcile_git_repository(source, ctx, generation=generation)
    ctx.store.put_status(ObjectKey("GitRepository", "apps", "blaster-dev"), outcome.document)
    return outcome


def conditions(outcome: Outcome[GitRepositoryStatus]) -> dict[str, Condition]:
    return {c.type: c for c in outcome.status.conditions or ()}


def push(remote: Path, files: dict[str, str], branch: str = "develop") -> str:
    work = remote.with_name(f"{remote.name}.work")
    if not work.exists():
        git("clone", "--quiet", "--branch", branch, str(remote), str(work))
    git("pull", "--quiet", cwd=work)
    for name, text in files.items():
        (work / name).write_text(text)
    git("add", "--all", cwd=work)
    git("commit", "--quiet", "-m", "change", cwd=work)
    git("push", "--quiet", "origin", f"HEAD:refs/heads/{branch}", cwd=work)
    return git("rev-parse", "HEAD", cwd=work)


async def test_a_branch_is_ready_with_flux_artifact_and_message(
    ctx: ReconcileContext, server: GitHttpServer, remote: Path, tmp_path: Path
) -> None:
    head = git("rev-parse", "develop", cwd=remote)
    path = manifests(tmp_path, server.url(remote), "  ref:\n    branch: develop\n")

    outcome = await reconcile(ctx, path, generation=3)

    revision = f"develop@sha1:{head}"
    message = f"stored artifact for revision '{revision}'"
    found = conditions(outcome)
    assert (found["Ready"].status, found["Ready"].reason, found["Ready"].message) == (
        "True", "Succeeded", message)  # fmt: skip
    assert (found["ArtifactInStorage"].status, found["ArtifactInStorage"].message) == (
        "True", message)  # fmt: skip
    assert "Stalled" not in found and "Reconciling" not in found
    assert [c.observed_generation for c in found.values()] == [3, 3]
    artifact = outcome.status.artifact
    assert artifact is not None
    assert artifact.revision == revision
    assert artifact.path == f"gitrepository/apps/blaster-dev/{head}.tar.gz"
    assert artifact.digest is not None and artifact.digest.startswith("sha256:")
    assert artifact.last_update_time == "2026-11-21T12:00:00Z"
    assert [(e.type, e.reason, e.message) for e in outcome.events] == [
        ("Normal", "NewArtifact", message)]  # fmt: skip
    assert outcome.requeue_after is not None and outcome.requeue_after.total_seconds() == 60


async def test_an_unchanged_remote_keeps_the_artifact_and_its_time(
    ctx: ReconcileContext, clock: FakeClock, server: GitHttpServer, remote: Path, tmp_path: Path
) -> None:
    path = manifests(tmp_path, server.url(remote), "  ref:\n    branch: develop\n")
    first = await reconcile(ctx, path)
    clock.advance(minutes=5)

    again = await reconcile(ctx, path)

    assert again.status.artifact == first.status.artifact
    revision = first.status.artifact.revision if first.status.artifact else ""
    assert [(e.type, e.message) for e in again.events] == [
        ("Trace", f"artifact up-to-date with remote revision: '{revision}'")]  # fmt: skip
    assert conditions(again)["Ready"].last_transition_time == "2026-11-21T12:00:00Z"


async def test_a_new_commit_gives_a_new_revision_and_update_time(
    ctx: ReconcileContext, clock: FakeClock, server: GitHttpServer, remote: Path, tmp_path: Path
) -> None:
    path = manifests(tmp_path, server.url(remote), "  ref:\n    branch: develop\n")
    await reconcile(ctx, path)
    sha = push(remote, {"k8s/dev/app.yaml": "image: app:2\n"})
    clock.advance(minutes=1)

    moved = await reconcile(ctx, path)

    assert moved.status.artifact is not None
    assert moved.status.artifact.revision == f"develop@sha1:{sha}"
    assert moved.status.artifact.last_update_time == "2026-11-21T12:01:00Z"
    assert [e.reason for e in moved.events] == ["NewArtifact"]


async def test_spec_ignore_is_applied_and_observed(
    ctx: ReconcileContext, server: GitHttpServer, remote: Path, tmp_path: Path
) -> None:
    spec = "  ref:\n    branch: develop\n  ignore: |\n    /*\n    !/k8s/\n"
    push(remote, {"README.md": "docs\n"})

    outcome = await reconcile(ctx, manifests(tmp_path, server.url(remote), spec))

    assert outcome.status.observed_ignore == "/*\n!/k8s/\n"
    tree = tmp_path / "state/artifacts/gitrepository/apps/blaster-dev"
    (stored,) = tree.iterdir()
    assert sorted(p.name for p in (stored / "tree").iterdir()) == ["k8s"]


async def test_a_missing_branch_fails_with_flux_reason_and_keeps_the_stored_artifact(
    ctx: ReconcileContext, server: GitHttpServer, remote: Path, tmp_path: Path
) -> None:
    url = server.url(remote)
    good = await reconcile(ctx, manifests(tmp_path, url, "  ref:\n    branch: develop\n"))

    failed = await reconcile(ctx, manifests(tmp_path, url, "  ref:\n    branch: nope\n"))

    message = (
        f"failed to checkout and determine revision: unable to clone '{url}': "
        'couldn\'t find remote ref "refs/heads/nope"'
    )
    found = conditions(failed)
    assert (found["Ready"].status, found["Ready"].reason, found["Ready"].message) == (
        "False", "GitOperationFailed", message)  # fmt: skip
    assert (found["FetchFailed"].status, found["FetchFailed"].reason) == (
        "True", "GitOperationFailed")  # fmt: skip
    assert found["Reconciling"].reason == "ProgressingWithRetry"
    assert found["ArtifactInStorage"].status == "True"
    assert failed.status.artifact == good.status.artifact
    assert [(e.type, e.reason) for e in failed.events] == [("Warning", "GitOperationFailed")]


async def test_a_missing_secret_is_authentication_failed(
    ctx: ReconcileContext, server: GitHttpServer, remote: Path, tmp_path: Path
) -> None:
    path = manifests(tmp_path, server.url(remote), "", password=None)

    outcome = await reconcile(ctx, path)

    ready = conditions(outcome)["Ready"]
    assert (ready.status, ready.reason) == ("False", "AuthenticationFailed")
    assert "git-auth" in ready.message
    assert conditions(outcome)["FetchFailed"].reason == "AuthenticationFailed"


async def test_a_wrong_password_fails_the_fetch_without_showing_it(
    ctx: ReconcileContext, server: GitHttpServer, remote: Path, tmp_path: Path
) -> None:
    path = manifests(tmp_path, server.url(remote), "", password="wrong-pw-never-shown")

    outcome = await reconcile(ctx, path)

    ready = conditions(outcome)["Ready"]
    assert (ready.status, ready.reason) == ("False", "GitOperationFailed")
    assert ready.message.startswith("failed to checkout and determine revision: ")
    assert "authentication failed" in ready.message
    assert "wrong-pw-never-shown" not in str(outcome.document)


async def test_a_remote_that_never_answers_fails_after_spec_timeout(
    ctx: ReconcileContext, silent_remote: str, tmp_path: Path
) -> None:
    path = manifests(tmp_path, silent_remote, "  timeout: 1s\n", password=None)
    path.write_text(path.read_text().replace("  secretRef:\n    name: git-auth\n", ""))

    outcome = await reconcile(ctx, path)

    ready = conditions(outcome)["Ready"]
    assert (ready.status, ready.reason) == ("False", "GitOperationFailed")
    assert "git fetch timed out after 1s" in ready.message
