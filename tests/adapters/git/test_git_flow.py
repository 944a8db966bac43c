"""The Flux git flow against real servers: push targets, refspecs, options, retries, no-ops.

Over SSH (real sshd) and smart HTTP (git http-backend), with the real git CLI.
"""

from __future__ import annotations

import os
from datetime import datetime
from itertools import count
from pathlib import Path

import pytest
from git_helpers import FlowCase, Remote, set_image

from servers.git import git
from tagpilot.adapters.git import (
    CheckoutRef,
    CommitSpec,
    GitCommandError,
    PushRejectedError,
    PushSpec,
)
from tagpilot.core.errors import StalledError


def test_push_to_the_checkout_branch_commits_on_top_of_it(any_case: FlowCase) -> None:
    remote = any_case.remote
    result = any_case.run(set_image("1.1.0"))
    assert result.changed
    assert result.pushed_branch == "main"
    assert result.pushed_commit == remote.head("main")
    assert result.source_revision == f"main@sha1:{result.pushed_commit}"
    assert result.checkout_commit == remote.initial
    assert remote.show("main", "deploy.yaml") == "image: app:1.1.0"
    assert remote.log("main", "%an <%ae> %aI %s")[0] == (
        "bot <bot@example.com> 2024-03-17T22:22:34+00:00 bump"
    )


def test_a_second_run_reuses_the_mirror_and_fetches_the_new_commit(ssh_case: FlowCase) -> None:
    ssh_case.run(set_image("1.1.0"))
    other = ssh_case.remote.push_from_other_clone({"README": "hello\n"})
    second = ssh_case.run(set_image("1.2.0"))
    assert second.checkout_commit == other
    assert ssh_case.remote.log("main")[:3] == ["bump", "someone else", "bump"]
    assert len(list((ssh_case.state_dir / "git").glob("*.git"))) == 1


def test_push_to_a_new_push_branch_creates_it_from_the_checkout_head(any_case: FlowCase) -> None:
    remote = any_case.remote
    result = any_case.run(set_image("1.1.0"), push=PushSpec(branch="auto"))
    assert result.pushed_branch == "auto"
    assert remote.head("auto") == result.pushed_commit
    assert remote.head("main") == remote.initial
    assert remote.log("auto", "%H")[1] == remote.initial
    assert result.source_revision == f"main@sha1:{remote.initial}"


def test_an_existing_remote_push_branch_is_continued_not_refreshed(ssh_case: FlowCase) -> None:
    remote = ssh_case.remote
    git("branch", "auto", "main", cwd=remote.path)
    stale = remote.push_from_other_clone({"notes.txt": "on auto only\n"}, branch="auto")
    remote.push_from_other_clone({"README": "main moved\n"}, branch="main")
    result = ssh_case.run(set_image("1.1.0"), push=PushSpec(branch="auto"))
    assert remote.log("auto", "%H")[1] == stale
    assert remote.show("auto", "notes.txt") == "on auto only"
    assert result.pushed_commit == remote.head("auto")


def test_a_refspec_is_pushed_after_the_push_branch(http_case: FlowCase) -> None:
    push = PushSpec(branch="auto", refspec="refs/heads/auto:refs/heads/release")
    result = http_case.run(set_image("1.1.0"), push=push)
    assert result.refspecs == ("refs/heads/auto:refs/heads/release",)
    remote = http_case.remote
    assert remote.head("auto") == remote.head("release") == result.pushed_commit


def test_push_options_reach_the_server(any_case: FlowCase) -> None:
    seen = any_case.remote.path / "push-options.txt"
    hook = any_case.remote.path / "hooks" / "pre-receive"
    hook.write_text(
        "#!/bin/sh\ni=0\nwhile [ $i -lt ${GIT_PUSH_OPTION_COUNT:-0} ]; do\n"
        f'  eval "echo \\$GIT_PUSH_OPTION_$i" >> {seen}\n  i=$((i+1))\ndone\n'
    )
    hook.chmod(0o755)
    push = PushSpec(branch="main", options={"merge_request.create": "", "ci.skip": "true"})
    any_case.run(set_image("1.1.0"), push=push)
    assert seen.read_text().splitlines() == ["ci.skip=true", "merge_request.create"]


