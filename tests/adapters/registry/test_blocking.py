"""The synchronous lister ``tagpilot scan`` uses answers exactly as the async client does.

Every scenario is run through both ``RegistryClient.scan_tags`` and ``scan_blocking`` against
the same real or scripted server; the tags (and the count dropped), or the error's kind and
message, must be identical.  The async client's own tests say what the right answer is; these
say the quick path cannot drift from it.
"""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from registry_support import (
    APP_TAGS,
    FAST_RETRIES,
    PASSWORD,
    USER,
    Seeded,
    TokenRegistry,
    basic_entry,
    docker_config,
    install_credential_helper,
)
from tls_support import make_flawed_certs

from servers.fakes import Answer, Script, run_garbage_server, run_scripted, run_stalling_server
from servers.pki import Pki
from servers.registry import RegistryTLS, run_registry
from tagpilot.adapters.registry import (
    Credentials,
    Limits,
    RegistryClient,
    TLSConfig,
    scan_blocking,
)
from tagpilot.adapters.registry.blocking import ENVIRONMENT_PROXIES, can_list_directly
from tagpilot.core.errors import TagpilotError
from tagpilot.core.imageref import parse_repository

TAGS_PATH = "/v2/team/app/tags/list"


@dataclass(frozen=True)
class Setup:
    """How both clients are built for one scenario."""

    credentials: Credentials | None = None
    tls: TLSConfig | None = None
    timeout: float = 5.0
    limits: Limits = FAST_RETRIES


def _outcome(run: Callable[[], tuple[tuple[str, ...], int]]) -> tuple[str, object]:
    try:
        tags, dropped = run()
    except TagpilotError as error:
        return type(error).__name__, str(error)
    return "tags", (tags, dropped)


async def _both(
    image: str, setup: Setup, between: Callable[[], None]
) -> tuple[tuple[str, object], tuple[str, object]]:
    """(async client's outcome, synchronous lister's outcome) for ``image``."""
    repository = parse_repository(image, insecure=False, field=None)
    async_result: tuple[str, object]
    try:
        client = RegistryClient(
            credentials=setup.credentials,
            tls=setup.tls,
            timeout=setup.timeout,
            limits=setup.limits,
        )
        async with client:
            scanned = await client.scan_tags(repository)
        async_result = "tags", (scanned.tags, scanned.dropped)
    except TagpilotError as error:
        async_result = type(error).__name__, str(error)
    between()

    def blocking() -> tuple[tuple[str, ...], int]:
        scanned = scan_blocking(
            repository,
            credentials=setup.credentials,
            tls=setup.tls,
            timeout=setup.timeout,
            limits=setup.limits,
        )
        return scanned.tags, scanned.dropped

    return async_result, _outcome(blocking)


async def _assert_same(
    image: str, setup: Setup = Setup(), between: Callable[[], None] = lambda: None
) -> tuple[str, object]:
    """Both clients' outcome, asserted equal; ``between`` resets a scripted server."""
    expected, got = await _both(image, setup, between)
    assert got == expected
    return got


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        pytest.param("team/app", "tags", id="listing"),
        pytest.param("edge/empty", "tags", id="emptied-repository"),
        pytest.param("no/such", "RepositoryNotFoundError", id="unknown-repository"),
    ],
)
async def test_a_plain_registry_answers_the_same(
    plain_registry: Seeded, path: str, kind: str
) -> None:
    got = await _assert_same(f"{plain_registry.host}/{path}")
    assert got[0] == kind


def _config(host: str, **entry: str) -> Credentials:
    return Credentials.from_dockerconfigjson(
        docker_config(host, **entry), source="Secret flux-system/regcred"
    )


@pytest.mark.parametrize(
    ("entry", "kind"),
    [
        pytest.param(basic_entry(), "tags", id="right-password"),
        pytest.param(basic_entry(password="wrong-Pa55"), "RegistryAuthError", id="wrong-password"),
        pytest.param(None, "RegistryAuthError", id="no-credentials"),
    ],
)
async def test_basic_auth_answers_the_same(
    basic_registry: Seeded, entry: dict[str, str] | None, kind: str
) -> None:
    credentials = _config(basic_registry.host, **entry) if entry else None
    got = await _assert_same(f"{basic_registry.host}/private/app", Setup(credentials))
    assert got[0] == kind
    assert PASSWORD not in str(got[1])


async def test_a_secret_without_the_host_is_named_the_same(basic_registry: Seeded) -> None:
    credentials = _config("ghcr.io", **basic_entry())
    got = await _assert_same(f"{basic_registry.host}/private/app", Setup(credentials))
    assert "has none for" in str(got[1])


