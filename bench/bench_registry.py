"""Registry scanning speed: tagpilot's client against curl (the floor) and skopeo (a peer).

Starts its own registry 2.8 on tmpfs (the test servers in ``tests/servers``), seeds one
repository with 10,000 tags and 100 repositories with 100 tags each (about 20-40 s), then:

* one 10,000-tag listing: tagpilot (library call, fresh client each round) vs one ``curl`` of
  the same URL, and vs ``skopeo list-tags``; also the ``tagpilot scan`` command as a process;
* scan start-up: ``tagpilot scan`` of a 2,000-tag repository as a whole process (interpreter,
  imports, listing, output), as a user runs it, vs ``skopeo list-tags``; the row's note gives
  the median CPU time and the load average the rounds ran at;
* 100 repositories x 100 tags: tagpilot listing all concurrently with one client vs one curl
  process fetching the 100 URLs over a kept-alive connection, and vs skopeo run per repository.
"""

from __future__ import annotations

import asyncio
import os
import resource
import statistics
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from bench.common import Result, best_of
from tagpilot.adapters.registry import RegistryClient

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from servers.ocipush import seed  # noqa: E402
from servers.registry import fast_storage, run_registry  # noqa: E402

__all__ = ["run"]

BIG_REPO = "bench/tags10k"
BIG_TAGS = 10_000
STARTUP_REPO = "bench/tags2k"
STARTUP_TAGS = 2_000
MANY_PREFIX = "bench/many/r"
MANY_REPOS = 100
MANY_TAGS = 100


def _seed(url: str) -> None:
    seed(url, BIG_REPO, [f"1.{i}.0" for i in range(BIG_TAGS)], workers=8)
    seed(url, STARTUP_REPO, [f"2.{i}.0" for i in range(STARTUP_TAGS)], workers=8)
    tags = [f"1.{i}.0" for i in range(MANY_TAGS)]
    for index in range(MANY_REPOS):
        seed(url, f"{MANY_PREFIX}{index}", tags, workers=8)


def _list_once(host: str, repo: str) -> None:
    async def go() -> None:
        async with RegistryClient() as client:
            tags = await client.list_tags(f"{host}/{repo}")
            assert len(tags) == BIG_TAGS

    asyncio.run(go())


def _list_many(host: str) -> None:
    async def go() -> None:
        async with RegistryClient() as client:
            repos = [f"{host}/{MANY_PREFIX}{i}" for i in range(MANY_REPOS)]
            results = await asyncio.gather(*(client.list_tags(r) for r in repos))
            assert all(len(tags) == MANY_TAGS for tags in results)

    asyncio.run(go())


def _run(argv: list[str], env: dict[str, str] | None = None) -> None:
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, env=env)


def _tagpilot_argv() -> list[str]:
    """The installed ``tagpilot`` console script, as users start it."""
    script = Path(sys.executable).parent / "tagpilot"
    return [str(script)] if script.exists() else [sys.executable, "-m", "tagpilot"]


def _startup(host: str) -> list[Result]:
    """``tagpilot scan`` as a whole process against ``skopeo list-tags``, 2,000 tags."""
    # an installed package has its bytecode compiled; a checkout run with
    # PYTHONDONTWRITEBYTECODE would recompile every module each start and measure that instead
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    argv = [*_tagpilot_argv(), "scan", f"{host}/{STARTUP_REPO}"]
    _run(argv, env)  # warm: compile bytecode once
    load = os.getloadavg()[0]
    tagpilot = best_of(lambda: _run(argv, env), rounds=9)
    cpu = _median_cpu(lambda: _run(argv, env), rounds=9)
    skopeo_argv = ["skopeo", "list-tags", "--tls-verify=false", f"docker://{host}/{STARTUP_REPO}"]
    skopeo = best_of(lambda: _run(skopeo_argv), rounds=9)
    return [
        Result(
            "registry: scan start-up, 2,000 tags (process)",
            "tagpilot scan",
            tagpilot,
            "skopeo list-tags",
            skopeo,
            target="<= 0.25 s",
            note=(
                "whole process: interpreter, imports, listing, output (the synchronous lister,"
                f" no click, asyncio or httpx); CPU {cpu:.3f} s; load average {load:.1f}"
            ),
        )
    ]


def _median_cpu(fn: Callable[[], object], *, rounds: int) -> float:
    """Median CPU seconds (user + system) of the child processes ``fn`` runs.

    On a loaded machine wall time mostly measures the wait for a core; CPU time does not.
    """
    spent = []
    for _ in range(rounds):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        fn()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        spent.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(spent)


def _single_listing(url: str, host: str) -> list[Result]:
    tags_url = f"{url}/v2/{BIG_REPO}/tags/list"
    curl = best_of(lambda: _run(["curl", "-sf", "-o", "/dev/null", tags_url]), rounds=7)
    skopeo_argv = ["skopeo", "list-tags", "--tls-verify=false", f"docker://{host}/{BIG_REPO}"]
    skopeo = best_of(lambda: _run(skopeo_argv), rounds=5)
    library = best_of(lambda: _list_once(host, BIG_REPO), rounds=7)
    # the scan command on its own, as the lead wires it into ``tagpilot``
    program = "from tagpilot.cli.scan import scan; scan(prog_name='tagpilot scan')"
    cli_argv = [sys.executable, "-c", program, f"{host}/{BIG_REPO}"]
    cli = best_of(lambda: _run(cli_argv), rounds=3)
    name = "registry: list 10,000 tags"
    return [
        Result(name, "tagpilot client", library, "curl", curl, target="<= 1.5x curl"),
        Result(name, "tagpilot client", library, "skopeo list-tags", skopeo, target="< 1x skopeo"),
        Result(
            f"{name} (CLI process)",
            "tagpilot scan",
            cli,
            "skopeo list-tags",
            skopeo,
            note="includes Python start-up and imports",
        ),
    ]


def _many_listings(url: str, host: str) -> list[Result]:
    urls = [f"{url}/v2/{MANY_PREFIX}{i}/tags/list" for i in range(MANY_REPOS)]
    curl_argv = ["curl", "-sf", *[part for u in urls for part in ("-o", "/dev/null", u)]]
    curl = best_of(lambda: _run(curl_argv), rounds=5)
    skopeo_repos = [f"docker://{host}/{MANY_PREFIX}{i}" for i in range(MANY_REPOS)]

    def skopeo_all() -> None:
        for repo in skopeo_repos:
            _run(["skopeo", "list-tags", "--tls-verify=false", repo])

    skopeo = best_of(skopeo_all, rounds=1)
    library = best_of(lambda: _list_many(host), rounds=5)
    name = "registry: 100 repos x 100 tags"
    return [
        Result(
            name, "tagpilot concurrent", library, "curl sequential", curl, target="<= 1.5x curl"
        ),
        Result(
            name, "tagpilot concurrent", library, "skopeo per repo", skopeo, target="< 1x skopeo"
        ),
    ]


def run() -> list[Result]:
    """Start and seed a registry, then measure both scenarios."""
    with fast_storage("tagpilot-bench-") as directory, run_registry(directory) as registry:
        _seed(registry.url)
        return (
            _startup(registry.host)
            + _single_listing(registry.url, registry.host)
            + _many_listings(registry.url, registry.host)
        )
