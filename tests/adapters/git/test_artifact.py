"""The GitRepository artifact, fetched from real sshd and smart-HTTP servers: every ref form
and its Flux revision string, new and unchanged remotes, Flux's ignore rules, the normalised
archive, and the failures (credentials, a missing branch, a remote that never answers)."""

from __future__ import annotations

import hashlib
import tarfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from git_helpers import HTTP_PASSWORD, HTTP_USER, MAIN, Remote, next_id

from servers.git import GitHttpServer, SshServer, git, make_bare_repo
from tagpilot.adapters.git import GitAuth, GitAuthError, GitCommandError
from tagpilot.adapters.git.artifact import fetch_artifact
from tagpilot.ports import CheckoutRef, GitSourceFetch, SourceArtifact


@dataclass(frozen=True)
class Source:
    """A remote reached over one transport, and a state directory to store artifacts in."""

    url: str
    auth: GitAuth
    remote: Remote
    state_dir: Path

    def fetch(
        self, ref: CheckoutRef | None = MAIN, *, ignore: str | None = None,
        auth: GitAuth | None = None, timeout: float = 30.0,
    ) -> SourceArtifact:  # fmt: skip
        request = GitSourceFetch("apps", "blaster-dev", self.url, auth or self.auth, ref,
                                 ignore=ignore, timeout_seconds=timeout)  # fmt: skip
        return fetch_artifact(request, self.state_dir)

    def commit(self, files: dict[str, str], *, branch: str = "main", tag: str = "",
               annotated: bool = False, executable: tuple[str, ...] = (),
               symlinks: dict[str, str] | None = None) -> str:  # fmt: skip
        """Commit ``files`` on ``branch`` (optionally tagging it) and push; the new SHA."""
        work = self.remote.path.with_name(f"{self.remote.path.name}.work{next_id()}")
        git("clone", "--quiet", "--branch", branch, str(self.remote.path), str(work))
        for name, text in files.items():
            (work / name).parent.mkdir(parents=True, exist_ok=True)
            (work / name).write_text(text)
        for name in executable:
            (work / name).chmod(0o755)
        for name, target in (symlinks or {}).items():
            (work / name).symlink_to(target)
        git("add", "--all", cwd=work)
        git("commit", "--quiet", "-m", "change", cwd=work)
        pushed = [f"HEAD:refs/heads/{branch}"]
        if tag:
            git("tag", *(["-a", "-m", tag] if annotated else []), tag, cwd=work)
            pushed.append(f"refs/tags/{tag}")
        git("push", "--quiet", "origin", *pushed, cwd=work)
        return git("rev-parse", "HEAD", cwd=work)


@pytest.fixture
def http_source(http_server: GitHttpServer, http_auth: GitAuth, remote: Remote,
                state_dir: Path) -> Source:  # fmt: skip
    return Source(http_server.url(remote.path), http_auth, remote, state_dir)


@pytest.fixture
def ssh_source(sshd: SshServer, ssh_auth: GitAuth, remote: Remote, state_dir: Path) -> Source:
    return Source(sshd.url(remote.path), ssh_auth, remote, state_dir)


@pytest.fixture(params=["ssh", "http"])
def source(request: pytest.FixtureRequest) -> Source:
    """The test remote over each transport in turn."""
    found: Source = request.getfixturevalue(f"{request.param}_source")
    return found


def files_in(artifact: SourceArtifact) -> list[str]:
    return sorted(p.relative_to(artifact.tree).as_posix() for p in artifact.tree.rglob("*")
                  if p.is_file())  # fmt: skip


def test_a_branch_is_stored_with_flux_revision_and_its_files(source: Source) -> None:
    artifact = source.fetch(CheckoutRef(branch="main"))

    assert artifact.revision == f"main@sha1:{source.remote.initial}"
    assert artifact.commit == source.remote.initial
    assert (artifact.tree / "deploy.yaml").read_text() == "image: app:1.0.0\n"
    assert artifact.path == f"gitrepository/apps/blaster-dev/{source.remote.initial}.tar.gz"
    assert artifact.created


