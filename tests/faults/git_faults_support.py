"""Builders and checks shared by the git fault, kill -9 and secrets-sweep tests.

A :class:`Scene` is the runbook's Blaster setup on loopback: a registry behind a deploy-token
login, the app repository (``develop``) with its marked Deployment on a real git server, and
the cluster directory pointing at both.  :func:`reconcile_once` runs ``tagpilot reconcile
--once`` as its own process; :func:`assert_history_sound` is the "nothing corrupt" check every
fault test ends with: each commit tagpilot put on ``develop`` parses and changes exactly one
marked line, and no tag was committed twice.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from ruamel.yaml import YAML

from e2e.e2e_support import DEPLOYMENT, DEV, TOKEN, USER, app_repo, tagpilot_env, write_cluster
from servers.git import SshServer, git
from servers.ocipush import seed
from servers.registry import RunningRegistry

__all__ = [
    "AUTHOR",
    "IMAGE_REPO",
    "Scene",
    "assert_history_sound",
    "committed_tags",
    "deployed_tag",
    "push_tag",
    "reconcile_once",
    "rescan_every_run",
    "ssh_scene",
    "tag_name",
    "tagpilot_commits",
]

IMAGE_REPO = "games/blaster"
AUTHOR = "FluxCD <andrew@reids.net.au>"
_MARKER = '# {"$imagepolicy": "flux-system:blaster-dev-policy"}'


@dataclass(frozen=True)
class Scene:
    """One Blaster setup: the work dir, registry, bare app repo, cluster dir and state dir."""

    root: Path
    registry: RunningRegistry
    bare: Path
    cluster: Path
    state_dir: Path

    @property
    def state(self) -> Path:
        """The state file tagpilot keeps (its git mirror lives next to it)."""
        return self.state_dir / "state.db"

    @property
    def temp(self) -> Path:
        """The TMPDIR of tagpilot's processes, so what they leave behind can be found."""
        self.root.joinpath("process-tmp").mkdir(exist_ok=True)
        return self.root / "process-tmp"

    def env(self) -> dict[str, str]:
        """The environment of a tagpilot process in this scene."""
        return {**tagpilot_env(), "TMPDIR": str(self.temp)}

    def private_dirs(self) -> list[Path]:
        """The git adapter's private directories (keys, known_hosts) left in :attr:`temp`."""
        return sorted(self.temp.glob("tagpilot-git-*"))


def ssh_scene(
    root: Path, registry: RunningRegistry, sshd: SshServer, *, state_dir: Path | None = None
) -> Scene:
    """The app repo under ``root`` served by ``sshd`` (key + known_hosts in the Secret);
    tagpilot's state in ``state_dir`` (default ``root/state``)."""
    bare = app_repo(root, registry)
    identity = {"identity": sshd.client_key.decode(), "known_hosts": sshd.known_hosts.decode()}
    cluster = write_cluster(root, registry, sshd.url(bare), identity)
    rescan_every_run(root)
    return Scene(root, registry, bare, cluster, state_dir or root / "state")


def rescan_every_run(root: Path) -> None:
    """Give the ImageRepository a 1s interval, so each ``--once`` run lists the tags anew."""
    images = root / DEV / "20-blaster-images-dev.yaml"
    text = images.read_text()
    assert text.count("interval: 1m") == 1
    images.write_text(text.replace("interval: 1m", "interval: 1s"))


def tag_name(number: int) -> str:
    """The ``number``-th Blaster tag: ``dev-20251115.N`` up to 99, then one build a day.

    The policy is numerical over ``YYYYMMDD.N`` read as a number, so ``.100`` would sort
    below ``.51``; later days keep the order right.
    """
    if number < 100:
        return f"dev-20251115.{number}"
    return f"dev-{20251116 + number}.1"


def push_tag(scene: Scene, number: int) -> str:
    """Push the ``number``-th tag (see :func:`tag_name`) to the registry; return it."""
    tag = tag_name(number)
    seed(scene.registry.url, IMAGE_REPO, [tag], user=USER, password=TOKEN)
    return tag


def reconcile_once(scene: Scene, *, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run ``tagpilot reconcile CLUSTER --once --state STATE`` to completion."""
    return subprocess.run(
        [sys.executable, "-m", "tagpilot", "reconcile", str(scene.cluster), "--once",
         "--state", str(scene.state)],
        cwd=scene.root, env=scene.env(), capture_output=True, text=True,
        timeout=timeout, check=False,
    )  # fmt: skip


def deployed_tag(scene: Scene, revision: str = "develop") -> str:
    """The image tag the marked line of the Deployment names at ``revision``."""
    return _marked_tag(git("show", f"{revision}:{DEPLOYMENT}", cwd=scene.bare))


def tagpilot_commits(scene: Scene) -> list[str]:
    """The commits tagpilot (author ``FluxCD``) put on develop, oldest first."""
    revisions = git(
        "rev-list", "--reverse", f"--author={AUTHOR}", "develop", cwd=scene.bare
    )  # fmt: skip
    return revisions.split()


def committed_tags(scene: Scene) -> list[str]:
    """The tag each of tagpilot's commits on develop set, oldest first."""
    return [deployed_tag(scene, sha) for sha in tagpilot_commits(scene)]


def assert_history_sound(scene: Scene, verified: dict[str, str] | None = None) -> None:
    """Every commit tagpilot pushed parses, changes one marked line only, and sets a new tag.

    ``verified`` (commit -> tag) carries commits already checked from one call to the next,
    so a loop that checks after every step re-reads only what is new.
    """
    verified = {} if verified is None else verified
    commits = tagpilot_commits(scene)
    for sha in commits:
        if sha not in verified:
            verified[sha] = _verified_tag(scene, sha)
    tags = [verified[sha] for sha in commits]
    assert len(tags) == len(set(tags)), f"a tag was committed twice: {tags}"


def _verified_tag(scene: Scene, sha: str) -> str:
    text = git("show", f"{sha}:{DEPLOYMENT}", cwd=scene.bare)
    assert list(YAML(typ="safe").load_all(text)), f"commit {sha}: {DEPLOYMENT} is empty"
    diff = git("diff", "--unified=0", f"{sha}~1", sha, cwd=scene.bare)
    removed = [ln for ln in diff.splitlines() if ln.startswith("-") and _MARKER in ln]
    added = [ln for ln in diff.splitlines() if ln.startswith("+") and _MARKER in ln]
    changed = [ln for ln in diff.splitlines() if _is_change_line(ln)]
    assert (len(removed), len(added), len(changed)) == (1, 1, 2), f"commit {sha}:\n{diff}"
    return _marked_tag(text)


def _marked_tag(text: str) -> str:
    line = next(ln for ln in text.splitlines() if _MARKER in ln)
    return line.split(_MARKER)[0].strip().rsplit(":", 1)[1]


def _is_change_line(line: str) -> bool:
    return line.startswith(("+", "-")) and not line.startswith(("+++", "---"))
