"""A hostile registry: compression bombs, corrupt bodies, huge pages and tags that are not tags.

A real registry refuses to store such tags and never sends such bodies, so a scripted loopback
server plays the hostile one.  Every case must end in a one-line typed error or in a listing
with the bad tags dropped, counted and reported once, escaped; memory stays bounded by the
response cap.  The default run plays small, deterministic versions of each case; ``make fuzz``
(``-m slow``) adds the full-size bomb as a whole ``tagpilot scan`` process, an oversized page
under the default cap, and random tags and bodies.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import resource
import subprocess
import sys
import tracemalloc
import zlib
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner
from fuzz_support import PROFILES, Profile, run_property
from hypothesis import strategies as st

from servers.fakes import Answer, Script, run_scripted
from tagpilot.adapters.registry import Limits, MalformedResponseError, RegistryClient
from tagpilot.adapters.registry.pages import TagListing
from tagpilot.adapters.registry.pool import RegistryPool
from tagpilot.adapters.store import SqliteStore
from tagpilot.api.image import ImageRepository
from tagpilot.api.loader import load_text
from tagpilot.cli.errors import GuardedGroup
from tagpilot.cli.scan import scan
from tagpilot.core.imageref import parse_repository
from tagpilot.core.tags import ScannedTags, is_valid_tag
from tagpilot.ports import ObjectKey
from tagpilot.reconcile.context import ReconcileContext
from tagpilot.reconcile.image_repository import reconcile_image_repository

TAGS_PATH = "/v2/team/app/tags/list"
KEY = ObjectKey("ImageRepository", "flux-system", "app")
GOOD_TAGS = ["1.0.0", "v2.1.0-rc.1", "latest", "_internal", "A" * 128]
HOSTILE_TAGS = {
    "osc-title-escape": "1.0.0\x1b]0;pwned\x07",
    "csi-colour-escape": "\x1b[31mred",
    "newline": "1.0.0\nInjected: header",
    "carriage-return": "1.0.0\rfake",
    "right-to-left-override": "1.0.0\u202e0.0.9",
    "ten-kilobytes": "9" * 10_240,
    "129-characters": "A" * 129,
    "shell-metacharacters": "1.0;$(reboot)`id`",
    "nul": "1.0.0\x00",
    "leading-dot": ".hidden",
    "leading-dash": "-rm",
    "empty": "",
    "slash": "a/b",
    "colon": "a:b",
    "non-ascii-letter": "versión",
}
SMALL_CAP = 1024 * 1024
FAST_LIMITS = Limits(max_attempts=1, max_response_bytes=SMALL_CAP)
CONTROL_CHARACTERS = ("\x1b", "\x00", "\x07", "\r", "\u202e")


def _page(tags: Sequence[str]) -> bytes:
    return json.dumps({"name": "team/app", "tags": list(tags)}).encode()


def _gzip(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=9, mtime=0)


def _bomb(decoded_bytes: int) -> bytes:
    """A gzip stream of ``decoded_bytes`` zeros, built in 1 MiB steps (never held whole)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = bytes(1024 * 1024)
    parts = [packer.compress(block) for _ in range(decoded_bytes // len(block))]
    return b"".join([*parts, packer.flush()])


def _serving(body: bytes, headers: Sequence[tuple[str, str]] = ()) -> Script:
    def respond(method: str, path: str) -> Answer:
        if not path.startswith(TAGS_PATH):
            return Answer(404)
        return Answer(200, body, [("Content-Type", "application/json"), *headers])

    return Script(respond)


@pytest.fixture
def hostile_page() -> Iterator[str]:
    """A registry whose one page mixes valid tags with every hostile one; yields host:port."""
    with run_scripted(_serving(_page([*GOOD_TAGS, *HOSTILE_TAGS.values()]))) as base:
        yield base.removeprefix("http://")


async def _scan(host: str, limits: Limits = FAST_LIMITS) -> ScannedTags:
    async with RegistryClient(limits=limits, timeout=10) as client:
        return await client.scan_tags(f"{host}/team/app")


def _printable(text: str) -> bool:
    return not any(c in text for c in CONTROL_CHARACTERS)


# -- tags that break the OCI grammar ------------------------------------------------------


@pytest.mark.parametrize(("tag"), [pytest.param(t, id=i) for i, t in HOSTILE_TAGS.items()])
def test_a_tag_breaking_the_oci_grammar_is_not_valid(tag: str) -> None:
    assert not is_valid_tag(tag)


@pytest.mark.parametrize("tag", [pytest.param(t, id=t[:12]) for t in GOOD_TAGS])
def test_a_tag_meeting_the_oci_grammar_is_valid(tag: str) -> None:
    assert is_valid_tag(tag)


async def test_hostile_tags_are_dropped_counted_and_the_rest_kept_in_order(
    hostile_page: str,
) -> None:
    scanned = await _scan(hostile_page)
    assert list(scanned.tags) == GOOD_TAGS
    assert scanned.dropped == len(HOSTILE_TAGS)
    note = scanned.dropped_note()
    assert note.startswith(f"dropped {len(HOSTILE_TAGS)} tags that are not valid OCI tags")
    assert "\\x1b" in note, "examples are shown escaped"
    assert _printable(note) and "\n" not in note


def _run_scan(*args: str) -> tuple[int, str, str]:
    @click.group(cls=GuardedGroup)
    def cli() -> None:
        """The scan command inside the guarded group the real CLI uses."""

    cli.add_command(scan)
    result = CliRunner().invoke(cli, ["scan", *args])
    return result.exit_code, result.stdout, result.stderr


def test_scan_prints_only_valid_tags_and_one_escaped_warning(hostile_page: str) -> None:
    code, out, err = _run_scan(f"{hostile_page}/team/app")
    assert code == 0
    assert out.splitlines() == GOOD_TAGS
    assert len(err.splitlines()) == 1, err
    assert f"dropped {len(HOSTILE_TAGS)} tags" in err
    assert _printable(out + err)


def _repository(host: str) -> ImageRepository:
    text = (
        "apiVersion: image.toolkit.fluxcd.io/v1beta2\nkind: ImageRepository\n"
        "metadata:\n  name: app\n  namespace: flux-system\n"
        f"spec:\n  image: {host}/team/app\n  interval: 1m\n  insecure: true\n"
    )
    repo = load_text(text, file="repo.yaml").objects[0].obj
    assert isinstance(repo, ImageRepository)
    return repo


class _Clock:
    def now(self) -> datetime:
        return datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


async def test_the_image_repository_reports_the_dropped_tags_once(
    hostile_page: str, tmp_path: Path
) -> None:
    store, pool = SqliteStore(tmp_path / "state.db"), RegistryPool(FAST_LIMITS)
    ctx = ReconcileContext(clock=_Clock(), store=store, registry=pool)
    try:
        first = await reconcile_image_repository(_repository(hostile_page), ctx)
        store.put_status(KEY, first.document)
        again = await reconcile_image_repository(_repository(hostile_page), ctx, generation=2)
    finally:
        await pool.aclose()
        store.close()
    assert first.ready, first.document
    ready = next(c for c in first.document["conditions"] if c["type"] == "Ready")
    assert f"dropped {len(HOSTILE_TAGS)} tags that are not valid OCI tags" in ready["message"]
    assert _printable(json.dumps(first.document, ensure_ascii=False))
    assert sorted(first.document["lastScanResult"]["latestTags"]) == sorted(GOOD_TAGS)
    warnings = [e for e in first.events if e.type == "Warning"]
    assert [e.reason for e in warnings] == ["InvalidTags"]
    assert [e for e in again.events if e.type == "Warning"] == [], "reported once"


# -- bodies: compression bombs, corrupt gzip, huge pages, unknown encodings ----------------


@pytest.mark.parametrize(
    ("encoding", "encode"),
    [
        pytest.param("gzip", _gzip, id="gzip"),
        pytest.param("x-gzip", _gzip, id="x-gzip"),
        pytest.param("deflate", zlib.compress, id="deflate"),
        pytest.param("identity", lambda data: data, id="identity"),
    ],
)
async def test_a_compressed_tag_list_is_decoded(encoding: str, encode: Any) -> None:
    body = encode(_page(GOOD_TAGS))
    with run_scripted(_serving(body, [("Content-Encoding", encoding)])) as base:
        scanned = await _scan(base.removeprefix("http://"))
    assert list(scanned.tags) == GOOD_TAGS


async def test_a_gzip_bomb_is_refused_within_the_cap() -> None:
    bomb = _bomb(64 * SMALL_CAP)  # 64 MiB of zeros in about 64 KB
    with run_scripted(_serving(bomb, [("Content-Encoding", "gzip")])) as base:
        tracemalloc.start()
        try:
            with pytest.raises(MalformedResponseError, match="larger than 1 MiB once decompressed"):
                await _scan(base.removeprefix("http://"))
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert peak < 8 * SMALL_CAP, f"peak {peak} bytes while refusing a bomb"


@pytest.mark.parametrize(
    ("body", "headers", "message"),
    [
        pytest.param(
            b"\x1f\x8b\x08\x00garbage-not-deflate",
            [("Content-Encoding", "gzip")],
            "does not decompress",
            id="invalid-gzip",
        ),
        pytest.param(
            _gzip(_page(GOOD_TAGS))[:20],
            [("Content-Encoding", "gzip")],
            "truncated",
            id="truncated-gzip",
        ),
        pytest.param(
            b"BROTLI?", [("Content-Encoding", "br")], "Content-Encoding 'br'", id="unasked-br"
        ),
        pytest.param(
            _gzip(_gzip(_page(GOOD_TAGS))),
            [("Content-Encoding", "gzip, gzip")],
            "was not asked for",
            id="stacked-encodings",
        ),
        pytest.param(
            _page([f"1.{i}.0" for i in range(120_000)]),
            [],
            "larger than 1 MiB; refusing",
            id="huge-plain-page",
        ),
    ],
)
async def test_a_bad_body_is_one_typed_error(
    body: bytes, headers: list[tuple[str, str]], message: str
) -> None:
    with (
        run_scripted(_serving(body, headers)) as base,
        pytest.raises(MalformedResponseError, match=message) as caught,
    ):
        await _scan(base.removeprefix("http://"))
    assert "\n" not in str(caught.value)


def test_scan_reports_an_invalid_gzip_body_in_one_line_without_a_traceback() -> None:
    body = b"\x1f\x8b\x08\x00garbage-not-deflate"
    with run_scripted(_serving(body, [("Content-Encoding", "gzip")])) as base:
        code, out, err = _run_scan(f"{base.removeprefix('http://')}/team/app")
    assert code == 1
    assert out == ""
    assert len(err.strip().splitlines()) == 1, err
    assert "does not decompress" in err
    assert "Traceback" not in err


# -- make fuzz: full size and random -------------------------------------------------------


@pytest.mark.slow
def test_a_three_gigabyte_gzip_bomb_leaves_scan_small(tmp_path: Path) -> None:
    """The reported case: 3 MB on the wire, 3 GB decoded; `tagpilot scan` must stay small."""
    bomb = _bomb(3 * 1024 * SMALL_CAP)
    with run_scripted(_serving(bomb, [("Content-Encoding", "gzip")])) as base:
        program = "from tagpilot.cli.main import main; main()"
        argv = [sys.executable, "-c", program, "scan", f"{base.removeprefix('http://')}/team/app"]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    assert done.returncode == 1, done.stderr
    assert "larger than 16 MiB once decompressed" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert peak_kib < 200 * 1024, f"scan peaked at {peak_kib} KiB"


async def test_a_listing_past_the_tag_limit_is_refused() -> None:
    tags = [f"t{i}" for i in range(1_001)]
    with (
        run_scripted(_serving(_page(tags))) as base,
        pytest.raises(MalformedResponseError, match="more than 1000 tags"),
    ):
        await _scan(base.removeprefix("http://"), Limits(max_attempts=1, max_tags=1_000))


@pytest.mark.slow
async def test_a_page_over_the_default_cap_is_refused() -> None:
    tags = [f"{i:0128d}" for i in range(140_000)]  # about 18 MiB of legal tags
    with (
        run_scripted(_serving(_page(tags))) as base,
        pytest.raises(MalformedResponseError, match="larger than 16 MiB"),
    ):
        await _scan(base.removeprefix("http://"), Limits(max_attempts=1))


@pytest.mark.parametrize("profile", PROFILES)
def test_random_tags_keep_exactly_the_grammatical_ones(profile: Profile) -> None:
    alphabet = st.sampled_from("aZ09._-/:@ \n\r\t\x00\x1b\u202eé") | st.characters()
    tag = st.text(alphabet, max_size=140) | st.sampled_from(list(HOSTILE_TAGS.values()))

    def check(tags: list[str]) -> None:
        listing = TagListing(parse_repository("registry.example/team/app", field=None))
        listing.add_page(tags)
        scanned = listing.result()
        expected = list(dict.fromkeys(t for t in tags if is_valid_tag(t)))
        assert list(scanned.tags) == expected
        assert scanned.dropped == len({t for t in tags if not is_valid_tag(t)})
        assert _printable(scanned.dropped_note())

    run_property(profile, st.lists(tag, max_size=20), check)


@pytest.mark.parametrize("profile", PROFILES)
def test_random_bytes_with_a_gzip_header_give_only_typed_errors(profile: Profile) -> None:
    good = _gzip(_page(GOOD_TAGS))

    def check(edit: tuple[int, bytes]) -> None:
        where, junk = edit
        body = good[:where] + junk + good[where + len(junk) :]
        with run_scripted(_serving(body, [("Content-Encoding", "gzip")])) as base:
            try:
                scanned = asyncio.run(_scan(base.removeprefix("http://")))
            except MalformedResponseError as error:
                assert "\n" not in str(error)
                return
        assert all(is_valid_tag(t) for t in scanned.tags)

    edits = st.tuples(st.integers(0, len(good)), st.binary(min_size=1, max_size=8))
    small = Profile(profile.name, max(profile.max_examples // 10, 10), profile.deadline_ms)
    run_property(small, edits, check)
