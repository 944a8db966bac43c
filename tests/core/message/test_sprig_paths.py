"""Sprig's path functions (Go's ``path``, ``path/filepath`` on Linux) and URL functions."""

from __future__ import annotations

import pytest
from message_testing import Render

from tagpilot.core.message import TemplateExecutionError

P = pytest.param

PATHS = [
    P(
        '{{ base "foo/bar/baz" }} {{ base "/a/b/" }} {{ base "" }} {{ base "/" }}',
        "baz b . /",
        id="base",
    ),
    P('{{ dir "foo/bar/baz" }} {{ dir "x" }} {{ dir "/x" }}', "foo/bar . /", id="dir"),
    P(
        '{{ clean "foo/bar/../baz" }} {{ clean "//a/./b/.." }} {{ clean "" }} '
        '{{ clean "../../x" }}',
        "foo/baz /a . ../../x",
        id="clean",
    ),
    P('{{ ext "foo.bar" }} {{ ext "a.tar.gz" }} {{ ext "dir.d/file" }}|', ".bar .gz |", id="ext"),
    P('{{ isAbs "/x" }} {{ isAbs "x/y" }}', "true false", id="isAbs"),
    P(
        '{{ osBase "a/b.yaml" }} {{ osDir "a/b.yaml" }} {{ osClean "a//b" }} '
        '{{ osExt "b.yaml" }} {{ osIsAbs "a" }}',
        "b.yaml a a/b .yaml false",
        id="os-variants-on-linux",
    ),
]

URLS = [
    P(
        '{{ urlParse "proto://auth@host:80/path?query#fragment" }}',
        "map[fragment:fragment host:host:80 hostname:host opaque: path:/path query:query "
        "scheme:proto userinfo:auth]",
        id="urlParse",
    ),
    P('{{ (urlParse "HTTPS://[::1]:8443/a%20b").hostname }}', "::1", id="urlParse-ipv6-host"),
    P(
        '{{ (urlParse "https://h/a%20b").path }} {{ (urlParse "https://h/a%20b").scheme }}',
        "/a b https",
        id="urlParse-unescapes-path",
    ),
    P('{{ (urlParse "mailto:ops@example.com").opaque }}', "ops@example.com", id="urlParse-opaque"),
    P(
        '{{ urlJoin (dict "fragment" "fragment" "host" "host:80" "path" "/path" '
        '"query" "query" "scheme" "proto") }}',
        "proto://host:80/path?query#fragment",
        id="urlJoin",
    ),
    P(
        '{{ urlJoin (dict "scheme" "https" "host" "h" "path" "a b" "userinfo" "u:p@w") }}',
        "https://u:p%40w@h/a%20b",
        id="urlJoin-escapes",
    ),
    P(
        '{{ urlJoin (urlParse "https://u@h:1/p?q=1#f") }}',
        "https://u@h:1/p?q=1#f",
        id="urlParse-urlJoin-round-trip",
    ),
]


@pytest.mark.parametrize(("template", "expected"), PATHS + URLS)
def test_path_and_url_functions_give_sprigs_results(
    render: Render, template: str, expected: str
) -> None:
    assert render(template) == expected


@pytest.mark.parametrize(
    ("template", "detail"),
    [
        P(
            '{{ urlParse "http://h/%zz" }}',
            'unable to parse url: invalid URL escape "%zz"',
            id="bad-escape",
        ),
        P('{{ urlParse ":nope" }}', "missing protocol scheme", id="missing-scheme"),
        P('{{ urlParse "http://h:x/" }}', 'invalid port ":x" after host', id="port"),
        P('{{ urlParse "http://[::1/" }}', "missing ']' in host", id="ipv6-bracket"),
        P(
            '{{ urlParse "a:b/c" | toJson }}{{ urlParse "1a:b" }}',
            "first path segment in URL cannot contain colon",
            id="colon-in-first-segment",
        ),
    ],
)
def test_urlParse_refuses_what_go_refuses(render: Render, template: str, detail: str) -> None:
    with pytest.raises(TemplateExecutionError) as caught:
        render(template)
    assert detail in str(caught.value)
