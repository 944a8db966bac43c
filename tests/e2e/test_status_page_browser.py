"""The status page in a real headless Chromium, over ``tagpilot run`` doing the Blaster flow.

Debian's Chromium (``/usr/bin/chromium``) is driven by Playwright; Playwright never
downloads a browser of its own.  The registry and git server are real and on loopback.
The pages are opened once and never reloaded by the test: what changes must arrive by the
page's own refresh.  Screenshots land in ``artefacts/`` under the test's temporary
directory; ``TAGPILOT_UPDATE_SCREENSHOT=1`` also writes the README's ``docs/status-page.png``.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from e2e_support import FIRST_TAGS, ROOT, TOKEN, USER, app_repo, write_cluster
from playwright.sync_api import Browser, Page, expect, sync_playwright
from test_daemon import GIT_PASSWORD, GIT_USER, Daemon, _head_line, _receiver, _wait

from servers.git import git, run_git_http
from servers.ocipush import seed
from servers.registry import RunningRegistry, run_registry, write_htpasswd

CHROMIUM = "/usr/bin/chromium"
NEW_TAG = "dev-20251116.3"
WAIT_MS = 30_000
BROKEN_POLICY = """apiVersion: image.toolkit.fluxcd.io/v1beta2
kind: ImagePolicy
metadata:
  name: blaster-release-policy
  namespace: flux-system
spec:
  imageRepositoryRef:
    name: blaster-dev-repo
  filterTags:
    pattern: '^release-(?P<n>[0-9]+)$'
    extract: '$n'
  policy:
    numerical:
      order: asc
"""


@dataclass(frozen=True)
class Flow:
    """The running daemon over the Blaster cluster, and what the test needs to steer it."""

    daemon: Daemon
    registry: RunningRegistry
    hook: str
    bare: Path
    cluster: Path
    artefacts: Path

    def page_url(self, path: str) -> str:
        """A page of the daemon, refreshing every second."""
        return f"{self.daemon.url}{path}?refresh=1"


@pytest.fixture(scope="module")
def flow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flow]:
    """``tagpilot run`` after its first commit (dev-20251115.51), with a webhook Receiver."""
    tmp = tmp_path_factory.mktemp("flow")
    htpasswd = write_htpasswd(tmp / "htpasswd", {USER: TOKEN})
    repos = tmp / "repos"
    repos.mkdir()
    with (
        run_registry(tmp / "registry", htpasswd=htpasswd) as registry,
        run_git_http(repos, credentials=f"{GIT_USER}:{GIT_PASSWORD}") as git_server,
    ):
        seed(registry.url, "games/blaster", FIRST_TAGS, user=USER, password=TOKEN)
        bare = app_repo(tmp, registry, repos)
        auth = {"username": GIT_USER, "password": GIT_PASSWORD}
        cluster = write_cluster(tmp, registry, f"{git_server.base_url}/blaster.git", auth)
        hook = _receiver(cluster)
        daemon = Daemon(cluster, tmp / "state.db", tmp / "daemon.log")
        try:
            _wait(lambda: "dev-20251115.51" in _head_line(bare), 60, "the first commit")
            artefacts = tmp / "artefacts"
            artefacts.mkdir()
            yield Flow(daemon, registry, hook, bare, cluster, artefacts)
        finally:
            assert daemon.stop() == 0


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's headless Chromium under Playwright."""
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield launched
        launched.close()


