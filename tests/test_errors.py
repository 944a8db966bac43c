"""The error families: what each carries and how the CLI maps them to exit codes."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from tagpilot.cli.errors import GuardedGroup, exit_code_for
from tagpilot.core.errors import (
    InvalidInputError,
    RetryableError,
    SourceLocation,
    StalledError,
    TagpilotError,
)


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        pytest.param(SourceLocation(), "<input>", id="nothing-known"),
        pytest.param(SourceLocation(file="a.yaml"), "a.yaml", id="file-only"),
        pytest.param(SourceLocation(field="spec.image"), "spec.image", id="field-only"),
        pytest.param(SourceLocation(file="a.yaml", line=7), "a.yaml:7", id="file-and-line"),
        pytest.param(
            SourceLocation(file="a.yaml", line=7, field="spec.interval", value="1x"),
            "a.yaml:7: spec.interval",
            id="file-line-field",
        ),
    ],
)
def test_a_source_location_reads_like_a_compiler_position(
    location: SourceLocation, expected: str
) -> None:
    assert str(location) == expected


def test_an_input_error_is_prefixed_with_its_location_and_keeps_the_bare_detail() -> None:
    error = InvalidInputError("must be one of asc, desc", location=SourceLocation("p.yaml", 3))
    assert str(error) == "p.yaml:3: must be one of asc, desc"
    assert error.detail == "must be one of asc, desc"
    assert isinstance(error, StalledError)


def test_a_retryable_error_carries_its_reason_and_delay() -> None:
    error = RetryableError("rate limited", reason="ReadOperationFailed", retry_after=30.0)
    assert (error.reason, error.retry_after, str(error)) == (
        "ReadOperationFailed",
        30.0,
        "rate limited",
    )


@pytest.mark.parametrize(
    ("error", "code"),
    [
        pytest.param(InvalidInputError("bad"), 2, id="invalid-input-is-2"),
        pytest.param(StalledError("stalled", reason="InvalidPolicy"), 1, id="stalled-is-1"),
        pytest.param(RetryableError("later"), 1, id="retryable-is-1"),
    ],
)
def test_exit_codes_follow_the_error_family(error: TagpilotError, code: int) -> None:
    assert exit_code_for(error) == code


def test_the_guarded_group_prints_one_line_and_no_traceback() -> None:
    @click.group(cls=GuardedGroup)
    def group() -> None:
        """Test group."""

    @group.command()
    def boom() -> None:
        raise InvalidInputError("unknown field 'imgae'", location=SourceLocation("x.yaml", 4))

    result = CliRunner().invoke(group, ["boom"])
    assert result.exit_code == 2
    assert result.output == "error: x.yaml:4: unknown field 'imgae'\n"
