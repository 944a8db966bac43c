"""Sprig's ``semver`` and ``semverCompare`` (Masterminds semver v3, as ImagePolicy ranges)."""

from __future__ import annotations

import pytest
from message_testing import Render

from tagpilot.core.message import TemplateExecutionError

P = pytest.param

SEMVER = [
    P(
        '{{ semverCompare "^1.2.0" "1.2.3" }} {{ semverCompare ">1.2.3" "1.2.3" }}',
        "true false",
        id="semverCompare",
    ),
    P(
        '{{ semverCompare "~1.2" "1.2.9" }} {{ semverCompare ">=1.0.0 <2.0.0 || 3.x" "3.1.0" }}',
        "true true",
        id="semverCompare-ranges",
    ),
    P(
        '{{ semverCompare "^1.0.0" "1.1.0-rc.1" }} {{ semverCompare "^1.0.0-0" "1.1.0-rc.1" }}',
        "false true",
        id="semverCompare-prereleases-opt-in",
    ),
    P(
        '{{ $v := semver "v1.2.3-rc.1+build.5" }}{{ $v.Major }}.{{ $v.Minor }}.{{ $v.Patch }} '
        "{{ $v.Prerelease }} {{ $v.Metadata }} {{ $v.Original }}",
        "1.2.3 rc.1 build.5 v1.2.3-rc.1+build.5",
        id="semver-fields",
    ),
    P(
        '{{ semver "v1.2" }} {{ typeOf (semver "1.0.0") }}',
        "1.2.0 *semver.Version",
        id="semver-prints-normalised",
    ),
    P(
        '{{ (semver "1.2.3").Compare (semver "1.3.0") }} '
        '{{ (semver "2.0.0").GreaterThan (semver "1.9.9") }}',
        "-1 true",
        id="semver-compare-methods",
    ),
    P(
        '{{ (semver "1.0.0+a").Equal (semver "1.0.0+b") }} '
        '{{ (semver "1.0.0").LessThan (semver "1.0.0-rc.1") }}',
        "true false",
        id="semver-equal-ignores-metadata",
    ),
    P(
        '{{ (semver "v1.2.3-rc.1").IncPatch }} {{ (semver "v1.2.3").IncPatch.Original }} '
        '{{ (semver "1.2.3").IncMinor }} {{ (semver "1.2.3").IncMajor }}',
        "1.2.3 v1.2.4 1.3.0 2.0.0",
        id="semver-increments",
    ),
    P('{{ toJson (semver "1.2.3") }}', '"1.2.3"', id="semver-json"),
]


@pytest.mark.parametrize(("template", "expected"), SEMVER)
def test_semver_functions_give_sprigs_results(render: Render, template: str, expected: str) -> None:
    assert render(template) == expected


@pytest.mark.parametrize(
    ("template", "detail"),
    [
        P(
            '{{ semver "banana" }}',
            "error calling semver: Invalid Semantic Version",
            id="bad-version",
        ),
        P(
            '{{ semverCompare "^1" "banana" }}',
            "Invalid Semantic Version",
            id="bad-version-to-compare",
        ),
        P(
            '{{ semverCompare "> banana" "1.0.0" }}',
            "improper constraint: > banana",
            id="bad-range",
        ),
        P(
            '{{ (semver "1.0.0").Compare "1.0.0" }}',
            'can\'t handle "1.0.0" for arg of type *semver.Version',
            id="method-argument-type",
        ),
    ],
)
def test_semver_errors_read_as_masterminds(render: Render, template: str, detail: str) -> None:
    with pytest.raises(TemplateExecutionError) as caught:
        render(template)
    assert detail in str(caught.value)