def test_a_remote_that_moved_meanwhile_is_retried_on_the_new_head(ssh_case: FlowCase) -> None:
    """Another writer pushes between our fetch and our push; their commit must survive."""
    remote = ssh_case.remote
    calls: list[Path] = []
    others: list[str] = []

    def apply(worktree: Path) -> bool:
        calls.append(worktree)
        if len(calls) == 1:
            others.append(remote.push_from_other_clone({"README": "racing\n"}))
        return set_image("1.1.0")(worktree)

    result = ssh_case.run(apply)
    assert result.attempts == 2
    assert len(calls) == 2
    assert result.checkout_commit == others[0]
    assert remote.log("main", "%H")[:2] == [result.pushed_commit, others[0]]
    assert remote.show("main", "README") == "racing"


_RACING_HOOK = """#!/bin/sh
# Another writer wins the race once: it moves main while this push waits for the ref lock.
[ -e "{flag}" ] && exit 0
touch "{flag}"
unset GIT_QUARANTINE_PATH GIT_OBJECT_DIRECTORY GIT_ALTERNATE_OBJECT_DIRECTORIES
export GIT_DIR="{repo}" GIT_AUTHOR_NAME=other GIT_AUTHOR_EMAIL=o@example.com
export GIT_COMMITTER_NAME=other GIT_COMMITTER_EMAIL=o@example.com
tree=$(git rev-parse "main^{{tree}}")
other=$(echo "someone else" | git commit-tree "$tree" -p main)
git update-ref refs/heads/main "$other"
"""


def test_a_push_the_remote_could_not_lock_because_another_writer_won_is_retried(
    any_case: FlowCase,
) -> None:
    """``[remote rejected] (failed to update ref)``: the branch moved; retry on its new head."""
    remote = any_case.remote
    hook = remote.path / "hooks" / "pre-receive"
    hook.write_text(_RACING_HOOK.format(flag=remote.path / "raced", repo=remote.path))
    hook.chmod(0o755)

    result = any_case.run(set_image("1.1.0"))

    assert result.attempts == 2
    assert remote.log("main")[:2] == ["bump", "someone else"]
    assert remote.show("main", "deploy.yaml") == "image: app:1.1.0"


def test_a_remote_that_keeps_moving_fails_after_the_last_attempt(ssh_case: FlowCase) -> None:
    rounds = count()

    def apply(worktree: Path) -> bool:
        ssh_case.remote.push_from_other_clone({"README": f"racing {next(rounds)}\n"})
        return set_image("1.1.0")(worktree)

    with pytest.raises(PushRejectedError, match="rejected by the remote"):
        ssh_case.run(apply)
    assert ssh_case.remote.log("main")[0] == "someone else"


def test_no_change_means_no_commit_and_no_push(any_case: FlowCase) -> None:
    remote = any_case.remote
    result = any_case.run(set_image("1.0.0"), push=PushSpec(branch="auto"))
    assert not result.changed
    assert result.pushed_commit is None
    assert result.source_revision == f"main@sha1:{remote.initial}"
    assert remote.head("auto") is None
    assert remote.head("main") == remote.initial


def test_an_apply_that_claims_a_change_but_edits_nothing_commits_nothing(
    ssh_case: FlowCase,
) -> None:
    result = ssh_case.run(lambda _: True)
    assert not result.changed
    assert ssh_case.remote.head("main") == ssh_case.remote.initial


@pytest.mark.parametrize(
    ("make_ref", "revision_prefix"),
    [
        pytest.param(lambda r: CheckoutRef(tag="v1.0.0"), "v1.0.0@", id="tag"),
        pytest.param(lambda r: CheckoutRef(semver="1.x"), "v1.0.0@", id="semver-highest-match"),
        pytest.param(lambda r: CheckoutRef(commit=r.initial), "", id="commit"),
        pytest.param(
            lambda r: CheckoutRef(name="refs/tags/v1.0.0"), "refs/tags/v1.0.0@", id="name"
        ),
        pytest.param(
            lambda r: CheckoutRef(branch="nope", tag="v1.0.0"), "v1.0.0@", id="tag-beats-branch"
        ),
        pytest.param(
            lambda r: CheckoutRef(branch="main", commit=r.initial),
            "main@",
            id="commit-beats-branch",
        ),
    ],
)
def test_checkout_by_tag_or_commit_pushes_to_the_push_branch(
    make_ref: object, revision_prefix: str, http_case: FlowCase
) -> None:
    remote: Remote = http_case.remote
    git("tag", "v0.9.0", "main", cwd=remote.path)
    git("tag", "v1.0.0", "main", cwd=remote.path)
    remote.push_from_other_clone({"README": "after the tag\n"})
    git("tag", "v2.0.0", "main", cwd=remote.path)
    ref = make_ref(remote)  # type: ignore[operator]
    result = http_case.run(set_image("1.1.0"), checkout=ref, push=PushSpec(branch="auto"))
    assert result.checkout_commit == remote.initial
    assert remote.log("auto", "%H")[1] == remote.initial
    assert result.source_revision == f"{revision_prefix}sha1:{remote.initial}"


