"""Byte forms and ``ENC[...]`` strings: the exact text Go sops encrypts and hashes."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from tagpilot.adapters.sops.errors import SopsDecryptError
from tagpilot.adapters.sops.format import (
    EncValue,
    decrypt_scalar,
    encrypt_scalar,
    format_go_float,
    format_go_time,
    from_bytes,
    parse_go_time,
    to_bytes,
    type_name,
)

PLUS_TWO = timezone(timedelta(hours=2))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(1.0, "1", id="integral-float-drops-the-dot"),
        pytest.param(2.50, "2.5", id="trailing-zero-dropped"),
        pytest.param(1e20, "100000000000000000000", id="large-never-exponent"),
        pytest.param(1e-7, "0.0000001", id="small-never-exponent"),
        pytest.param(0.1 + 0.2, "0.30000000000000004", id="shortest-round-trip-digits"),
        pytest.param(-0.0, "-0", id="negative-zero"),
        pytest.param(float("inf"), "+Inf", id="infinity"),
        pytest.param(float("-inf"), "-Inf", id="minus-infinity"),
        pytest.param(float("nan"), "NaN", id="nan"),
    ],
)
def test_floats_are_formatted_like_go_format_float_f(value: float, expected: str) -> None:
    assert format_go_float(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(date(2024, 1, 1), "2024-01-01T00:00:00Z", id="date-is-utc-midnight"),
        pytest.param(datetime(2024, 1, 1, 10, tzinfo=UTC), "2024-01-01T10:00:00Z", id="utc-z"),
        pytest.param(
            datetime(2024, 3, 4, 5, 6, 7, 250000, tzinfo=PLUS_TWO),
            "2024-03-04T05:06:07.25+02:00",
            id="fraction-trimmed-offset-kept",
        ),
        pytest.param(datetime(2024, 1, 1), "2024-01-01T00:00:00Z", id="naive-is-utc"),
    ],
)
def test_times_are_formatted_like_go_marshal_text(value: date, expected: str) -> None:
    assert format_go_time(value) == expected


def test_go_time_text_parses_back_to_the_same_instant() -> None:
    assert parse_go_time("2024-03-04T05:06:07.25+02:00") == datetime(
        2024, 3, 4, 5, 6, 7, 250000, tzinfo=PLUS_TWO
    )


@pytest.mark.parametrize(
    ("value", "type_", "form"),
    [
        pytest.param("pässwörd", "str", "pässwörd".encode(), id="string-utf8"),
        pytest.param(5432, "int", b"5432", id="int-decimal"),
        pytest.param(True, "bool", b"True", id="true-capitalised"),
        pytest.param(False, "bool", b"False", id="false-capitalised"),
        pytest.param(2.5, "float", b"2.5", id="float"),
        pytest.param(date(2024, 1, 1), "time", b"2024-01-01T00:00:00Z", id="date-is-time"),
        pytest.param(None, "str", b"", id="null-contributes-nothing"),
    ],
)
def test_each_type_has_the_sops_byte_form(value: object, type_: str, form: bytes) -> None:
    assert type_name(value) == type_  # type: ignore[arg-type]
    assert to_bytes(value) == form  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["1", "t", "T", "TRUE", "true", "True"], ids=lambda t: f"true-{t}")
def test_bool_plaintext_parses_like_go_parse_bool(text: str) -> None:
    assert from_bytes(text.encode(), "bool") is True


def test_unknown_type_name_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown value type"):
        from_bytes(b"x", "complex")


def test_enc_string_has_32_byte_iv_and_16_byte_tag() -> None:
    key = os.urandom(32)
    text = encrypt_scalar("hunter2", key, "stringData:password:")
    enc = EncValue.parse(text)
    assert (len(enc.iv), len(enc.tag), len(enc.data), enc.type) == (32, 16, 7, "str")
    assert enc.render() == text


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("hunter2", id="str"),
        pytest.param(-17, id="int"),
        pytest.param(2.5, id="float"),
        pytest.param(False, id="bool"),
        pytest.param(datetime(2024, 1, 1, tzinfo=UTC), id="time"),
    ],
)
def test_encrypted_scalar_decrypts_to_the_same_typed_value(value: object) -> None:
    key = os.urandom(32)
    assert decrypt_scalar(encrypt_scalar(value, key, "a:b:"), key, "a:b:")[0] == value  # type: ignore[arg-type]


def test_empty_string_is_never_encrypted() -> None:
    assert encrypt_scalar("", os.urandom(32), "a:") == ""


def test_value_moved_to_another_path_does_not_decrypt() -> None:
    key = os.urandom(32)
    with pytest.raises(SopsDecryptError, match="authentication tag mismatch"):
        decrypt_scalar(encrypt_scalar("x", key, "data:a:"), key, "data:b:")


def test_text_that_is_not_an_enc_value_is_refused() -> None:
    with pytest.raises(SopsDecryptError, match="not an ENC"):
        decrypt_scalar("plain text", os.urandom(32), "a:")
