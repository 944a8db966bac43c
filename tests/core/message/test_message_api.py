"""The package's public surface: exactly what other layers may rely on."""

from __future__ import annotations

from tagpilot.core import message


def test_package_exports_exactly_the_promised_names() -> None:
    assert set(message.__all__) == {
        "DEFAULT_MESSAGE_TEMPLATE",
        "CommitTemplateError",
        "RemovedTemplateFieldError",
        "RenderLimits",
        "TemplateExecutionError",
        "TemplateParseError",
        "render_commit_message",
    }


def test_default_limits_are_64_kib_and_100k_steps() -> None:
    limits = message.RenderLimits()
    assert (limits.max_output_bytes, limits.max_steps, limits.max_template_bytes) == (
        65536,
        100_000,
        65536,
    )
