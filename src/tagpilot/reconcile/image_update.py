"""The ImageUpdateAutomation reconciler: policies → setters in a checkout → commit → push.

Follows image-automation-controller (spec §3): validate the spec, find the GitRepository,
select the namespace's ImagePolicies that have a ``latestRef``, run the git flow with the
setters as its ``apply`` step, and report ``lastAutomationRunTime``, ``lastPushCommit``,
``lastPushTime``, ``observedPolicies`` and ``observedSourceRevision``.  No change, no commit.
A dry run computes the diff and the message and pushes nothing.

Two differences from Flux: after a push the Ready message is the push itself ("pushed commit
'<sha>' to branch '<branch>'", the first line of Flux's event), and markers or files the
setters had to leave alone, and tags moving backwards, are reported (``update_report``).
And it waits while a policy's repository has not been scanned since the run started
(``scan_freshness``), so a restarted daemon never commits from the previous process's tags.

A run whose setter pass would repeat the automation's last up-to-date pass (same base
commit, same entries for every policy its markers name) skips the checkout and the pass
and reports the remembered one (``update_memory``): a new image wakes every automation of
the namespace, and most have no marker for it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from tagpilot.api.automation import ImageUpdateAutomation, ImageUpdateAutomationStatus
from tagpilot.api.descriptors import IMAGE_POLICY, IMAGE_UPDATE
from tagpilot.api.meta import (
    REASON_DEPENDENCY_NOT_READY,
    REASON_INVALID_SOURCE_CONFIGURATION,
    REASON_SOURCE_MANAGER_FAILED,
    REASON_SUCCEEDED,
    ImageRef,
    LabelSelector,
    NamespacedName,
)
from tagpilot.api.source import GitRepository
from tagpilot.core.errors import RetryableError, StalledError, TagpilotError
from tagpilot.core.message import render_commit_message
from tagpilot.core.setters import PolicyTarget, SetterTable, TreeResult
from tagpilot.ports import AutomationRun, CommitSpec, FlowResult, GitUpdate, ObjectKey
from tagpilot.reconcile.context import ReconcileContext
from tagpilot.reconcile.git_access import checkout_ref, git_auth, push_spec, signing_key
from tagpilot.reconcile.outcome import (
    Event,
    Outcome,
    Preview,
    failed_outcome,
    format_time,
    ready_condition,
    success,
)
from tagpilot.reconcile.scan_freshness import unscanned_repositories
from tagpilot.reconcile.update_memory import Chosen, Selection, known_pass
from tagpilot.reconcile.update_report import (
    pushed_summary,
    ready_message,
    update_warnings,
    warning_event,
)

__all__ = ["HELD_BACK", "KIND", "UP_TO_DATE", "reconcile_image_update", "selected_policies"]

KIND = IMAGE_UPDATE.kind
UP_TO_DATE = "repository up-to-date"
SCAN_WAIT = timedelta(seconds=10)
"""How soon an automation waiting for a fresh scan looks again."""
HELD_BACK = "not updated:"
"""How the warning of an automation that waited for its repositories' scans begins."""


async def reconcile_image_update(
    auto: ImageUpdateAutomation,
    ctx: ReconcileContext,
    *,
    generation: int = 1,
    dry_run: bool = False,
) -> Outcome[ImageUpdateAutomationStatus]:
    """Run one automation pass and return its status, events and (dry run) preview.

    Suspension is the caller's decision (the engine): this always reconciles.
    """
    stored = ctx.store.get_status(_key(auto))
    now = ctx.clock.now()
    started = ImageUpdateAutomationStatus(last_automation_run_time=format_time(now))
    try:
        return await _Run(auto, ctx, stored, now, generation, dry_run).run(started)
    except TagpilotError as error:
        previous = _previous(stored)
        return failed_outcome(previous, started, error, generation=generation, now=now)


def _previous(
    stored: dict[str, Any] | None, *, observed: bool = True
) -> ImageUpdateAutomationStatus | None:
    """The stored status (None when absent or unreadable, as ``read_status``).

    Without ``observed``, its ``observedPolicies`` are left out: a run that succeeds writes
    its own, and decoding thousands of them was most of an up-to-date run's cost.
    """
    if not stored:
        return None
    if not observed:
        stored = {k: v for k, v in stored.items() if k != "observedPolicies"}
    try:
        return ImageUpdateAutomationStatus.model_validate(stored)
    except ValidationError:
        return None


def selected_policies(auto: ImageUpdateAutomation, ctx: ReconcileContext) -> dict[str, ImageRef]:
    """Policies of the automation's namespace matching ``policySelector`` with a latestRef."""
    return dict(_chosen(auto, ctx).policies)


