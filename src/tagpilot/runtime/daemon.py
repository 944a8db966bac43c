"""``tagpilot run``: the long-running process — scheduler, manifest watcher, HTTP server.

Wires the engine to the scheduler (intervals, triggers, backoff), the watcher (an edited
manifest reloads its objects; a broken edit is reported and the last good objects keep
running), the HTTP server (health, metrics, webhooks, JSON API) and the signals: SIGTERM or
SIGINT stop taking work, cancel scans and cut git fetches short, let git pushes in flight
finish, exit 0; a second signal exits at once (130).
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import structlog

from tagpilot.adapters.git.stopping import NETWORK_WAITS
from tagpilot.api.descriptors import IMAGE_UPDATE
from tagpilot.api.receiver import Receiver
from tagpilot.core.errors import TagpilotError
from tagpilot.core.secrets import SecretValue
from tagpilot.ports import ObjectKey
from tagpilot.reconcile.outcome import Outcome, ready_condition
from tagpilot.runtime.coalesce import DEFAULT_TRIGGER_GAP, TriggerCoalescer
from tagpilot.runtime.engine import Engine
from tagpilot.runtime.logs import install_loop_handler
from tagpilot.runtime.scheduler import Scheduler
from tagpilot.runtime.watch import ManifestWatcher
from tagpilot.server.access import ApiAccess
from tagpilot.server.app import build_api_app, build_app
from tagpilot.server.guard import ConnectionGuard, connection_budget
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
    api_host: str | None = None
    """Where the JSON API listens on its own; None: on the HTTP address, loopback clients only."""
    api_port: int = 0
    api_token: SecretValue | None = field(default=None, repr=False)
    """The API's bearer token; without it the API answers loopback clients only."""

    def interruptible(self, key: ObjectKey) -> bool:
        """Whether a stop cancels ``key``'s reconcile at once: all but automations, which
        may be pushing."""
        return key.kind != IMAGE_UPDATE.kind


class _Daemon:
    def __init__(self, engine: Engine, paths: Sequence[Path], options: DaemonOptions) -> None:
        self.engine, self.paths, self.options = engine, list(paths), options
        self.metrics = Metrics()
        self.receivers = ReceiverTable([])
        self.scheduler = Scheduler(
            engine, concurrency=options.concurrency, on_result=self.observe, on_crash=self.crashed
        )
        self.coalescer = TriggerCoalescer(self.scheduler.trigger, gap=options.trigger_gap)
        self.stop_event = asyncio.Event()
        self.ready = False

    def crashed(self, key: ObjectKey, error: Exception) -> None:
        """A reconcile raised (the state store failed, or a bug): one line with the cause."""
        known = isinstance(error, TagpilotError)
        cause = str(error) if known else f"{type(error).__name__}: {error}"
        frame = error.__traceback__
        while frame is not None and frame.tb_next is not None:
            frame = frame.tb_next
        where = None
        if frame is not None:
            where = f"{os.path.basename(frame.tb_frame.f_code.co_filename)}:{frame.tb_lineno}"
        log.error(
            "reconcile failed" if known else "reconcile crashed",
            kind=key.kind, namespace=key.namespace, name=key.name, error=cause,
            where=None if known else where,
        )  # fmt: skip

    def store_problem(self) -> str | None:
        """Why the state store cannot be written, or None."""
        # SqliteStore records its last write's failure; a store without that record
        # (an in-memory one in tests) is taken as healthy.
        failure = getattr(self.engine.ctx.store, "write_failure", None)
        return failure if isinstance(failure, str) else None

    def on_signal(self) -> None:
        """First SIGTERM/SIGINT: stop gracefully.  Second: exit now."""
        if self.stop_event.is_set():
            log.warning("second stop signal: exiting now")
            os._exit(130)
        self.stop_event.set()

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
        install_loop_handler(loop)
        NETWORK_WAITS.reset()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, self.on_signal)
        servers = self.start_servers()
        watcher = ManifestWatcher(self.paths, self.reload, poll=self.options.poll_seconds)
        self.load_receivers()
        for warning in self.engine.insecure_warnings():
            log.warning("insecure registry", detail=warning)
        self.scheduler.start()
        watcher.start()
        self.ready = True
        await self.stop_event.wait()
        log.info("stopping: cancelling scans and git fetches, letting git pushes finish")
        NETWORK_WAITS.stop()
        await watcher.stop()
        self.coalescer.cancel()
        finished = await self.scheduler.stop(
            timeout=self.options.stop_timeout, interruptible=self.options.interruptible
        )
        await asyncio.gather(*servers)
        log.info("stopped", clean=finished)

    def start_servers(self) -> list[asyncio.Task[None]]:
        """Bind the HTTP address (and the API's own, if any) and serve them in the background."""
        options = self.options
        sock = bind(options.host, options.port)
        api_sock = None
        if options.api_host is not None:
            api_sock = bind(options.api_host, options.api_port, option="--api-address")
        guard = ConnectionGuard(connection_budget())
        access = ApiAccess(options.api_token)
        store = self.engine.ctx.store
        app = build_app(
            self.engine, self.trigger, store, self.metrics, self.receivers,
            is_ready=lambda: self.ready, store_problem=self.store_problem,
            api=None if api_sock is not None else access,
        )  # fmt: skip
        servers = [asyncio.create_task(serve(app, stop=self.stop_event, sock=sock, guard=guard))]
        host, port = sock.getsockname()[:2]
        addresses = {"address": f"http://{host}:{port}"}
        if api_sock is not None:
            api_app = build_api_app(
                self.engine, self.trigger, store, access=access, store_problem=self.store_problem
            )
            serving = serve(api_app, stop=self.stop_event, sock=api_sock, guard=guard)
            servers.append(asyncio.create_task(serving))
            api_host, api_port = api_sock.getsockname()[:2]
            addresses["api_address"] = f"http://{api_host}:{api_port}"
        log.info(
            "tagpilot running", **addresses, objects=len(self.engine.keys()),
            max_connections=guard.max_connections,
        )  # fmt: skip
        return servers


async def run_daemon(engine: Engine, paths: Sequence[Path], options: DaemonOptions) -> None:
    """Run until SIGTERM/SIGINT; returns after a graceful stop."""
    await _Daemon(engine, paths, options).run()
