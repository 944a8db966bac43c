"""What ``tagpilot reconcile PATH --once`` loads, and the kind words the verbs build lazily.

A one-shot run is often a process of its own (CI, cron), so what it imports is most of what
it costs: the daemon's client, the cluster client, the views and httpx's own command line
must stay out.  The check is on the modules loaded by a real run against a real registry,
never on a time.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from servers.git import GitHttpServer, make_bare_repo, run_git_http
from servers.ocipush import seed
from servers.registry import RunningRegistry, run_registry
from tagpilot import __version__
from tagpilot.api.descriptors import cli_kinds
from tagpilot.cli.actions import resume_group, suspend_group
from tagpilot.cli.get import export_group, get_group
from tagpilot.cli.kind_commands import command_words
from tagpilot.cli.reconcile_group import reconcile_command

TAGS = ["1.0.0", "1.1.0", "1.2.0"]
RUN_ORDER = ("ImageRepository", "ImagePolicy", "ImageUpdateAutomation", "GitRepository")

NOT_FOR_A_ONE_SHOT_RUN = (
    "tagpilot.cli.actions",  # the daemon's reconcile, suspend and resume
    "tagpilot.cli.daemon_client",
    "tagpilot.cli.reconcile_leaf",
    "tagpilot.cli.get",
    "tagpilot.cli.views",
    "tagpilot.adapters.kube",  # the cluster client
    "tagpilot.server",  # the daemon's web stack
    "tagpilot.reconcile.kustomization",  # no cluster to apply to: no Kustomization runs
    "tagpilot.core.kustomize",
    "cryptography",  # SOPS's cipher, for encrypted manifests only
    "rich",  # httpx's command line pulls these in unless it is kept out
    "pygments",
)

PROBE = """
import json, sys
from tagpilot.cli.main import main
sys.argv = ["tagpilot", "reconcile", *sys.argv[1:]]
try:
    main()
except SystemExit as done:
    assert not done.code, done.code
loaded = sorted(sys.modules)
print(json.dumps({"modules": loaded, "httpx_cli": sys.modules.get("httpx._main") is not None}),
      file=sys.stderr)