def _shot(page: Page, flow: Flow, name: str) -> Path:
    path = flow.artefacts / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def test_the_page_follows_a_new_tag_from_policy_to_pushed_commit_without_a_reload(
    flow: Flow, browser: Browser
) -> None:
    context = browser.new_context(viewport={"width": 1200, "height": 800})
    overview, policy, automation = (context.new_page() for _ in range(3))
    overview.goto(flow.page_url("/status"))
    rows = overview.locator("table.objects tbody tr")
    expect(rows).to_have_count(4, timeout=WAIT_MS)
    expect(overview.locator("table.objects .ready-true")).to_have_count(4, timeout=WAIT_MS)
    expect(overview.get_by_text("flux-system/blaster-ci")).to_be_visible()
    _shot(overview, flow, "overview-ready")

    policy.goto(flow.page_url("/status/policy/flux-system/blaster-dev-policy"))
    expect(policy.locator("code.latest")).to_have_text("dev-20251115.51")
    automation.goto(flow.page_url("/status/automation/flux-system/blaster-dev-automation"))
    expect(automation.locator("section.push")).to_have_count(1)

    seed(flow.registry.url, "games/blaster", [NEW_TAG], user=USER, password=TOKEN)
    delivered = httpx.post(flow.daemon.url + flow.hook, json={"source": "ci"}, timeout=5)
    assert delivered.status_code == 200, delivered.text

    expect(policy.locator("code.latest")).to_have_text(NEW_TAG, timeout=WAIT_MS)
    expect(policy.locator("code.previous")).to_have_text("dev-20251115.51")
    selected = policy.locator("table.verdicts tr", has_text="selected")
    expect(selected).to_contain_text(NEW_TAG)
    _shot(policy, flow, "policy-new-tag")

    expect(automation.locator("section.push")).to_have_count(2, timeout=WAIT_MS)
    newest = automation.locator("section.push").first
    expect(newest.locator("table.changes")).to_contain_text(NEW_TAG)
    expect(newest.locator("table.changes")).to_contain_text("dev-20251115.51")
    expect(newest.locator("pre.commit-message")).to_contain_text(NEW_TAG)
    sha = newest.locator("code.sha").inner_text()
    assert _head_sha(flow.bare).startswith(sha)
    _shot(automation, flow, "automation-pushed")

    (flow.cluster / "blaster/dev/40-release-policy.yaml").write_text(BROKEN_POLICY)
    overview.goto(flow.page_url("/status") + "&notReady=1")
    broken = overview.locator("table.objects tbody tr", has_text="blaster-release-policy")
    expect(broken.locator(".ready-false")).to_be_visible(timeout=WAIT_MS)
    expect(broken.locator(".message")).not_to_be_empty()
    expect(rows).to_have_count(1)
    _shot(overview, flow, "overview-not-ready")
    overview.goto(flow.page_url("/status"))
    expect(overview.locator("table.objects .ready-false")).to_have_count(1)
    _readme_screenshot(overview, flow)
    context.close()


def _readme_screenshot(page: Page, flow: Flow) -> None:
    """The overview with one policy not ready: the README's picture, kept small."""
    path = flow.artefacts / "readme-overview.png"
    page.set_viewport_size({"width": 1100, "height": 560})
    page.screenshot(path=str(path))
    if os.environ.get("TAGPILOT_UPDATE_SCREENSHOT") == "1":
        shutil.copyfile(path, ROOT / "docs/status-page.png")


def _head_sha(bare: Path) -> str:
    return git("rev-parse", "develop", cwd=bare).strip()


@pytest.mark.parametrize(
    ("path", "shows"),
    [
        pytest.param("/status", "table.objects", id="overview"),
        pytest.param("/status/policy/flux-system/blaster-dev-policy", "table.verdicts",
                     id="policy"),
        pytest.param("/status/automation/flux-system/blaster-dev-automation", "section.push",
                     id="automation"),
        pytest.param("/status/timeline", "svg.timeline g.tag", id="timeline-svg"),
    ],
)  # fmt: skip
def test_the_read_only_views_work_with_javascript_disabled(
    flow: Flow, browser: Browser, path: str, shows: str
) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(flow.page_url(path))
    expect(page.locator(shows).first).to_be_visible()
    assert page.locator('noscript meta[http-equiv="refresh"]').count() == 1
    _shot(page, flow, "nojs-" + path.strip("/").replace("/", "-"))
    context.close()
