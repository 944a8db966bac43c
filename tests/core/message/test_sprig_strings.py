"""Sprig's string, word, hash and regular expression functions, by their documented results.

Expected values are Sprig's documentation examples where it has them, otherwise what
Go with Sprig v3 prints for the same template.
"""

from __future__ import annotations

import pytest
from message_testing import Render

from tagpilot.core.message import TemplateExecutionError

P = pytest.param

WORDS = [
    P('{{ abbrev 5 "hello world" }}', "he...", id="abbrev"),
    P('{{ abbrev 3 "hello world" }}', "hello world", id="abbrev-below-four-leaves-text"),
    P('{{ abbrev 20 "hello" }}', "hello", id="abbrev-short-text-unchanged"),
    P('{{ abbrevboth 5 10 "1234 5678 9123" }}', "...5678...", id="abbrevboth"),
    P('{{ abbrevboth 0 10 "1234 5678 9123" }}', "1234 56...", id="abbrevboth-from-start"),
    P('{{ initials "First Try" }}', "FT", id="initials"),
    P('{{ initials "  many   spaces here " }}', "msh", id="initials-runs-of-spaces"),
    P('{{ untitle "Hello World" }}', "hello world", id="untitle"),
    P('{{ swapcase "This Is A.Test" }}', "tHIS iS a.tEST", id="swapcase"),
    P('{{ wrap 5 "Hello World" }}', "Hello\nWorld", id="wrap"),
    P('{{ wrap 3 "a verylongword b" }}', "a\nverylongword\nb", id="wrap-keeps-long-words"),
    P('{{ wrapWith 5 "\\t" "Hello World" }}', "Hello\tWorld", id="wrapWith"),
    P('{{ wrapWith 4 "|" "abcdefghij" }}', "abcd|efgh|ij", id="wrapWith-breaks-long-words"),
    P('{{ camelcase "http_server" }}', "HttpServer", id="camelcase"),
    P('{{ camelcase "_complex__case_" }}', "_Complex_Case_", id="camelcase-keeps-odd-underscores"),
    P('{{ camelcase "GOLANG_IS_GREAT" }}', "GolangIsGreat", id="camelcase-upper-words"),
    P('{{ snakecase "FirstName" }}', "first_name", id="snakecase"),
    P('{{ snakecase "HTTPServer" }}', "http_server", id="snakecase-abbreviation"),
    P('{{ snakecase "NoHTTPS" }}', "no_https", id="snakecase-trailing-abbreviation"),
    P('{{ snakecase "GO PATH" }}', "go_path", id="snakecase-space"),
    P('{{ snakecase "HTTP20xOK" }}', "http_20x_ok", id="snakecase-number-starts-word"),
    P('{{ snakecase "Bld4Floor3rd" }}', "bld4_floor_3rd", id="snakecase-number-ends-word"),
    P('{{ kebabcase "FirstName" }}', "first-name", id="kebabcase"),
    P('{{ kebabcase "GO_PATH" }}', "go-path", id="kebabcase-underscore"),
    P('{{ trimall "$" "$5.00" }} {{ trimAll "$" "$5.00$" }}', "5.00 5.00", id="trimall"),
    P("{{ hello }}", "Hello!", id="hello"),
    P('{{ nospace "hello w o r l d" }}', "helloworld", id="nospace"),
    P('{{ plural "one anchovy" "many anchovies" 1 }}', "one anchovy", id="plural-one"),
    P('{{ len "ab" | plural "one" "many" }}', "many", id="plural-many"),
    P('{{ substr 0 5 "hello world" }} {{ substr 6 -1 "hello world" }}', "hello world", id="substr"),
]

HASHES = [
    P('{{ adler32sum "Hello world!" }}', "487130206", id="adler32sum"),
    P(
        '{{ sha512sum "abc" }}',
        "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
        "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
        id="sha512sum",
    ),
]

REGEX = [
    P('{{ mustRegexMatch "^[a-z]+$" "abc" }}', "true", id="mustRegexMatch"),
    P('{{ regexMatch "(" "abc" }}', "false", id="regexMatch-bad-pattern-is-no-match"),
    P('{{ mustRegexFind "[0-9]+" "ab12cd34" }}', "12", id="mustRegexFind"),
    P('{{ mustRegexFindAll "[2,4,6,8]" "123456789" -1 }}', "[2 4 6 8]", id="mustRegexFindAll"),
    P(
        '{{ mustRegexReplaceAll "a(x*)b" "-ab-axxb-" "${1}W" }}',
        "-W-xxW-",
        id="mustRegexReplaceAll",
    ),
    P(
        '{{ mustRegexReplaceAllLiteral "a(x*)b" "-ab-axxb-" "${1}" }}',
        "-${1}-${1}-",
        id="mustRegexReplaceAllLiteral",
    ),
    P('{{ mustRegexSplit "z+" "pizza" -1 }}', "[pi a]", id="mustRegexSplit"),
    P('{{ regexQuoteMeta "1.2.3" }}', "1\\.2\\.3", id="regexQuoteMeta"),
]


@pytest.mark.parametrize(("template", "expected"), WORDS + HASHES + REGEX)
def test_string_functions_give_sprigs_results(render: Render, template: str, expected: str) -> None:
    assert render(template) == expected


@pytest.mark.parametrize(
    ("template", "detail"),
    [
        P('{{ mustRegexMatch "(" "x" }}', "missing closing ): `(`", id="missing-paren"),
        P('{{ regexFind "[a" "x" }}', "missing closing ]: `[a`", id="missing-bracket"),
        P(
            '{{ mustRegexFindAll "a**" "x" -1 }}',
            "invalid nested repetition operator: `**`",
            id="nested-repetition",
        ),
        P(
            '{{ mustRegexSplit "*" "x" -1 }}',
            "missing argument to repetition operator: `*`",
            id="missing-repetition-argument",
        ),
    ],
)
def test_bad_patterns_fail_with_gos_regexp_error(
    render: Render, template: str, detail: str
) -> None:
    with pytest.raises(TemplateExecutionError) as caught:
        render(template)
    assert "regexp: Compile(`" in str(caught.value)
    assert f"error parsing regexp: {detail}" in str(caught.value)