"""


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningRegistry]:
    with run_registry(tmp_path_factory.mktemp("registry")) as running:
        seed(running.url, "team/app", TAGS)
        yield running


@pytest.fixture(scope="module")
def git_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GitHttpServer]:
    with run_git_http(tmp_path_factory.mktemp("repos")) as server:
        yield server


def _cluster(directory: Path, host: str, url: str) -> Path:
    image = "apiVersion: image.toolkit.fluxcd.io/v1beta2\n"
    meta = "metadata:\n  name: app\n  namespace: flux-system\n"
    (directory / "images.yaml").write_text(
        f"{image}kind: ImageRepository\n{meta}"
        f"spec:\n  image: {host}/team/app\n  interval: 1h\n---\n"
        f"{image}kind: ImagePolicy\n{meta}"
        "spec:\n  imageRepositoryRef:\n    name: app\n"
        "  policy:\n    semver:\n      range: '>=1.0.0'\n---\n"
        f"{image}kind: ImageUpdateAutomation\n{meta}"
        "spec:\n  interval: 1h\n  sourceRef:\n    kind: GitRepository\n    name: app\n"
        "  git:\n    commit:\n      author:\n        name: tagpilot\n"
        "        email: tagpilot@example.com\n"
        "  update:\n    strategy: Setters\n    path: ./k8s\n---\n"
        f"apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\n{meta}"
        f"spec:\n  interval: 1h\n  url: {url}\n  ref:\n    branch: main\n"
    )
    return directory


def _app_repository(server: GitHttpServer, host: str, name: str) -> str:
    marker = json.dumps({"$imagepolicy": "flux-system:app"})
    deployment = f"image: {host}/team/app:1.0.0 # {marker}\n"
    make_bare_repo(server.root / f"{name}.git", {"k8s/app.yaml": deployment})
    return f"{server.base_url}/{name}.git"


def test_a_one_shot_dry_run_loads_no_daemon_client_cluster_client_or_http_command_line(
    registry: RunningRegistry, git_server: GitHttpServer, tmp_path: Path
) -> None:
    url = _app_repository(git_server, registry.host, tmp_path.name)
    cluster = _cluster(tmp_path, registry.host, url)
    argv = [sys.executable, "-c", PROBE, str(cluster), "--once", "--dry-run", "-o", "json"]
    argv += ["--state", str(tmp_path / "state.db")]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert [row["kind"] for row in rows] == list(RUN_ORDER)  # the order the kinds depend in
    policy, automation, source = rows[1], rows[2], rows[3]
    assert policy["status"]["latestRef"]["tag"] == "1.2.0"
    assert "app:1.2.0" in "".join(automation["preview"]["diffs"].values())  # the work was done
    assert source["ready"] is True
    probe = json.loads(done.stderr.strip().splitlines()[-1])
    loaded = set(probe["modules"])
    heavy = sorted(
        name
        for name in loaded
        for top in NOT_FOR_A_ONE_SHOT_RUN
        if name == top or name.startswith(top + ".")
    )
    assert heavy == []
    assert probe["httpx_cli"] is False


VERBS = [
    pytest.param(reconcile_command, id="reconcile"),
    pytest.param(lambda: get_group, id="get"),
    pytest.param(lambda: export_group, id="export"),
    pytest.param(lambda: suspend_group, id="suspend"),
    pytest.param(lambda: resume_group, id="resume"),
]


@pytest.mark.parametrize("verb", VERBS)
def test_the_kind_words_known_without_building_are_the_ones_each_verb_builds(
    verb: Callable[[], click.Group],
) -> None:
    group = verb()
    built = set(group.list_commands(click.Context(group)))
    assert built == command_words(cli_kinds())


def test_reconcile_sends_a_path_to_the_manifests_without_building_the_kind_words() -> None:
    @click.command("reconcile")
    @click.argument("targets", nargs=-1)
    @click.option("--once", is_flag=True)
    def manifests(targets: tuple[str, ...], once: bool) -> None:
        click.echo(f"manifests {' '.join(targets)} once={once}")

    group = reconcile_command(manifests)
    root = click.Group("tagpilot", commands={"reconcile": group})
    result = CliRunner().invoke(root, ["reconcile", "clusters/dev", "--once"])
    assert (result.exit_code, result.stdout) == (0, "manifests clusters/dev once=True\n")
    assert group.commands == {}


COLLECTOR_PROBE = """
import atexit, gc, sys
import click

seen = []
invoke = click.Command.invoke


def probed(self, ctx):
    if not isinstance(self, click.Group):  # the command itself, after start-up
        frozen = gc.get_freeze_count() > 0
        seen.append(f"command ran: collector on {gc.isenabled()}, frozen {frozen}")
    return invoke(self, ctx)


click.Command.invoke = probed
# registered before the command line runs, so it runs after the command line's own handlers
atexit.register(lambda: print(*seen, f"at exit: frozen {gc.get_freeze_count() > 0}",
                              file=sys.stderr))
from tagpilot.cli.entry import main
sys.argv = ["tagpilot", *sys.argv[1:]]
main()
"""

POLICY = (
    "apiVersion: image.toolkit.fluxcd.io/v1beta2\nkind: ImagePolicy\n"
    "metadata:\n  name: app\nspec:\n  imageRepositoryRef:\n    name: app\n"
    "  policy:\n    semver:\n      range: '>=1.0.0'\n"
)


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["version"], id="a-command-of-the-group"),
        pytest.param(["policy", "eval", "--tag", "1.2.0", "--tag", "1.10.0"], id="one-on-demand"),
    ],
)
def test_the_command_runs_with_the_collector_on_and_what_start_up_made_frozen(
    args: list[str], tmp_path: Path
) -> None:
    """Start-up's modules and models are not collected while it runs, nor ever after."""
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    if args[0] == "policy":
        args = [*args, "-f", str(policy)]
    argv = [sys.executable, "-c", COLLECTOR_PROBE, *args]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() in {f"tagpilot {__version__}", "1.10.0"}
    assert done.stderr == "command ran: collector on True, frozen True at exit: frozen True\n"
