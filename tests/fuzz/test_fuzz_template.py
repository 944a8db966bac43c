"""Fuzz the commit message template engine: only typed errors, and the limits always hold.

Templates come from ImageUpdateAutomation specs, so they are user input that runs inside
the daemon.  Property: ``render_commit_message`` returns a message within
``max_output_bytes`` or raises a ``CommitTemplateError``; every example finishes within
the profile's deadline.
"""

from __future__ import annotations

import pytest
from fuzz_corpus import TEMPLATES
from fuzz_support import PROFILES, Profile, mutated, run_property, tokens_text
from hypothesis import strategies as st

from tagpilot.core.changes import Change, ChangeRecord, ChangeSet, ObjectIdentity
from tagpilot.core.message import CommitTemplateError, RenderLimits, render_commit_message

DEPLOYMENT = ObjectIdentity("apps/v1", "Deployment", "app", "apps")
CHANGES = ChangeSet.of(
    [
        ChangeRecord("deploy.yaml", DEPLOYMENT, Change("app:1.0.0", "app:1.0.1", "apps:app")),
        ChangeRecord("values.yaml", DEPLOYMENT, Change("1.0.0", "1.0.1", "apps:app:tag")),
    ]
)
SMALL = RenderLimits(max_output_bytes=2048, max_steps=5_000, max_template_bytes=4096)

TEMPLATE_TOKENS = [
    *("{{", "}}", "{{-", "-}}", "{{/*", "*/}}", " ", "\n", "|", "(", ")", ":=", "=", ",", "$",
      "$x", "$i", ".", ".Changed", ".Changed.Changes", ".Changed.FileChanges",
      ".Changed.Objects", ".AutomationObject", ".Values", ".Values.env", ".OldValue",
      ".NewValue", ".Updated", "range", "end", "if", "else", "else if", "with", "define",
      "template", "block", "break", "continue", "nil", "true", '"t"', '"%s"', '"%0999999d"',
      "`raw`", "'c'", "1", "-1", "1e9", "0x10", "99999999999", "print", "printf", "println",
      "len", "index", "slice", "eq", "ne", "lt", "and", "or", "not", "call", "html", "js",
      "urlquery", "repeat", "until", "untilStep", "upper", "replace", "join", "split",
      "splitList", "list", "dict", "default", "trim", "nospace", "regexReplaceAll", "add",
      "mul", "seq", "b64enc", "now", "env", "toJson"),
]  # fmt: skip


def _renders_within_limits(case: tuple[str, bool]) -> None:
    template, small = case
    limits = SMALL if small else RenderLimits()
    try:
        message = render_commit_message(
            template, automation=("apps", "app"), changes=CHANGES, values={"env": "prod"},
            limits=limits,
        )  # fmt: skip
    except CommitTemplateError as error:
        assert str(error)
        return
    assert len(message.encode("utf-8", "surrogatepass")) <= limits.max_output_bytes


@pytest.mark.parametrize("profile", PROFILES)
def test_templates_from_token_soup_render_or_fail_typed(profile: Profile) -> None:
    soup = tokens_text(TEMPLATE_TOKENS, max_size=40)
    run_property(profile, st.tuples(soup, st.booleans()), _renders_within_limits)


@pytest.mark.parametrize("profile", PROFILES)
def test_mutated_documented_templates_render_or_fail_typed(profile: Profile) -> None:
    variants = mutated(TEMPLATES, TEMPLATE_TOKENS)
    run_property(profile, st.tuples(variants, st.booleans()), _renders_within_limits)
