"""``tagpilot run``: the long-running process — scheduler, manifest watcher, HTTP server.

Wires the engine to the scheduler (intervals, triggers, backoff), the watcher (an edited
manifest reloads its objects; a broken edit is reported and the last good objects keep
running), the HTTP server (health, metrics, webhooks, JSON API) and the signals: SIGTERM or
SIGINT stop taking work, let in-flight reconciles (and their git pushes) finish, exit 0.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import structlog

from tagpilot.api.receiver import Receiver
from tagpilot.ports import ObjectKey
from tagpilot.reconcile.outcome import Outcome, ready_condition
from tagpilot.runtime.coalesce import DEFAULT_TRIGGER_GAP, TriggerCoalescer
from tagpilot.runtime.engine import Engine
from tagpilot.runtime.scheduler import Scheduler
from tagpilot.runtime.watch import ManifestWatcher
from tagpilot.server.app import build_app
from tagpilot.server.metrics import Metrics
from tagpilot.server.receivers import ReceiverTable, receiver_entries
from tagpilot.server.serve import bind, serve

__all__ = ["DaemonOptions", "run_daemon"]

log = structlog.get_logger("tagpilot")


@dataclass(frozen=True)
class DaemonOptions:
    """Where to listen and how much to do at once."""

    host: str = "127.0.0.1"
    port: int = 9797
    concurrency: int = 4
    poll_seconds: float = 1.0
    stop_timeout: float = 120.0
    trigger_gap: float = DEFAULT_TRIGGER_GAP
    """Seconds between two webhook/API-triggered runs of one object; a burst is merged."""


class _Daemon:
    def __init__(self, engine: Engine, paths: Sequence[Path], options: DaemonOptions) -> None:
        self.engine, self.paths, self.options = engine, list(paths), options
        self.metrics = Metrics()
        self.receivers = ReceiverTable([])
        self.scheduler = Scheduler(engine, concurrency=options.concurrency, on_result=self.observe)
        self.coalescer = TriggerCoalescer(self.scheduler.trigger, gap=options.trigger_gap)
        self.stop_event = asyncio.Event()
        self.ready = False

    def observe(self, key: ObjectKey, outcome: Outcome, seconds: float) -> None:
        self.metrics.observe(key, outcome, seconds)
        level = log.info if outcome.ready or outcome.error is None else log.warning
        ready = ready_condition(outcome.status)
        level(
            "reconciled",
            kind=key.kind,
            namespace=key.namespace,
            name=key.name,
            ready=ready.status if ready else None,
            message=ready.message if ready else None,
            seconds=round(seconds, 3),
        )
        if any(event.type == "Warning" for event in outcome.events) and outcome.ready:
            for warning in outcome.warnings:  # new findings only: a repeat is not logged again
                log.warning(
                    "needs attention",
                    kind=key.kind,
                    namespace=key.namespace,
                    name=key.name,
                    warning=warning,
                )

    def trigger(self, key: ObjectKey, reason: str, *, requested_at: str | None = None) -> bool:
        """A request from outside (webhook, API): like Flux's ``requestedAt`` annotation, it
        makes the next run act even if the object is not due (a repository rescans)."""
        token = requested_at or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        self.engine.request_reconcile(key, token)
        self.coalescer.request(key, reason)
        return self.scheduler.state_of(key) is not None

    def load_receivers(self) -> None:
        receivers = [self.engine.object(k) for k in self.engine.receiver_keys()]
        entries, problems = receiver_entries(
            [r for r in receivers if isinstance(r, Receiver)], self.engine.ctx.secrets
        )
        for problem in problems:
            log.warning("receiver not served", problem=problem)
        for entry in entries:
            log.info("webhook receiver", receiver=entry.label, path=entry.path)
        self.receivers.replace(entries)

    async def reload(self) -> None:
        result = self.engine.reload(self.paths)
        if result.error is not None:
            log.warning(
                "manifest edit refused; the last good objects keep running", error=result.error
            )
            return
        log.info(
            "manifests reloaded",
            added=[str(k) for k in result.added],
            changed=[str(k) for k in result.changed],
            removed=[str(k) for k in result.removed],
        )
        self.scheduler.on_reload(result)
        for key in result.removed:
            self.metrics.forget(key)
        self.load_receivers()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, self.stop_event.set)
        sock = bind(self.options.host, self.options.port)
        watcher = ManifestWatcher(self.paths, self.reload, poll=self.options.poll_seconds)
        self.load_receivers()
        for warning in self.engine.insecure_warnings():
            log.warning("insecure registry", detail=warning)
        app = build_app(
            self.engine,
            self.trigger,
            self.engine.ctx.store,
            self.metrics,
            self.receivers,
            is_ready=lambda: self.ready,
        )
        server = asyncio.create_task(serve(app, stop=self.stop_event, sock=sock))
        self.scheduler.start()
        watcher.start()
        self.ready = True
        host, port = sock.getsockname()[:2]
        log.info(
            "tagpilot running", address=f"http://{host}:{port}", objects=len(self.engine.keys())
        )
        await self.stop_event.wait()
        log.info("stopping: finishing in-flight work")
        await watcher.stop()
        self.coalescer.cancel()
        finished = await self.scheduler.stop(timeout=self.options.stop_timeout)
        await server
        log.info("stopped", clean=finished)


async def run_daemon(engine: Engine, paths: Sequence[Path], options: DaemonOptions) -> None:
    """Run until SIGTERM/SIGINT; returns after a graceful stop."""
    await _Daemon(engine, paths, options).run()
