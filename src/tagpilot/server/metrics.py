"""Prometheus metrics of the daemon, in a registry of its own.

Reconcile metrics come from the typed outcome alone (:meth:`Metrics.observe`): its error
family, the registry calls it made, the tag count in its status, the push it recorded; a
reload that removes objects drops their series (:meth:`Metrics.forget`).  Webhooks are
counted as they arrive.  ``GET /metrics`` renders :meth:`Metrics.render`.  Each
``Metrics`` owns a fresh ``CollectorRegistry`` (never prometheus-client's global one), so
several daemons or tests in one process never share counters.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

from tagpilot.api.descriptors import IMAGE_REPOSITORY
from tagpilot.api.image import ImageRepositoryStatus
from tagpilot.core.errors import StalledError
from tagpilot.ports import ObjectKey
from tagpilot.reconcile.outcome import Outcome

__all__ = ["METRICS_CONTENT_TYPE", "RECONCILE_BUCKETS", "Metrics"]

METRICS_CONTENT_TYPE = CONTENT_TYPE_LATEST
"""The Prometheus text exposition content type."""

RECONCILE_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
"""Reconcile duration buckets in seconds: a cached scan to a slow clone and push."""


class Metrics:
    """The counters, gauges and histograms the runtime updates, and their rendering."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._reconciles = Counter(
            "tagpilot_reconcile",
            "Reconciles finished, by kind and result (success, retry, stalled).",
            ["kind", "result"],
            registry=self.registry,
        )
        self._durations = Histogram(
            "tagpilot_reconcile_duration_seconds",
            "How long reconciles took, by kind.",
            ["kind"],
            buckets=RECONCILE_BUCKETS,
            registry=self.registry,
        )
        self._registry_requests = Counter(
            "tagpilot_registry_requests",
            "Registry operations (tag listings, digest lookups) by host and result "
            "(ok, or the error's reason).",
            ["host", "status"],
            registry=self.registry,
        )
        self._tags = Gauge(
            "tagpilot_repository_tags",
            "Tags found by the last scan of each ImageRepository.",
            ["namespace", "name"],
            registry=self.registry,
        )
        self._pushes = Counter(
            "tagpilot_pushes", "Git pushes by result.", ["result"], registry=self.registry
        )
        self._webhooks = Counter(
            "tagpilot_webhook_deliveries",
            "Webhook deliveries by receiver (namespace/name) and result.",
            ["receiver", "result"],
            registry=self.registry,
        )

    def observe(self, key: ObjectKey, outcome: Outcome[Any], seconds: float) -> None:
        """Record everything one finished reconcile says about itself."""
        if outcome.suspended:
            return
        self.observe_reconcile(key.kind, _result(outcome), seconds)
        for call in outcome.registry_calls:
            self.registry_request(call.host, call.result)
        status = outcome.status
        if isinstance(status, ImageRepositoryStatus) and status.last_scan_result is not None:
            self.set_tags(key.namespace, key.name, status.last_scan_result.tag_count)
        if outcome.run is not None:
            self.push("pushed")

    def forget(self, key: ObjectKey) -> None:
        """Drop the per-object series of an object a reload removed."""
        if key.kind == IMAGE_REPOSITORY.kind:
            self.forget_repository(key.namespace, key.name)

    def observe_reconcile(self, kind: str, result: str, seconds: float) -> None:
        """Count one finished reconcile of ``kind`` and record how long it took."""
        self._reconciles.labels(kind=kind, result=result).inc()
        self._durations.labels(kind=kind).observe(seconds)

    def registry_request(self, host: str, status: int | str) -> None:
        """Count one registry HTTP request (``status``: code, or e.g. ``error`` for no answer)."""
        self._registry_requests.labels(host=host, status=str(status)).inc()

    def set_tags(self, namespace: str, name: str, count: int) -> None:
        """Record the tag count of ImageRepository ``namespace/name``."""
        self._tags.labels(namespace=namespace, name=name).set(count)

    def forget_repository(self, namespace: str, name: str) -> None:
        """Drop the tag gauge of a removed ImageRepository."""
        try:
            self._tags.remove(namespace, name)
        except KeyError:
            return

    def push(self, result: str) -> None:
        """Count one push attempt's result (``pushed``, ``rejected``, ``failed``, ...)."""
        self._pushes.labels(result=result).inc()

    def webhook(self, receiver: str, result: str) -> None:
        """Count one webhook delivery to ``receiver`` with its ``result``."""
        self._webhooks.labels(receiver=receiver, result=result).inc()

    def count_api_requests(self, counts: Callable[[], Mapping[str, int]]) -> None:
        """Publish ``tagpilot_kube_api_requests_total`` by verb, read from ``counts`` (the
        cluster client's own tally) at every scrape."""
        self.registry.register(_ApiRequests(counts))

    def render(self) -> bytes:
        """Every metric in the Prometheus text format."""
        return generate_latest(self.registry)


class _ApiRequests(Collector):
    """Reads the Kubernetes client's request tally when scraped."""

    def __init__(self, counts: Callable[[], Mapping[str, int]]) -> None:
        self._counts = counts

    def collect(self) -> Iterator[Metric]:
        family = CounterMetricFamily(
            "tagpilot_kube_api_requests", "Requests to the Kubernetes API server, by verb.",
            labels=["verb"],
        )  # fmt: skip
        for verb, count in sorted(self._counts().items()):
            family.add_metric([verb], count)
        yield family


def _result(outcome: Outcome[Any]) -> str:
    if outcome.error is None:
        return "success" if outcome.ready else "failure"
    return "stalled" if isinstance(outcome.error, StalledError) else "retry"