@pytest.mark.parametrize(
    ("fixture", "path", "with_credentials", "kind"),
    [
        pytest.param("token_registry", "tok/app", False, "tags", id="anonymous-token"),
        pytest.param("private_token_registry", "closed/app", True, "tags", id="password-token"),
        pytest.param(
            "private_token_registry", "closed/app", False, "RegistryAuthError", id="refused"
        ),
    ],
)
async def test_the_bearer_token_flow_answers_the_same(
    request: pytest.FixtureRequest, fixture: str, path: str, with_credentials: bool, kind: str
) -> None:
    registry: TokenRegistry = request.getfixturevalue(fixture)
    host = registry.seeded.host
    credentials = _config(host, **basic_entry()) if with_credentials else None
    got = await _assert_same(f"{host}/{path}", Setup(credentials))
    assert got[0] == kind


@pytest.mark.parametrize(
    ("answers", "kind"),
    [
        pytest.param({"HOST": {"Username": USER, "Secret": PASSWORD}}, "tags", id="helper-has-it"),
        pytest.param({}, "RegistryAuthError", id="helper-has-nothing"),
    ],
)
async def test_a_credential_helper_is_asked_the_same(
    basic_registry: Seeded,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    answers: dict[str, dict[str, str]],
    kind: str,
) -> None:
    host = basic_registry.host
    table = {host if key == "HOST" else key: value for key, value in answers.items()}
    install_credential_helper(tmp_path, "tagpilot-sync", table)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    credentials = Credentials.from_dockerconfigjson({"credsStore": "tagpilot-sync"})
    got = await _assert_same(f"{host}/private/app", Setup(credentials))
    assert got[0] == kind


def _tls(pki: Pki, *, ca: Path | None = None, client: bool = False) -> TLSConfig:
    return TLSConfig(
        ca_pem=(ca or pki.ca_cert).read_bytes(),
        cert_pem=pki.client_cert.read_bytes() if client else None,
        key_pem=pki.client_key.read_bytes() if client else None,
        source="secret registry-tls",
    )


@pytest.mark.usefixtures("no_ca_environment")
@pytest.mark.parametrize(
    ("fixture", "path", "tls", "kind"),
    [
        pytest.param("tls_registry", "secure/app", "ca", "tags", id="ca-given"),
        pytest.param("tls_registry", "secure/app", None, "RegistryTLSError", id="system-store"),
        pytest.param("tls_registry", "secure/app", "other-ca", "RegistryTLSError", id="wrong-ca"),
        pytest.param("mtls_registry", "mutual/app", "client", "tags", id="client-certificate"),
        pytest.param("mtls_registry", "mutual/app", "ca", "RegistryTLSError", id="no-client-cert"),
    ],
)
async def test_tls_answers_the_same(
    request: pytest.FixtureRequest, pki: Pki, fixture: str, path: str, tls: str | None, kind: str
) -> None:
    registry: Seeded = request.getfixturevalue(fixture)
    config = {
        None: None,
        "ca": _tls(pki),
        "other-ca": _tls(pki, ca=pki.other_ca_cert),
        "client": _tls(pki, client=True),
    }[tls]
    got = await _assert_same(f"{registry.host}/{path}", Setup(tls=config))
    assert got[0] == kind


@pytest.fixture(scope="module")
def expired_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, TLSConfig]]:
    """A real TLS registry with an expired certificate, and the CA that issued it."""
    certs = make_flawed_certs(tmp_path_factory.mktemp("expired-certs"))
    cert, key = certs.by_flaw["expired"]
    directory = tmp_path_factory.mktemp("registry-expired")
    with run_registry(directory, tls=RegistryTLS(cert=cert, key=key)) as registry:
        yield registry.host, TLSConfig(ca_pem=certs.ca_cert.read_bytes(), source="secret tls")


@pytest.mark.usefixtures("no_ca_environment")
async def test_an_expired_certificate_is_named_the_same(
    expired_registry: tuple[str, TLSConfig],
) -> None:
    host, tls = expired_registry
    got = await _assert_same(f"{host}/secure/app", Setup(tls=tls))
    assert "certificate expired on" in str(got[1])


@pytest.mark.usefixtures("no_ca_environment")
async def test_a_plain_http_realm_for_an_https_registry_is_refused_the_same(
    https_registry_with_http_realm: tuple[str, Script], pki: Pki
) -> None:
    host, realm_server = https_registry_with_http_realm
    setup = Setup(_config(host, **basic_entry()), _tls(pki))
    got = await _assert_same(f"{host}/closed/app", setup)
    assert "token service on plain HTTP" in str(got[1])
    assert realm_server.requests == [], "nothing may be sent to the cleartext realm"


def _tags(*tags: str, link: str | None = None) -> Answer:
    headers = [("Content-Type", "application/json")] + ([("Link", link)] if link else [])
    return Answer(200, json.dumps({"name": "team/app", "tags": list(tags)}).encode(), headers)


def _gzipped(body: bytes, encoding: str = "gzip") -> Answer:
    headers = [("Content-Type", "application/json"), ("Content-Encoding", encoding)]
    return Answer(200, gzip.compress(body), headers)