@pytest.mark.parametrize(
    ("ref", "revision"),
    [
        pytest.param(CheckoutRef(branch="feature/x"), "feature/x@sha1:{feature}", id="branch"),
        pytest.param(CheckoutRef(tag="v1.2.0"), "v1.2.0@sha1:{v120}", id="annotated-tag-peeled"),
        pytest.param(CheckoutRef(tag="v1.0.0"), "v1.0.0@sha1:{v100}", id="lightweight-tag"),
        pytest.param(CheckoutRef(semver=">=1.0.0 <2.0.0"), "v1.2.0@sha1:{v120}", id="semver"),
        pytest.param(CheckoutRef(semver="~1.0", tag="v1.2.0"), "v1.0.0@sha1:{v100}",
                     id="semver-beats-tag"),
        pytest.param(CheckoutRef(name="refs/pull/7/head"), "refs/pull/7/head@sha1:{pull}",
                     id="name-keeps-the-full-ref"),
        pytest.param(CheckoutRef(commit="{v100}"), "sha1:{v100}", id="commit-only"),
        pytest.param(CheckoutRef(branch="main", commit="{v100}"), "main@sha1:{v100}",
                     id="branch-and-commit"),
        pytest.param(CheckoutRef(name="refs/pull/7/head", tag="v1.0.0"),
                     "refs/pull/7/head@sha1:{pull}", id="name-beats-tag"),
        pytest.param(None, "master@sha1:{master}", id="no-ref-means-master"),
    ],
)  # fmt: skip
def test_every_ref_form_gets_flux_revision_string(
    http_source: Source, ref: CheckoutRef | None, revision: str
) -> None:
    shas = {
        "v100": http_source.commit({"a.txt": "1.0.0"}, tag="v1.0.0"),
        "v120": http_source.commit({"a.txt": "1.2.0"}, tag="v1.2.0", annotated=True),
    }
    http_source.commit({"a.txt": "2.0.0"}, tag="v2.0.0")
    git("branch", "feature/x", "main", cwd=http_source.remote.path)
    git("branch", "master", "main", cwd=http_source.remote.path)
    git("update-ref", "refs/pull/7/head", shas["v100"] + "~1", cwd=http_source.remote.path)
    shas["feature"] = shas["master"] = http_source.remote.head("main") or ""
    shas["pull"] = http_source.remote.initial
    if ref is not None:
        ref = CheckoutRef(**{k: v.format(**shas) for k, v in vars(ref).items()})

    artifact = http_source.fetch(ref)

    assert artifact.revision == revision.format(**shas)
    assert artifact.commit == revision.format(**shas).rpartition(":")[2]


def test_a_new_commit_gives_a_new_revision_and_artifact(source: Source) -> None:
    first = source.fetch()
    sha = source.commit({"deploy.yaml": "image: app:1.1.0\n"})

    second = source.fetch()

    assert second.revision == f"main@sha1:{sha}" != first.revision
    assert second.created and second.digest != first.digest
    assert (second.tree / "deploy.yaml").read_text() == "image: app:1.1.0\n"


def test_an_unchanged_remote_stores_no_new_artifact(http_source: Source) -> None:
    first = http_source.fetch()
    marker = first.tree.stat().st_mtime_ns

    again = http_source.fetch()

    assert not again.created
    assert (again.revision, again.digest, again.size, again.tree) == (
        first.revision, first.digest, first.size, first.tree)  # fmt: skip
    assert again.tree.stat().st_mtime_ns == marker


def test_only_the_newest_two_artifacts_are_kept(http_source: Source) -> None:
    oldest = http_source.fetch()
    for version in ("1.1.0", "1.2.0"):
        http_source.commit({"deploy.yaml": f"image: app:{version}\n"})
        newest = http_source.fetch()

    kept = sorted(p.name.split("-")[0] for p in oldest.tree.parent.parent.iterdir())
    assert len(kept) == 2
    assert oldest.commit not in kept and newest.commit in kept


_TREE = {
    "deploy.yaml": "a",
    "logo.png": "png",
    ".github/workflows/ci.yaml": "ci",
    ".gitlab-ci.yml": "ci",
    ".gitignore": "*.log",
    "k8s/.sops.yaml": "creation_rules: []",
    "k8s/dev/app.yaml": "b",
    "k8s/dev/notes.md": "c",
    "docs/guide.md": "d",
}


@pytest.mark.parametrize(
    ("extra", "ignore", "kept"),
    [
        pytest.param({}, None, ["deploy.yaml", "docs/guide.md", "k8s/dev/app.yaml",
                                "k8s/dev/notes.md"], id="built-in-defaults"),
        pytest.param({}, "docs/\n", [".github/workflows/ci.yaml", ".gitlab-ci.yml",
                                     "deploy.yaml", "k8s/.sops.yaml", "k8s/dev/app.yaml",
                                     "k8s/dev/notes.md", "logo.png"],
                     id="spec-ignore-replaces-all-but-vcs-defaults"),
        pytest.param({".sourceignore": "/*\n!/k8s/\n"}, None,
                     ["k8s/.sops.yaml", "k8s/dev/app.yaml", "k8s/dev/notes.md"],
                     id="sourceignore-with-negation"),
        pytest.param({"k8s/dev/.sourceignore": "*.md\n"}, "/docs/\n/*.png\n",
                     [".github/workflows/ci.yaml", ".gitlab-ci.yml", "deploy.yaml",
                      "k8s/.sops.yaml", "k8s/dev/.sourceignore", "k8s/dev/app.yaml"],
                     id="nested-sourceignore-is-relative-to-its-directory"),
        pytest.param({".sourceignore": "*.md\n"}, "!docs/guide.md\n",
                     [".github/workflows/ci.yaml", ".gitlab-ci.yml", ".sourceignore",
                      "deploy.yaml", "docs/guide.md", "k8s/.sops.yaml", "k8s/dev/app.yaml",
                      "logo.png"], id="spec-ignore-comes-last-and-wins"),
    ],
)  # fmt: skip
def test_flux_ignore_rules_decide_what_the_artifact_holds(
    http_source: Source, extra: dict[str, str], ignore: str | None, kept: list[str]
) -> None:
    path = http_source.remote.path.with_name(f"tree{next_id()}.git")
    initial = make_bare_repo(path, {**_TREE, **extra})
    url = http_source.url.replace(http_source.remote.path.name, path.name)
    tree = Source(url, http_source.auth, Remote(path, initial), http_source.state_dir)

    artifact = tree.fetch(ignore=ignore)

    assert files_in(artifact) == kept