def _chosen(auto: ImageUpdateAutomation, ctx: ReconcileContext) -> Chosen:
    """The selected policies' latest images and their setter table, read again only when a
    policy status changed since the last read (a wave of automations woken by one new image
    shares one read)."""
    selection, version = _selection(auto, ctx), ctx.store.status_version(IMAGE_POLICY.kind)
    shared = (auto.namespace, selection.names)
    known = ctx.update_memory.chosen.get(shared)
    if known is not None and known.version == version:
        return known
    # One read for the namespace's latest images: a read and a decode per policy cost more
    # than the rest of an up-to-date run at 5,000 policies.
    latest = ctx.store.status_field(IMAGE_POLICY.kind, auto.namespace, "latestRef")
    policies: dict[str, ImageRef] = {}
    for name in selection.names:
        ref = _image_ref(latest.get(name))
        if ref is not None:
            policies[name] = ref
    table = {f"{auto.namespace}:{name}": _target(ref) for name, ref in policies.items()}
    chosen = Chosen(version, policies, table)
    ctx.update_memory.keep_chosen(shared, chosen)
    return chosen


def _selection(auto: ImageUpdateAutomation, ctx: ReconcileContext) -> Selection:
    key, selector = _key(auto), auto.spec.policy_selector
    known = ctx.update_memory.selections.get(key)
    if known is not None and known.stands(ctx.policies, selector):
        return known
    names = tuple(
        sorted(
            name.name
            for name, policy in ctx.policies.items()
            if name.namespace == auto.namespace and _matches(selector, policy.metadata.labels or {})
        )
    )
    selection = Selection(ctx.policies, selector, names)
    ctx.update_memory.selections[key] = selection
    return selection


def _unscanned(
    auto: ImageUpdateAutomation, ctx: ReconcileContext, policies: Mapping[str, ImageRef]
) -> list[str]:
    """``unscanned_repositories`` of ``policies``; not asked again for the same loaded
    objects once every selected policy's repository was found scanned since the start."""
    key, selection = _key(auto), _selection(auto, ctx)
    if selection.scanned_with is ctx.repositories:
        return []
    waiting = unscanned_repositories(auto.namespace, policies, ctx)
    if not waiting and len(policies) == len(selection.names):
        ctx.update_memory.selections[key] = replace(selection, scanned_with=ctx.repositories)
    return waiting


def _key(auto: ImageUpdateAutomation) -> ObjectKey:
    return ObjectKey(KIND, auto.namespace, auto.name)


@lru_cache(maxsize=16384)
def _target(ref: ImageRef) -> PolicyTarget:
    return PolicyTarget(ref.name, ref.tag, ref.digest or "")


@lru_cache(maxsize=16384)
def _image_ref(text: str | None) -> ImageRef | None:
    """A stored ``latestRef`` (JSON text); None when absent, null or not an image."""
    if text is None:
        return None
    try:
        return ImageRef.model_validate_json(text)
    except ValidationError:
        return None


def _matches(selector: LabelSelector | None, labels: dict[str, str]) -> bool:
    if selector is None:
        return True
    if any(labels.get(k) != v for k, v in (selector.match_labels or {}).items()):
        return False
    for rule in selector.match_expressions or []:
        present, values = rule.key in labels, rule.values or []
        wanted = {
            "In": present and labels.get(rule.key) in values,
            "NotIn": not present or labels.get(rule.key) not in values,
            "Exists": present,
            "DoesNotExist": not present,
        }[rule.operator]
        if not wanted:
            return False
    return True


