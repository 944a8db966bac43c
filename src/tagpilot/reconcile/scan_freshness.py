"""Whether an automation's policies rest on tags scanned by this run.

A daemon that starts runs every object at once: an automation could write the latest tag a
policy chose from the tags stored by the previous process, minutes before the repository's
fresh scan finds a newer one — an intermediate commit.  The update reconciler asks
``unscanned_repositories`` first and waits while any of its policies' repositories has not
been scanned since the run started (``ReconcileContext.started_at``).  With
``--respect-intervals`` (``trust_stored_scans``) stored scans count, as in Flux.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from tagpilot.api.meta import NamespacedName
from tagpilot.core.decisions import is_stale
from tagpilot.core.errors import TagpilotError
from tagpilot.core.imageref import parse_repository
from tagpilot.reconcile.context import ReconcileContext

__all__ = ["unscanned_repositories"]


def unscanned_repositories(
    namespace: str, policy_names: Iterable[str], ctx: ReconcileContext
) -> list[str]:
    """``ns/name`` of each repository behind the policies whose tags predate this run."""
    if ctx.trust_stored_scans:
        return []
    # A scan time only moves forward: once scanned since the start, a repository stays so,
    # and the thousands of policies an automation selects need no read on later runs.
    scanned_since_start = ctx.update_memory.scanned
    waiting: set[str] = set()
    for name in policy_names:
        policy = ctx.policies.get(NamespacedName(namespace, name))
        repo = ctx.repositories.get(policy.repository_key) if policy is not None else None
        if policy is None or repo is None:
            continue
        canonical = _canonical_name(repo.spec.image, repo.spec.insecure)
        if canonical is None or canonical in scanned_since_start:
            continue  # an unparsable image: the repository's own reconcile reports it
        # The scan time alone: an automation over 5,000 policies would otherwise decode
        # every repository's whole tag list on each run.
        scanned = ctx.store.get_scan_time(canonical)
        if scanned is None or is_stale(scanned, ctx.started_at):
            waiting.add(str(policy.repository_key))
        else:
            scanned_since_start.add(canonical)
    return sorted(waiting)


@lru_cache(maxsize=16384)
def _canonical_name(image: str, insecure: bool) -> str | None:
    try:
        return parse_repository(image, insecure=insecure).canonical_name
    except TagpilotError:
        return None