def test_a_changed_spec_ignore_stores_a_new_artifact_for_the_same_commit(
    http_source: Source,
) -> None:
    http_source.commit({"extra.md": "x"})
    everything = http_source.fetch()

    fewer = http_source.fetch(ignore="*.md\n")

    assert fewer.created and fewer.commit == everything.commit
    assert "extra.md" in files_in(everything) and "extra.md" not in files_in(fewer)


def test_the_archive_is_normalised_and_its_digest_is_the_sha256_of_the_file(
    http_source: Source,
) -> None:
    http_source.commit({"run.sh": "#!/bin/sh\n", "k8s/app.yaml": "x", ".gitattributes":
                        "k8s/** export-ignore\n"}, executable=("run.sh",),
                       symlinks={"link.yaml": "/etc/passwd"})  # fmt: skip

    artifact = http_source.fetch()

    tarball = Path(artifact.url.removeprefix("file://"))
    assert artifact.digest == "sha256:" + hashlib.sha256(tarball.read_bytes()).hexdigest()
    assert artifact.size == tarball.stat().st_size
    with tarfile.open(tarball) as archive:
        entries = {m.name: m for m in archive.getmembers()}
    assert sorted(entries) == ["deploy.yaml", "k8s", "k8s/app.yaml", "run.sh"]
    assert {(m.name, m.mode) for m in entries.values()} == {
        ("deploy.yaml", 0o600),
        ("k8s", 0o750),
        ("k8s/app.yaml", 0o600),
        ("run.sh", 0o700),
    }
    assert {(m.mtime, m.uid, m.gid, m.uname, m.gname) for m in entries.values()} == {
        (0, 0, 0, "", "")}  # fmt: skip
    assert not (artifact.tree / "link.yaml").exists()


def test_the_same_tree_in_another_state_directory_has_the_same_digest(
    http_source: Source, tmp_path: Path
) -> None:
    here = http_source.fetch()
    elsewhere = Source(http_source.url, http_source.auth, http_source.remote, tmp_path / "b")

    assert elsewhere.fetch().digest == here.digest


def test_a_missing_branch_fails_with_flux_message(http_source: Source) -> None:
    with pytest.raises(GitCommandError) as caught:
        http_source.fetch(CheckoutRef(branch="nope"))

    assert caught.value.message == (
        f"unable to clone '{http_source.url}': couldn't find remote ref \"refs/heads/nope\""
    )
    assert caught.value.reason == "GitOperationFailed"


def test_a_commit_must_be_on_the_branch_given_with_it(http_source: Source) -> None:
    elsewhere = http_source.commit({"a.txt": "side"}, branch="main")
    git("branch", "release", http_source.remote.initial, cwd=http_source.remote.path)

    with pytest.raises(GitCommandError, match=f"commit '{elsewhere}' is not on branch 'release'"):
        http_source.fetch(CheckoutRef(branch="release", commit=elsewhere))


def test_a_missing_tag_fails_with_flux_message(http_source: Source) -> None:
    with pytest.raises(GitCommandError, match=r'couldn\'t find remote ref "refs/tags/v9"'):
        http_source.fetch(CheckoutRef(tag="v9"))


def test_wrong_credentials_fail_without_showing_them(http_source: Source) -> None:
    wrong = GitAuth(username=HTTP_USER, password="wrong-pw-never-shown")

    with pytest.raises(GitAuthError) as caught:
        http_source.fetch(auth=wrong)

    assert "authentication failed" in caught.value.message
    assert "wrong-pw-never-shown" not in caught.value.message
    assert HTTP_PASSWORD not in caught.value.message


def test_an_unknown_ssh_host_key_is_refused(ssh_source: Source) -> None:
    other = GitAuth(
        identity_pem=ssh_source.auth.identity_pem,
        known_hosts=b"[127.0.0.1]:1 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHh4\n",
    )

    with pytest.raises(GitAuthError, match="known_hosts"):
        ssh_source.fetch(auth=other)


def test_a_remote_that_never_answers_fails_after_the_timeout(
    silent_remote: str, remote: Remote, state_dir: Path
) -> None:
    source = Source(silent_remote, GitAuth(), remote, state_dir)

    with pytest.raises(GitCommandError, match=r"git fetch timed out after 1s"):
        source.fetch(timeout=1)