class _Run:
    """One pass; keeps the last attempt's setter result for the message and the preview."""

    def __init__(
        self,
        auto: ImageUpdateAutomation,
        ctx: ReconcileContext,
        stored: dict[str, Any] | None,
        now: datetime,
        generation: int,
        dry_run: bool,
    ) -> None:
        self.auto, self.ctx, self.stored = auto, ctx, stored
        self.previous = _previous(stored, observed=False)
        self.now, self.generation, self.dry_run = now, generation, dry_run
        self.who = f"{KIND} {auto.namespace}/{auto.name}"
        self.tree = TreeResult()

    async def run(
        self, started: ImageUpdateAutomationStatus
    ) -> Outcome[ImageUpdateAutomationStatus]:
        source = self._source()
        chosen = _chosen(self.auto, self.ctx)
        policies, table = dict(chosen.policies), chosen.table
        waiting = _unscanned(self.auto, self.ctx, policies)
        if waiting:
            return self._deferred(waiting)
        assert self.ctx.git is not None and self.ctx.editor is not None
        editor, path = self.ctx.editor, self.auto.spec.update.path or ""
        passes, key = self.ctx.update_memory.passes, _key(self.auto)
        bases: list[str] = []

        def known_result(base: str) -> bool:
            bases.append(base)
            known = passes.get(key)
            if self.dry_run or known is None or not known.holds(base, path, table):
                return False
            self.tree = known.tree
            return True

        def apply(worktree: Path) -> bool:
            self.tree = editor.update(worktree, path, table, dry_run=self.dry_run)
            self._remember(bases, path, table)
            return bool(self.tree.changes) and not self.dry_run

        result = await self.ctx.git.update(self._request(source, known_result), apply)
        fields = started.model_copy(
            update={
                "observed_policies": policies,
                "observed_source_revision": result.source_revision,
            }
        )
        return self._outcome(result, fields)

    def _remember(self, bases: list[str], path: str, table: SetterTable) -> None:
        """Keep an up-to-date pass for later runs; a dry run's is not kept, nor one made
        without the flow naming its base commit."""
        if self.dry_run or not bases:
            return
        known = known_pass(bases[-1], path, table, self.tree)
        if known is not None:
            self.ctx.update_memory.passes[_key(self.auto)] = known

    def _deferred(self, waiting: list[str]) -> Outcome[ImageUpdateAutomationStatus]:
        """Not now: a policy's tags predate this run; its repository's scan comes first."""
        message = (
            f"{HELD_BACK} ImageRepository {', '.join(waiting)} not scanned since this run "
            "started (a scan still running, or failed); tags scanned earlier are not written"
        )
        status = _previous(self.stored) or ImageUpdateAutomationStatus()
        event = Event("Trace", REASON_DEPENDENCY_NOT_READY, message)
        return Outcome(status, (event,), requeue_after=SCAN_WAIT, warnings=(message,))

    def _source(self) -> GitRepository:
        spec = self.auto.spec
        if spec.git is None:
            raise StalledError(
                "source kind 'GitRepository' necessitates field .spec.git",
                reason=REASON_INVALID_SOURCE_CONFIGURATION,
            )
        ref = spec.source_ref
        wanted = NamespacedName(ref.namespace or self.auto.namespace, ref.name)
        source = self.ctx.git_repositories.get(wanted)
        if source is None:
            raise RetryableError(
                "failed configuring source manager: referenced git repository does not exist: "
                f'GitRepository.source.toolkit.fluxcd.io "{wanted.name}" not found',
                reason=REASON_SOURCE_MANAGER_FAILED,
            )
        return source

    def _request(self, source: GitRepository, known_result: Callable[[str], bool]) -> GitUpdate:
        assert self.auto.spec.git is not None
        author = self.auto.spec.git.commit.author
        commit = CommitSpec(author.name or "", author.email, self._message, self.now)
        return GitUpdate(
            url=source.spec.url,
            auth=git_auth(source, self.ctx.secrets, wanted_by=self.who),
            checkout=checkout_ref(self.auto, source),
            push=push_spec(self.auto),
            commit=commit,
            signing=signing_key(self.auto, self.ctx.secrets, wanted_by=self.who),
            timeout_seconds=source.spec.timeout.seconds,
            known_result=known_result,
        )

    def _message(self) -> str:
        assert self.auto.spec.git is not None
        commit = self.auto.spec.git.commit
        return render_commit_message(
            commit.message_template,
            automation=(self.auto.namespace, self.auto.name),
            changes=self.tree.changes,
            values=commit.message_template_values,
        )

    def _outcome(
        self, result: FlowResult, fields: ImageUpdateAutomationStatus
    ) -> Outcome[ImageUpdateAutomationStatus]:
        preview = None
        if self.dry_run:
            message = self._message() if self.tree.changes else ""
            preview = Preview(dict(self.tree.diffs), message, self.auto.spec.update.path or ".")
        event = Event("Trace", REASON_SUCCEEDED, "no updates made")
        run, base = None, UP_TO_DATE
        if result.pushed_commit:
            run = self._run_record(result)
            fields = fields.model_copy(
                update={
                    "last_push_commit": result.pushed_commit,
                    "last_push_time": format_time(self.now),
                }
            )
            base = pushed_summary(result)
            event = Event("Normal", REASON_SUCCEEDED, f"{base}\n{self._message()}")
        path = self.auto.spec.update.path or ""
        warnings = update_warnings(self.tree, self.ctx.policies, path)
        message = ready_message(base, warnings)
        status = success(
            self.previous,
            fields,
            generation=self.generation,
            reason=REASON_SUCCEEDED,
            message=message,
            now=self.now,
        )
        before = ready_condition(self.previous)
        repeated = before is not None and before.message == message
        warned = warning_event(warnings, repeated=repeated)
        # The warning comes first: it is about the commit the push event announces.
        events = (event,) if warned is None else (warned, event)
        interval = self.auto.spec.interval.timedelta
        return Outcome(
            status, events, requeue_after=interval, preview=preview, run=run, warnings=warnings
        )

    def _run_record(self, result: FlowResult) -> AutomationRun:
        changes = tuple(
            {
                "file": r.file,
                "apiVersion": r.object.api_version,
                "kind": r.object.kind,
                "name": r.object.name,
                "namespace": r.object.namespace,
                "old": r.change.old_value,
                "new": r.change.new_value,
                "setter": r.change.setter,
            }
            for r in self.tree.changes.records
        )
        return AutomationRun(
            self.auto.namespace,
            self.auto.name,
            self.now,
            result.source_revision,
            result.pushed_commit,
            result.pushed_branch,
            changes,
        )
