"""Post-build substitution renders what Flux's kustomize-controller renders, errors included."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from tagpilot.core.errors import StalledError
from tagpilot.core.kustomize.envsubst import (
    SubstitutionError,
    expand,
    merge_variables,
    secret_variables,
    substitute_object,
    validate_variable_names,
)

VARS = {
    "name": "abcdEFGH28ij",
    "upper": "ABCDEFGH28IJ",
    "path": "/home/bozo/ideas/thoughts.for.today",
    "file": "bash.string.txt",
    "slashed": "/path/to/file",
    "z": "abcABC123ABCabc",
    "empty": "",
    "dflt": "foo",
    "url": "foo/bar/baz",
}


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        pytest.param("plain text", "plain text", id="text-only"),
        pytest.param("${name}", "abcdEFGH28ij", id="bare-reference"),
        pytest.param("a-${name}-b", "a-abcdEFGH28ij-b", id="reference-inside-text"),
        pytest.param("$name", "$name", id="dollar-without-braces-is-text"),
        pytest.param("$${name}", "${name}", id="double-dollar-escapes"),
        pytest.param("$$${name}", "$abcdEFGH28ij", id="escaped-dollar-then-reference"),
        pytest.param("$$$${name}", "$${name}", id="two-escaped-dollars"),
        pytest.param("price: 5$", "price: 5$", id="trailing-dollar-is-text"),
        pytest.param("${#name}", "12", id="length"),
        pytest.param("${name^}", "AbcdEFGH28ij", id="upper-first"),
        pytest.param("${name^^}", "ABCDEFGH28IJ", id="upper-all"),
        pytest.param("${upper,}", "aBCDEFGH28IJ", id="lower-first"),
        pytest.param("${upper,,}", "abcdefgh28ij", id="lower-all"),
        pytest.param("${path:11}", "ideas/thoughts.for.today", id="substring-from"),
        pytest.param("${path:11:5}", "ideas", id="substring-from-length"),
        pytest.param(
            "${name:-3}", "abcdEFGH28ij", id="colon-dash-is-a-default-not-a-negative-offset"
        ),
        pytest.param("${name:1:-1}", "bcdEFGH28i", id="substring-negative-length"),
        pytest.param("${name:50}", "", id="substring-past-the-end"),
        pytest.param("${name:x}", "abcdEFGH28ij", id="substring-unparsable-offset-keeps-value"),
        pytest.param("${file#*.}", "string.txt", id="trim-shortest-prefix"),
        pytest.param("${file##*.}", "txt", id="trim-longest-prefix"),
        pytest.param("${slashed##*/}", "file", id="glob-star-crosses-slashes"),
        pytest.param("${file%.*}", "bash.string", id="trim-shortest-suffix"),
        pytest.param("${file%%.*}", "bash", id="trim-longest-suffix"),
        pytest.param("${file#b?s}", "h.string.txt", id="trim-question-mark"),
        pytest.param("${file#[ab]*.}", "string.txt", id="trim-character-class"),
        pytest.param("${file#nomatch}", "bash.string.txt", id="trim-without-match"),
        pytest.param("${z/abc/xyz}", "xyzABC123ABCabc", id="replace-first"),
        pytest.param("${z//abc/xyz}", "xyzABC123ABCxyz", id="replace-all"),
        pytest.param("${z/#abc/XYZ}", "XYZABC123ABCabc", id="replace-prefix"),
        pytest.param("${z/%abc/XYZ}", "abcABC123ABCXYZ", id="replace-suffix"),
        pytest.param("${z/#/pre-}", "pre-abcABC123ABCabc", id="replace-empty-prefix-prepends"),
        pytest.param("${z/%/-post}", "abcABC123ABCabc-post", id="replace-empty-suffix-appends"),
        pytest.param("${z/abc/}", "ABC123ABCabc", id="replace-with-nothing"),
        pytest.param("${z/#abc/}", "abcABC123ABCabc", id="replace-prefix-needs-a-replacement"),
        pytest.param("${url//\\//-}", "foo-bar-baz", id="replace-escaped-slash"),
        pytest.param("${unset=xyz}", "xyz", id="equals-default-when-unset"),
        pytest.param("${name=xyz}", "abcdEFGH28ij", id="equals-default-unused"),
        pytest.param("${unset:=xyz}", "xyz", id="colon-equals-default"),
        pytest.param("${unset:-xyz}", "xyz", id="colon-dash-default"),
        pytest.param("${empty:-xyz}", "xyz", id="default-also-when-empty"),
        pytest.param("${empty=xyz}", "xyz", id="equals-default-also-when-empty"),
        pytest.param("${name:+xyz}", "abcdEFGH28ij", id="colon-plus-behaves-as-default"),
        pytest.param("${unset:?xyz}", "xyz", id="colon-question-behaves-as-default"),
        pytest.param("${unset:-}", "", id="empty-default"),
        pytest.param("${unset=${dflt}}", "foo", id="nested-default"),
        pytest.param("${unset=pre${dflt}-post}", "prefoo-post", id="nested-default-with-text"),
        pytest.param("${unset=${name^^}}", "ABCDEFGH28IJ", id="nested-operator-in-default"),
        pytest.param("$${unset=${dflt}}", "${unset=foo}", id="escaped-outer-nested-inner"),
        pytest.param("${empty}", "", id="defined-but-empty"),
        pytest.param("\\\\x ${dflt}", "\\\\x foo", id="backslashes-outside-are-text"),
    ],
)
def test_each_operator_expands_like_flux(template: str, expected: str) -> None:
    assert expand(template, VARS) == expected


@pytest.mark.parametrize(
    "template",
    [
        pytest.param("${missing}", id="bare"),
        pytest.param("${#missing}", id="length"),
        pytest.param("${missing^^}", id="upper"),
        pytest.param("${missing,,}", id="lower"),
        pytest.param("${missing:0:3}", id="substring"),
        pytest.param("${missing#x}", id="trim"),
        pytest.param("${missing//a/b}", id="replace"),
        pytest.param("${dflt:=${missing}}", id="inside-a-default"),
    ],
)
def test_strict_mode_refuses_an_undefined_variable(template: str) -> None:
    with pytest.raises(SubstitutionError, match=r'variable not set \(strict mode\): "missing"'):
        expand(template, VARS)


def test_without_strict_mode_an_undefined_variable_is_empty() -> None:
    assert expand("a${missing}b${#missing}", VARS, strict=False) == "ab0"


@pytest.mark.parametrize(
    ("template", "message"),
    [
        pytest.param("${unset-x}", "missing closing brace", id="dash-without-colon"),
        pytest.param("${unset+x}", "missing closing brace", id="plus-without-colon"),
        pytest.param("${name", "missing closing brace", id="unterminated"),
        pytest.param("${}", "unable to parse variable name", id="empty-name"),
        pytest.param("${-x}", "unable to parse variable name", id="operator-without-name"),
        pytest.param("${#}", "bad substitution", id="length-without-name"),
        pytest.param("${name#}", "unable to parse substitution within function", id="empty-trim"),
        pytest.param("${name:}", "unable to parse substitution within function", id="empty-offset"),
        pytest.param("${name/abc}", "bad substitution", id="replace-without-delimiter"),
        pytest.param("${name^x}", "bad substitution", id="casing-with-junk"),
    ],
)
def test_malformed_expressions_fail_with_flux_words(template: str, message: str) -> None:
    with pytest.raises(SubstitutionError, match=message):
        expand(template, VARS)


def test_the_error_family_is_stalled_with_reason_build_failed() -> None:
    with pytest.raises(StalledError) as caught:
        expand("${missing}", {})
    assert caught.value.reason == "BuildFailed"


def deployment(**metadata: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "apps", **metadata},
        "spec": {
            "replicas": "${replicas:=1}",
            "template": {
                "spec": {
                    "containers": [
                        {
                            "name": "app",
                            "image": "ghcr.io/acme/web:${tag}",
                            "env": [{"name": "ON", "value": "${flag}"}],
                        }
                    ]
                }
            },
        },
    }


def container(obj: dict[str, Any]) -> dict[str, Any]:
    return obj["spec"]["template"]["spec"]["containers"][0]  # type: ignore[no-any-return]


def test_an_object_is_substituted_and_parsed_back_with_types() -> None:
    result = substitute_object(deployment(), {"tag": "1.2.3", "flag": "true", "replicas": "3"})
    assert container(result)["image"] == "ghcr.io/acme/web:1.2.3"
    assert result["spec"]["replicas"] == 3
    assert container(result)["env"][0]["value"] is True


def test_the_input_object_is_not_changed() -> None:
    original = deployment()
    substitute_object(original, {"tag": "1", "flag": "x"})
    assert container(original)["image"] == "ghcr.io/acme/web:${tag}"


def test_timestamps_stay_strings_as_in_go_yaml() -> None:
    obj = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "c"},
        "data": {"d": "${day}"},
    }
    assert substitute_object(obj, {"day": "2026-12-02"})["data"]["d"] == "2026-12-02"


@pytest.mark.parametrize(
    "where",
    [pytest.param("labels", id="label"), pytest.param("annotations", id="annotation")],
)
def test_the_disabled_marker_leaves_the_object_alone(where: str) -> None:
    obj = deployment(**{where: {"kustomize.toolkit.fluxcd.io/substitute": "disabled"}})
    assert substitute_object(obj, {"tag": "1"}) == obj


def test_the_disabled_marker_is_case_sensitive() -> None:
    obj = deployment(annotations={"kustomize.toolkit.fluxcd.io/substitute": "Disabled"})
    with pytest.raises(SubstitutionError, match='"flag"'):
        substitute_object(obj, {"tag": "1"})


def test_without_variables_nothing_is_substituted_unless_always() -> None:
    assert container(substitute_object(deployment(), {}))["image"].endswith("${tag}")
    with pytest.raises(SubstitutionError, match="variable not set"):
        substitute_object(deployment(), {}, always=True)


def test_an_undefined_variable_names_the_object_and_the_variable() -> None:
    with pytest.raises(SubstitutionError) as caught:
        substitute_object(deployment(), {"tag": "1"})
    assert str(caught.value) == (
        "var substitution failed for 'Deployment/apps/web': "
        'variable substitution failed: variable not set (strict mode): "flag"'
    )


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("1st", id="leading-digit"),
        pytest.param("a-b", id="dash"),
        pytest.param("é", id="non-ascii"),
    ],
)
def test_invalid_variable_names_are_refused(name: str) -> None:
    with pytest.raises(SubstitutionError, match=f"'{name}' var name is invalid, must match"):
        validate_variable_names({name: "x"})
    with pytest.raises(SubstitutionError, match="var name is invalid"):
        substitute_object(deployment(), {name: "x", "tag": "1", "flag": "1"})


def test_a_value_that_breaks_yaml_fails_as_a_build_error() -> None:
    with pytest.raises(
        SubstitutionError, match="var substitution failed for 'Deployment/apps/web': YAMLToJSON"
    ):
        substitute_object(deployment(), {"tag": "1", "flag": "[unclosed"})


def test_later_sources_win_and_inline_wins_over_all_and_newlines_go() -> None:
    merged = merge_variables(
        [{"a": "from-first", "b": "first"}, {"b": "second\n", "c": "multi\nline\n"}],
        {"a": "inline"},
    )
    assert merged == {"a": "inline", "b": "second", "c": "multiline"}


def test_secret_values_are_decoded_from_base64() -> None:
    data = {"token": base64.b64encode(b"s3cr3t").decode()}
    assert secret_variables(data, where="Secret/vars") == {"token": "s3cr3t"}


def test_undecodable_secret_data_names_the_key_but_never_the_value() -> None:
    with pytest.raises(SubstitutionError) as caught:
        secret_variables({"token": "hunter2!!"}, where="Secret/vars")
    assert "Secret/vars" in str(caught.value) and "token" in str(caught.value)
    assert "hunter2" not in str(caught.value)


def config_map(**data: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": data}


def test_multi_line_and_long_strings_are_substituted_in_place() -> None:
    obj = config_map(script="#!/bin/sh\necho ${greeting}\n", long="word " * 30 + "${greeting}")
    result = substitute_object(obj, {"greeting": "hello world"})["data"]
    assert result["script"] == "#!/bin/sh\necho hello world\n"
    assert result["long"] == "word " * 30 + "hello world"


def test_an_escaped_dollar_in_a_manifest_reaches_the_cluster_as_one_dollar() -> None:
    result = substitute_object(config_map(shell="$${HOME}/bin"), {"unused": "x"})
    assert result["data"]["shell"] == "${HOME}/bin"


def test_a_quoted_substitution_stays_a_string() -> None:
    result = substitute_object(config_map(port="${port}", text="'${port}'"), {"port": "8080"})
    assert result["data"] == {"port": 8080, "text": "'8080'"}
