"""Registries that misbehave: stalls, non-HTTP answers, junk bodies, rate limits, 5xx, bad links.

A real registry cannot be made to do these, so small loopback servers play them; each error
must say what was wrong.
"""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Callable

import pytest
from registry_support import FAST_RETRIES

from servers.fakes import Answer, Script, run_garbage_server, run_scripted, run_stalling_server
from tagpilot.adapters.registry import (
    Limits,
    MalformedResponseError,
    RateLimitedError,
    RegistryAuthError,
    RegistryClient,
    RegistryError,
    RegistryTimeoutError,
    RegistryUnavailableError,
)

TAGS_PATH = "/v2/team/app/tags/list"


def _tags(*tags: str, link: str | None = None) -> Answer:
    headers = [("Content-Type", "application/json")] + ([("Link", link)] if link else [])
    return Answer(200, json.dumps({"name": "team/app", "tags": list(tags)}).encode(), headers)


def _sequence(*answers: Answer) -> Callable[[str, str], Answer]:
    """Answer the tag list with ``answers`` in turn (the last one repeats)."""
    remaining = list(answers)

    def respond(method: str, path: str) -> Answer:
        if not path.startswith(TAGS_PATH):
            return Answer(404)
        return remaining.pop(0) if len(remaining) > 1 else remaining[0]

    return respond


async def _list(base: str, limits: Limits = FAST_RETRIES, timeout: float = 5) -> list[str]:
    async with RegistryClient(limits=limits, timeout=timeout) as client:
        return await client.list_tags(f"{base.removeprefix('http://')}/team/app")


async def test_a_stalling_registry_times_out_with_the_configured_limit() -> None:
    with run_stalling_server() as host:
        started = time.monotonic()
        with pytest.raises(
            RegistryTimeoutError, match=r"timed out after 1s: registry .* did not answer"
        ):
            await _list(host, timeout=1)
    assert time.monotonic() - started < 5


async def test_a_server_that_does_not_speak_http_is_a_malformed_response() -> None:
    with run_garbage_server() as host, pytest.raises(MalformedResponseError, match="invalid HTTP"):
        await _list(host)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param(b"<html>oops</html>", "is not JSON", id="html-page"),
        pytest.param(b'["1.0.0"]', "not an object with 'tags'", id="json-array"),
        pytest.param(b'{"name": "team/app"}', "not an object with 'tags'", id="no-tags-key"),
        pytest.param(b'{"tags": "1.0.0"}', "must be a list of strings", id="tags-a-string"),
        pytest.param(b'{"tags": [1, 2]}', "must be a list of strings", id="tags-numbers"),
    ],
)
async def test_a_junk_tag_list_is_reported_with_what_was_wrong(body: bytes, message: str) -> None:
    with (
        run_scripted(Script(_sequence(Answer(200, body)))) as base,
        pytest.raises(MalformedResponseError, match=message),
    ):
        await _list(base)


async def test_retry_after_in_seconds_is_honoured() -> None:
    script = Script(_sequence(Answer(429, headers=[("Retry-After", "1")]), _tags("1.0.0")))
    with run_scripted(script) as base:
        assert await _list(base) == ["1.0.0"]
    assert len([r for r in script.requests if r[1] == TAGS_PATH]) == 2


async def test_retry_after_as_an_http_date_is_honoured() -> None:
    soon = email.utils.formatdate(time.time() + 1, usegmt=True)
    script = Script(_sequence(Answer(503, headers=[("Retry-After", soon)]), _tags("1.0.0")))
    with run_scripted(script) as base:
        assert await _list(base) == ["1.0.0"]


async def test_a_long_retry_after_fails_at_once_saying_until_when() -> None:
    script = Script(_sequence(Answer(429, headers=[("Retry-After", "3600")])))
    with (
        run_scripted(script) as base,
        pytest.raises(RateLimitedError, match=r"retry after \d{4}-\d\d-\d\dT") as caught,
    ):
        await _list(base)
    assert caught.value.retry_after == 3600


async def test_server_errors_are_retried_with_backoff() -> None:
    script = Script(_sequence(Answer(500), Answer(502), _tags("1.0.0", "2.0.0")))
    with run_scripted(script) as base:
        assert await _list(base) == ["1.0.0", "2.0.0"]


async def test_persistent_server_errors_give_up_after_the_attempt_limit() -> None:
    script = Script(_sequence(Answer(502)))
    with (
        run_scripted(script) as base,
        pytest.raises(RegistryUnavailableError, match="HTTP 502 after 3 attempts"),
    ):
        await _list(base)
    assert len([r for r in script.requests if r[1] == TAGS_PATH]) == FAST_RETRIES.max_attempts


async def test_an_unexpected_status_names_the_error_codes() -> None:
    body = b'{"errors": [{"code": "UNSUPPORTED", "message": "no"}]}'
    with (
        run_scripted(Script(_sequence(Answer(405, body)))) as base,
        pytest.raises(RegistryError, match=r"HTTP 405 \(UNSUPPORTED\)"),
    ):
        await _list(base)


async def test_a_401_without_a_challenge_is_an_auth_error() -> None:
    with (
        run_scripted(Script(_sequence(Answer(401)))) as base,
        pytest.raises(RegistryAuthError, match="without a usable challenge"),
    ):
        await _list(base)


@pytest.mark.parametrize(
    "link",
    [
        pytest.param(f'<{TAGS_PATH}?last=a&n=1>; rel="next"', id="relative"),
        pytest.param("<?last=a&n=1>; rel=next", id="query-only-unquoted-rel"),
    ],
)
async def test_relative_next_links_are_followed(link: str) -> None:
    script = Script(_sequence(_tags("a", link=link), _tags("b")))
    with run_scripted(script) as base:
        assert await _list(base) == ["a", "b"]


async def test_an_absolute_next_link_on_the_same_host_is_followed() -> None:
    pages: list[Answer] = []
    script = Script(lambda method, path: pages.pop(0) if pages else Answer(404))
    with run_scripted(script) as base:
        pages.extend([_tags("a", link=f'<{base}{TAGS_PATH}?last=a>; rel="next"'), _tags("b")])
        assert await _list(base) == ["a", "b"]


async def test_a_next_link_to_another_host_is_refused() -> None:
    link = '<https://elsewhere.example/v2/team/app/tags/list?last=a>; rel="next"'
    with (
        run_scripted(Script(_sequence(_tags("a", link=link)))) as base,
        pytest.raises(MalformedResponseError, match="another server"),
    ):
        await _list(base)


async def test_a_next_link_back_to_a_read_page_is_refused() -> None:
    link = f'<{TAGS_PATH}>; rel="next"'
    with (
        run_scripted(Script(_sequence(_tags("a", link=link)))) as base,
        pytest.raises(MalformedResponseError, match="loops back"),
    ):
        await _list(base)


async def test_a_manifest_head_without_a_digest_header_is_malformed() -> None:
    with run_scripted(Script(lambda method, path: Answer(200))) as base:
        async with RegistryClient(limits=FAST_RETRIES) as client:
            with pytest.raises(MalformedResponseError, match="Docker-Content-Digest"):
                await client.head_digest(f"{base.removeprefix('http://')}/team/app", "1.0.0")