class _Pages:
    """Answers the tag list with ``answers`` in turn (the last one repeats) until reset."""

    def __init__(self, answers: list[Answer]) -> None:
        self._answers = answers
        self._next = 0

    def __call__(self, method: str, path: str) -> Answer:
        if not path.startswith(TAGS_PATH):
            return Answer(404)
        answer = self._answers[min(self._next, len(self._answers) - 1)]
        self._next += 1
        return answer

    def reset(self) -> None:
        self._next = 0


_BOMB = b'{"tags": ["' + b"a" * (3 * 1024 * 1024) + b'"]}'
SCRIPTED = {
    "retried-503": [Answer(503, headers=[("Retry-After", "0")]), _tags("1.0.0")],
    "persistent-500": [Answer(500)],
    "long-retry-after": [Answer(429, headers=[("Retry-After", "3600")])],
    "unexpected-status": [Answer(418, b'{"errors": [{"code": "TEAPOT"}]}')],
    "401-without-challenge": [Answer(401)],
    "html-page": [Answer(200, b"<html>oops</html>")],
    "tags-numbers": [Answer(200, b'{"tags": [1, 2]}')],
    "relative-link": [_tags("1.0.0", link=f'<{TAGS_PATH}?last=1.0.0>; rel="next"'), _tags("2.0.0")],
    "link-elsewhere": [_tags("1.0.0", link='<http://other.example/v2/x>; rel="next"')],
    "link-loop": [_tags("1.0.0", link=f'<{TAGS_PATH}>; rel="next"')],
    "bad-tags-dropped": [_tags("1.0.0", "bad\x1b[31mtag", "line\nbreak")],
    "gzip": [_gzipped(json.dumps({"tags": list(APP_TAGS)}).encode())],
    "gzip-bomb": [_gzipped(_BOMB)],
    "truncated-gzip": [
        Answer(200, gzip.compress(b'{"tags": []}')[:-6], [("Content-Encoding", "gzip")])
    ],
    "unknown-encoding": [_gzipped(b'{"tags": []}', encoding="br")],
}


@pytest.mark.parametrize("name", list(SCRIPTED))
async def test_a_scripted_registry_answers_the_same(name: str) -> None:
    limits = Limits(
        max_attempts=3,
        backoff_base=0.01,
        backoff_cap=0.05,
        max_retry_after=2,
        max_response_bytes=1024 * 1024,
    )
    pages = _Pages(SCRIPTED[name])
    with run_scripted(Script(pages)) as base:
        image = f"{base.removeprefix('http://')}/team/app"
        await _assert_same(image, Setup(limits=limits), pages.reset)


async def _assert_alike(image: str, setup: Setup = Setup()) -> tuple[str, str]:
    """Both clients' outcome: the same kind and message up to the socket library's detail."""
    expected, got = await _both(image, setup, lambda: None)
    assert got[0] == expected[0]
    kind, message = got[0], str(got[1])
    assert message.partition(": ")[0] == str(expected[1]).partition(": ")[0]
    assert "\r" not in message
    return kind, message


async def test_a_server_that_does_not_speak_http_fails_alike() -> None:
    with run_garbage_server() as host:
        kind, message = await _assert_alike(f"{host}/team/app")
    assert kind == "MalformedResponseError"
    line = "'SSH-2.0-OpenSSH_9.2 not http'"
    assert message == f"registry {host} sent invalid HTTP: illegal status line: {line}"


async def test_a_stalling_registry_times_out_the_same() -> None:
    with run_stalling_server() as host:
        got = await _assert_same(f"{host}/team/app", Setup(timeout=1))
    assert "timed out after 1s" in str(got[1])


async def test_nothing_listening_is_unavailable_alike(unused_tcp_port: int) -> None:
    kind, message = await _assert_alike(f"127.0.0.1:{unused_tcp_port}/team/app")
    assert kind == "RegistryUnavailableError"
    assert message.startswith(f"cannot reach registry 127.0.0.1:{unused_tcp_port}: ")


@pytest.mark.parametrize(
    ("proxy", "environment", "direct"),
    [
        pytest.param(None, {}, True, id="no-proxy"),
        pytest.param("http://proxy:3128", {}, False, id="explicit-proxy"),
        pytest.param(None, {"HTTPS_PROXY": "http://proxy:3128"}, False, id="https-proxy-env"),
        pytest.param(None, {"http_proxy": "http://proxy:3128"}, False, id="http-proxy-env"),
        pytest.param(None, {"ALL_PROXY": "socks5://proxy:1080"}, False, id="all-proxy-env"),
    ],
)
def test_only_a_direct_connection_is_listed_without_the_async_client(
    monkeypatch: pytest.MonkeyPatch, proxy: str | None, environment: dict[str, str], direct: bool
) -> None:
    for name in ENVIRONMENT_PROXIES:
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert can_list_directly(proxy) is direct
