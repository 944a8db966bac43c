"""An automation woken by a policy none of its markers name does no checkout and no setter
pass, and reports what a full run would; anything that could change the pass runs in full.

Real git throughout: a bare repository served over smart HTTP, the git CLI flow and the
file tree editor.  The editor is wrapped only to count the passes it makes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from reconcile_support import FakeClock

from servers.git import GitHttpServer, git, make_bare_repo, run_git_http
from tagpilot.adapters.files import FileTreeEditor
from tagpilot.adapters.git.updater import CliGitUpdater
from tagpilot.adapters.store import SqliteStore
from tagpilot.api.loader import load_text
from tagpilot.api.meta import NamespacedName
from tagpilot.core.setters import SetterTable, TreeResult
from tagpilot.ports import ObjectKey, StoredTags
from tagpilot.reconcile.context import ReconcileContext
from tagpilot.reconcile.image_update import reconcile_image_update
from tagpilot.reconcile.outcome import Outcome

NS = "flux-system"
POLICIES = ("frontend", "backend", "worker")
AUTOMATION = ObjectKey("ImageUpdateAutomation", NS, "apps")


def _deploy(tags: dict[str, str], marked: tuple[str, ...] = ("frontend", "backend")) -> str:
    """A Deployment whose containers carry markers for ``marked``; one marker names a
    policy that does not exist (its hint lists the known policies)."""
    images = {name: f"registry.example.com/{name}:{tags[name]}" for name in marked}
    images["ghost"] = "registry.example.com/ghost:1.0.0"
    lines = (
        f'  {name}: {image} # {{"$imagepolicy": "{NS}:{name}"}}\n' for name, image in images.items()
    )
    return "images:\n" + "".join(lines)


def _objects(url: str) -> str:
    docs = []
    for name in POLICIES:
        docs.append(
            f"apiVersion: image.toolkit.fluxcd.io/v1\nkind: ImageRepository\n"
            f"metadata: {{name: {name}, namespace: {NS}}}\n"
            f"spec: {{image: registry.example.com/{name}, interval: 1m}}\n"
        )
        docs.append(
            f"apiVersion: image.toolkit.fluxcd.io/v1\nkind: ImagePolicy\n"
            f"metadata: {{name: {name}, namespace: {NS}}}\n"
            f"spec:\n  imageRepositoryRef: {{name: {name}}}\n"
            "  policy: {semver: {range: '>=1.0.0'}}\n"
        )
    docs.append(
        f"apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\n"
        f"metadata: {{name: apps, namespace: {NS}}}\n"
        f"spec: {{url: '{url}', interval: 1m, ref: {{branch: main}}}}\n"
    )
    docs.append(
        f"apiVersion: image.toolkit.fluxcd.io/v1\nkind: ImageUpdateAutomation\n"
        f"metadata: {{name: apps, namespace: {NS}}}\n"
        "spec:\n  interval: 1m\n  sourceRef: {kind: GitRepository, name: apps}\n"
        "  git:\n    checkout: {ref: {branch: main}}\n"
        "    commit: {author: {name: bot, email: bot@example.com}}\n    push: {branch: main}\n"
        "  update: {path: ./, strategy: Setters}\n"
    )
    return "---\n".join(docs)


class CountingEditor(FileTreeEditor):
    """The real file tree editor, counting its passes."""

    def __init__(self) -> None:
        self.passes = 0

    def update(
        self, root: Path, path: str, table: SetterTable, *, dry_run: bool = False
    ) -> TreeResult:
        self.passes += 1
        return super().update(root, path, table, dry_run=dry_run)


@dataclass
class Setup:
    """The remote, the state shared by every process, and the objects they load."""

    remote: Path
    url: str
    clock: FakeClock
    store: SqliteStore
    state_dir: Path
    tags: dict[str, str]

    def process(self) -> tuple[ReconcileContext, CountingEditor, Any]:
        """A context as one daemon process builds it (a second call: a restart)."""
        loaded = [o.obj for o in load_text(_objects(self.url), file="apps.yaml").objects]
        named: dict[str, dict[NamespacedName, Any]] = {}
        for obj in loaded:
            named.setdefault(obj.kind, {})[NamespacedName(obj.namespace, obj.name)] = obj
        editor = CountingEditor()
        ctx = ReconcileContext(
            clock=self.clock,
            store=self.store,
            registry=None,  # type: ignore[arg-type]  # nothing is scanned here
            repositories=named["ImageRepository"],
            policies=named["ImagePolicy"],
            git_repositories=named["GitRepository"],
            git=CliGitUpdater(self.state_dir),
            editor=editor,
        )
        (automation,) = named["ImageUpdateAutomation"].values()
        return ctx, editor, automation

    def new_latest(self, policy: str, tag: str) -> None:
        """``policy`` chose ``tag`` (as its reconciler would store it)."""
        self.tags[policy] = tag
        status = {"latestRef": {"name": f"registry.example.com/{policy}", "tag": tag}}
        self.store.put_status(ObjectKey("ImagePolicy", NS, policy), status)

    def scanned(self) -> None:
        """Every repository was scanned now (a process started earlier may trust it)."""
        for policy in POLICIES:
            image = f"registry.example.com/{policy}"
            self.store.put_tags(StoredTags(image, ("1.0.0",), "sha256:x", self.clock.now()))

    def head(self) -> str:
        return git("rev-parse", "refs/heads/main", cwd=self.remote)

    def file_at_head(self) -> str:
        return git("show", "refs/heads/main:deploy.yaml", cwd=self.remote)

    def push_other(self, text: str) -> None:
        """Someone else commits a new ``deploy.yaml`` on main."""
        work = self.remote.with_name(self.remote.name + f".other{self.head()[:8]}")
        git("clone", "--quiet", "--branch", "main", str(self.remote), str(work))
        (work / "deploy.yaml").write_text(text)
        git("commit", "--quiet", "--all", "-m", "someone else", cwd=work)
        git("push", "--quiet", "origin", "HEAD:refs/heads/main", cwd=work)


@pytest.fixture(scope="module")
def http(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GitHttpServer]:
    with run_git_http(tmp_path_factory.mktemp("known-pass-repos")) as server:
        yield server


@pytest.fixture
def setup(http: GitHttpServer, clock: FakeClock, store: SqliteStore, tmp_path: Path) -> Setup:
    tags = dict.fromkeys(POLICIES, "1.0.0")
    remote = http.root / f"{tmp_path.name}.git"
    make_bare_repo(remote, {"deploy.yaml": _deploy(tags)})
    state = Setup(remote, http.url(remote), clock, store, tmp_path / "state", tags)
    for policy in POLICIES:
        state.new_latest(policy, "1.0.0")
    state.scanned()
    return state


async def _run(ctx: ReconcileContext, automation: Any, store: SqliteStore) -> Outcome[Any]:
    """One run, its status stored as the engine stores it."""
    outcome = await reconcile_image_update(automation, ctx)
    store.put_status(AUTOMATION, outcome.document)
    return outcome


async def test_an_unnamed_policy_change_skips_the_checkout_and_reports_what_a_full_run_would(
    setup: Setup,
) -> None:
    ctx, editor, automation = setup.process()
    await _run(ctx, automation, setup.store)
    head = setup.head()
    setup.new_latest("worker", "2.0.0")
    setup.clock.advance(seconds=30)

    skipped = await reconcile_image_update(automation, ctx)
    setup.scanned()  # a new process waits for its own scans
    _, full_editor, _ = fresh = setup.process()
    full = await reconcile_image_update(fresh[2], fresh[0])

    assert (editor.passes, full_editor.passes) == (1, 1)
    assert skipped == full
    assert skipped.status.observed_policies is not None
    assert skipped.status.observed_policies["worker"].tag == "2.0.0"
    assert "marker names 'flux-system:ghost'" in skipped.status.conditions[0].message
    assert setup.head() == head


async def test_a_named_policy_change_still_commits(setup: Setup) -> None:
    ctx, editor, automation = setup.process()
    await _run(ctx, automation, setup.store)
    setup.new_latest("backend", "1.1.0")

    outcome = await _run(ctx, automation, setup.store)

    assert editor.passes == 2
    assert outcome.status.last_push_commit == setup.head()
    assert "registry.example.com/backend:1.1.0" in setup.file_at_head()


async def test_a_new_commit_marking_an_already_changed_policy_is_picked_up(
    setup: Setup,
) -> None:
    ctx, editor, automation = setup.process()
    await _run(ctx, automation, setup.store)
    setup.new_latest("worker", "3.0.0")
    await _run(ctx, automation, setup.store)  # nothing names worker yet: skipped
    setup.push_other(_deploy(setup.tags | {"worker": "1.0.0"}, marked=POLICIES))

    outcome = await _run(ctx, automation, setup.store)

    assert editor.passes == 2
    assert outcome.status.last_push_commit == setup.head()
    assert "registry.example.com/worker:3.0.0" in setup.file_at_head()


async def test_a_restarted_process_remembers_nothing_and_runs_in_full(setup: Setup) -> None:
    ctx, editor, automation = setup.process()
    await _run(ctx, automation, setup.store)
    head = setup.head()
    restarted, restarted_editor, same = setup.process()

    outcome = await _run(restarted, same, setup.store)

    assert (editor.passes, restarted_editor.passes) == (1, 1)
    assert outcome.ready and setup.head() == head


async def test_a_dry_run_always_makes_its_pass(setup: Setup) -> None:
    ctx, editor, automation = setup.process()
    await _run(ctx, automation, setup.store)

    outcome = await reconcile_image_update(automation, ctx, dry_run=True)

    assert editor.passes == 2
    assert outcome.preview is not None and outcome.preview.diffs == {}


async def test_a_latest_image_written_by_another_process_is_seen(
    setup: Setup, tmp_path: Path
) -> None:
    ctx, editor, automation = setup.process()
    await _run(ctx, automation, setup.store)
    await _run(ctx, automation, setup.store)  # up-to-date: remembered, nothing read again
    other = SqliteStore(tmp_path / "state.db")
    status = {"latestRef": {"name": "registry.example.com/frontend", "tag": "1.5.0"}}
    other.put_status(ObjectKey("ImagePolicy", NS, "frontend"), status)
    other.close()

    outcome = await _run(ctx, automation, setup.store)

    assert editor.passes == 2
    assert outcome.status.last_push_commit == setup.head()
    assert "registry.example.com/frontend:1.5.0" in setup.file_at_head()
