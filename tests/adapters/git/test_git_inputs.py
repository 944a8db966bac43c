"""User values that reach git: refs, refspecs and push options are checked before git runs,
and a value that starts with ``-`` is never read as an option."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from git_helpers import MAIN, FlowCase, Remote, set_image

from tagpilot.adapters.git import CheckoutRef, GitAuth, GitCommandError, PushSpec
from tagpilot.adapters.git.env import isolated_env
from tagpilot.adapters.git.mirror import Mirror
from tagpilot.adapters.git.refnames import ref_name_problem, refspec_problem
from tagpilot.adapters.git.runner import GitRunner
from tagpilot.adapters.git.workspace import push, worktree
from tagpilot.core.errors import StalledError


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("main", id="plain"),
        pytest.param("release/v1.2", id="nested"),
        pytest.param("refs/heads/auto-update", id="full"),
        pytest.param("v1.0.0+build.7", id="tag-with-plus"),
    ],
)
def test_ordinary_ref_names_are_accepted(name: str) -> None:
    assert ref_name_problem(name) is None


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        pytest.param("--mirror", "starts with '-'", id="option"),
        pytest.param("", "is empty", id="empty"),
        pytest.param("a b", "contains ' '", id="space"),
        pytest.param("a\nb", r"contains '\n'", id="newline"),
        pytest.param("a..b", "'..'", id="double-dot"),
        pytest.param("a:b", "contains ':'", id="colon"),
        pytest.param("main.lock", "'.lock'", id="lock-suffix"),
        pytest.param("x/.hidden", "starts with '.'", id="dot-part"),
        pytest.param("a@{1}", "'@{'", id="reflog-syntax"),
        pytest.param("main/", "ends with '/'", id="trailing-slash"),
    ],
)
def test_ref_names_git_would_misread_are_refused_with_the_reason(name: str, problem: str) -> None:
    found = ref_name_problem(name)
    assert found is not None and problem in found


@pytest.mark.parametrize(
    ("refspec", "problem"),
    [
        pytest.param("refs/heads/main:refs/heads/auto", None, id="plain"),
        pytest.param("+HEAD:refs/for/main", None, id="forced-gerrit"),
        pytest.param("refs/heads/*:refs/remotes/x/*", None, id="glob"),
        pytest.param("--mirror", "exactly one ':'", id="mirror-option"),
        pytest.param("--force:refs/heads/main", "source '--force' starts with '-'", id="dash-src"),
        pytest.param(":refs/heads/main", "source '' is empty", id="delete"),
        pytest.param("a:b:c", "exactly one ':'", id="two-colons"),
        pytest.param("refs/heads/*:refs/heads/x", "one '*' on each side", id="half-glob"),
    ],
)
def test_a_push_refspec_must_be_src_colon_dst(refspec: str, problem: str | None) -> None:
    found = refspec_problem(refspec)
    assert found == problem if problem is None else (found is not None and problem in found)


@pytest.mark.parametrize(
    ("push", "checkout", "field"),
    [
        pytest.param(PushSpec(refspec="--mirror"), MAIN, "spec.git.push.refspec", id="refspec"),
        pytest.param(PushSpec(branch="-x"), MAIN, "spec.git.push.branch", id="push-branch"),
        pytest.param(PushSpec(options={"ci.skip": "a\nb"}), MAIN,
                     "spec.git.push.options['ci.skip']", id="option-newline"),
        pytest.param(None, CheckoutRef(branch="--upload-pack=x"),
                     "spec.git.checkout.ref.branch", id="checkout-branch"),
        pytest.param(None, CheckoutRef(commit="--upload-pack=touch x"),
                     "spec.git.checkout.ref.commit", id="checkout-commit"),
        pytest.param(None, CheckoutRef(tag="-v1"), "spec.git.checkout.ref.tag", id="tag"),
    ],
)  # fmt: skip
def test_a_bad_user_value_stalls_before_git_runs_naming_the_field(
    push: PushSpec | None, checkout: CheckoutRef, field: str, http_case: FlowCase
) -> None:
    with pytest.raises(StalledError, match=re.escape(f"invalid {field}")):
        http_case.run(set_image("9.9.9"), push=push, checkout=checkout)
    assert not (http_case.state_dir / "git").exists()
    assert http_case.remote.head("main") == http_case.remote.initial


def test_a_refspec_that_looks_like_an_option_reaches_git_as_a_refspec(http_case: FlowCase) -> None:
    """``--`` ends the options even where no check ran: ``--mirror`` is a ref, not a mode."""
    http_case.run(set_image("1.1.0"))
    mirror = Mirror.for_url(http_case.state_dir, http_case.url)
    with isolated_env(http_case.url, http_case.auth) as environment:
        git = GitRunner(environment)
        path = worktree(mirror, git, mirror.resolve(git, "refs/heads/main") or "")
        with pytest.raises(GitCommandError, match="--mirror"):
            push(git, path, http_case.url, ["--mirror"], options={}, force=False)
    assert http_case.remote.log("main")[0] == "bump"


def test_a_fetch_refspec_that_looks_like_an_option_runs_nothing(
    remote: Remote, state_dir: Path, tmp_path: Path
) -> None:
    """A local remote runs ``--upload-pack`` on this machine: it must stay a refspec."""
    planted = tmp_path / "planted"
    url = str(remote.path)
    mirror = Mirror.for_url(state_dir, url)
    with isolated_env(url, GitAuth()) as environment, mirror.locked():
        git = GitRunner(environment)
        mirror.ensure(git)
        with pytest.raises(GitCommandError):
            mirror.fetch(git, f"--upload-pack=touch {planted}")
    assert not planted.exists()