def test_the_message_callable_is_rendered_after_apply(ssh_case: FlowCase) -> None:
    changes: list[str] = []

    def apply(worktree: Path) -> bool:
        changes.append("app:1.0.0 -> app:1.1.0")
        return set_image("1.1.0")(worktree)

    spec = CommitSpec(
        author_name="",
        author_email="bot@example.com",
        message=lambda: "Update\n\n" + "\n".join(changes) + "\n",
        when=datetime(2024, 1, 1),
    )
    ssh_case.run(apply, commit=spec)
    assert git("log", "-1", "--format=%B", "main", cwd=ssh_case.remote.path) == (
        "Update\n\napp:1.0.0 -> app:1.1.0"
    )
    assert ssh_case.remote.log("main", "%an")[0] == "bot@example.com"


def test_a_missing_checkout_branch_is_a_checkout_failure(ssh_case: FlowCase) -> None:
    with pytest.raises(GitCommandError, match="failed to checkout source: branch 'gone'"):
        ssh_case.run(set_image("1.1.0"), checkout=CheckoutRef(branch="gone"))


def test_no_checkout_ref_means_master_not_the_remote_head(ssh_case: FlowCase) -> None:
    with pytest.raises(GitCommandError, match="branch 'master' not found"):
        ssh_case.run(set_image("1.1.0"), checkout=None, push=PushSpec(branch="main"))


def test_leftovers_of_a_failed_run_never_reach_the_next_commit(ssh_case: FlowCase) -> None:
    def crash(worktree: Path) -> bool:
        (worktree / "junk.txt").write_text("half-done\n")
        (worktree / "deploy.yaml").write_text("broken")
        raise RuntimeError("setter crashed")

    with pytest.raises(RuntimeError, match="setter crashed"):
        ssh_case.run(crash)
    result = ssh_case.run(set_image("1.1.0"))
    files = git("ls-tree", "--name-only", "main", cwd=ssh_case.remote.path).splitlines()
    assert files == ["deploy.yaml"]
    assert result.pushed_commit == ssh_case.remote.head("main")


def test_a_worktree_broken_by_a_crash_is_rebuilt(ssh_case: FlowCase) -> None:
    ssh_case.run(set_image("1.1.0"))
    mirror = next((ssh_case.state_dir / "git").glob("*.git"))
    (mirror / "worktrees" / "current" / "index.lock").write_text("")
    result = ssh_case.run(set_image("1.2.0"))
    assert result.pushed_commit == ssh_case.remote.head("main")
    assert ssh_case.remote.show("main", "deploy.yaml") == "image: app:1.2.0"


def test_a_bad_checkout_semver_range_stalls(http_case: FlowCase) -> None:
    with pytest.raises(StalledError, match="invalid checkout semver range"):
        http_case.run(set_image("1.1.0"), checkout=CheckoutRef(semver="not a range"),
                      push=PushSpec(branch="auto"))  # fmt: skip


def test_a_push_larger_than_gits_post_buffer_goes_through_over_http(http_case: FlowCase) -> None:
    """git sends bodies over 1 MiB chunked; the server side must cope (real http-backend)."""

    def apply(worktree: Path) -> bool:
        (worktree / "blob.bin").write_bytes(os.urandom(3 * 1024 * 1024))
        return True

    result = http_case.run(apply)
    size = git("cat-file", "-s", "main:blob.bin", cwd=http_case.remote.path)
    assert (size, result.pushed_commit) == (str(3 * 1024 * 1024), http_case.remote.head("main"))
