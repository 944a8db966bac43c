"""Checks on the ref names, refspecs and push options a user gives, before git sees them.

Called by :mod:`.flow` before any git command runs.  git reads an argument that starts with
``-`` as an option (``--mirror`` as a refspec made a mirror push: force plus prune), and
refuses newlines in push options only after connecting; so every user value is checked
here against git's own rules (``git check-ref-format``), and a bad one stops the run with a
:class:`StalledError` naming the field and the value.  The commands also end their options
with ``--`` (or ``--end-of-options``), so a value that slipped through is still not an option.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from tagpilot.core.errors import StalledError
from tagpilot.ports import CheckoutRef, PushSpec

__all__ = ["check_checkout", "check_push", "ref_name_problem", "refspec_problem"]

_REASON = "GitOperationFailed"
_FORBIDDEN_CHARS = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]")
_COMMIT = re.compile(r"[0-9a-fA-F]{4,64}")


def ref_name_problem(name: str, *, glob: bool = False) -> str | None:
    """Why ``name`` is not a ref name git accepts (None when it is); ``*`` once if ``glob``."""
    if not name:
        return "is empty"
    if name.startswith("-"):
        return "starts with '-' (git would read it as an option)"
    checked = name.replace("*", "", 1) if glob else name
    if bad := _FORBIDDEN_CHARS.search(checked):
        return f"contains {bad.group()!r}, which git does not allow in a ref name"
    return _shape_problem(name)


def _shape_problem(name: str) -> str | None:
    if name == "@" or "@{" in name:
        return "contains '@{' or is '@'"
    if ".." in name or "//" in name:
        return "contains '..' or '//'"
    if name.startswith("/") or name.endswith(("/", ".")):
        return "starts with '/' or ends with '/' or '.'"
    for part in name.split("/"):
        if part.startswith(".") or part.endswith(".lock"):
            return "has a part that starts with '.' or ends with '.lock'"
    return None


def refspec_problem(refspec: str) -> str | None:
    """Why ``refspec`` is not a ``[+]<src>:<dst>`` push refspec (None when it is)."""
    body = refspec.removeprefix("+")
    if body.count(":") != 1:
        return "must be '<src>:<dst>' with exactly one ':'"
    source, destination = body.split(":")
    globbed = "*" in source or "*" in destination
    if globbed and (source.count("*") != 1 or destination.count("*") != 1):
        return "must have one '*' on each side, or none"
    for side, value in (("source", source), ("destination", destination)):
        if problem := ref_name_problem(value, glob=globbed):
            return f"{side} {value!r} {problem}"
    return None


def check_push(spec: PushSpec | None) -> None:
    """Raise :class:`StalledError` for a bad ``spec.git.push`` branch, refspec or option."""
    if spec is None:
        return
    if spec.branch and (problem := ref_name_problem(spec.branch)):
        raise _invalid("spec.git.push.branch", spec.branch, problem)
    if spec.refspec and (problem := refspec_problem(spec.refspec)):
        raise _invalid("spec.git.push.refspec", spec.refspec, problem)
    _check_options(spec.options)


def _check_options(options: Mapping[str, str]) -> None:
    for key, value in options.items():
        if not key:
            raise _invalid("spec.git.push.options", key, "has an empty key")
        for text in (key, value):
            if any(ord(char) < 0x20 or char == "\x7f" for char in text):
                raise _invalid(
                    f"spec.git.push.options[{key!r}]", text, "contains a control character"
                )


def check_checkout(ref: CheckoutRef | None) -> None:
    """Raise :class:`StalledError` for a checkout ref git would misread."""
    if ref is None:
        return
    for field in ("branch", "tag", "name"):
        value = getattr(ref, field)
        if value and (problem := ref_name_problem(value)):
            raise _invalid(_checkout_field(field), value, problem)
    if ref.commit and not _COMMIT.fullmatch(ref.commit):
        raise _invalid(_checkout_field("commit"), ref.commit, "is not a hexadecimal commit SHA")


def _checkout_field(name: str) -> str:
    return f"spec.git.checkout.ref.{name} (or the GitRepository's spec.ref.{name})"


def _invalid(field: str, value: str, problem: str) -> StalledError:
    return StalledError(f"invalid {field}: {value!r} {problem}", reason=_REASON)
