"""Prometheus metrics (prometheus-client): what the service counts, how `/metrics` shows it.

* Requests by route template and status, and latency histograms by route: fed by
  :class:`hotdeals.http.request_log.ObserveRequests`, the one middleware every request crosses.
* :data:`RATE_LIMIT_REFUSALS`: requests refused with 429, by limit name (fed by the rate limits).
* Read at scrape time from the app that answers, never on the hot path: the group-commit
  writer's batches, jobs and queue depth, and the database pool's connections in use.

With several workers (``hotdeals serve --workers N``), ``serve`` points every worker at one
``PROMETHEUS_MULTIPROC_DIR`` (prometheus-client's multiprocess mode): request counts, latencies
and refusals are summed over the workers whichever of them answers the scrape; the readings of
the writer and the pool are the answering worker's own, labelled with its ``pid``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from hotdeals.http.state import AppState

MULTIPROCESS_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR")  # read at import, as the client does
CONTENT_TYPE = CONTENT_TYPE_LATEST

REQUESTS = Counter(
    "hotdeals_http_requests",
    "HTTP requests answered, by method, route template and status.",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "hotdeals_http_request_duration_seconds",
    "Time from a request's arrival at the app to its last response byte, by method and route.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
RATE_LIMIT_REFUSALS = Counter(
    "hotdeals_rate_limit_refusals",
    "Requests refused with 429, by the name of the limit that refused them.",
    ["limit"],
)

WRITER_BATCH_SIZE = Histogram(
    "hotdeals_writer_batch_size",
    "Ranks and clicks committed together by one group-commit transaction.",
    buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000),
)
WRITER_COMMIT_SECONDS = Histogram(
    "hotdeals_writer_commit_seconds",
    "Time from the start of a group-commit batch to its commit.",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)

_children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}


def observe_commit(size: int, seconds: float) -> None:
    """The writer's commit observer (``GroupCommitter.on_commit``), set by the app factory."""
    WRITER_BATCH_SIZE.observe(size)
    WRITER_COMMIT_SECONDS.observe(seconds)


def observe(method: str, route: str, status: int, seconds: float) -> None:
    """Count one answered request (the labelled children are looked up once, then cached)."""
    key = (method, route, status)
    children = _children.get(key)
    if children is None:
        children = (
            REQUESTS.labels(method, route, str(status)),
            LATENCY.labels(method, route),
        )
        _children[key] = children
    children[0].inc()
    children[1].observe(seconds)


class AppCollector(Collector):
    """This process's writer and pool, read when scraped."""

    def __init__(self, state: AppState) -> None:
        self.state = state

    def collect(self) -> Iterator[Metric]:
        pid = str(os.getpid())
        writer = self.state.learning.writer
        batches = CounterMetricFamily(
            "hotdeals_writer_batches",
            "Transactions the group-commit writer committed (each holds one or more jobs).",
            labels=["pid"],
        )
        batches.add_metric([pid], getattr(writer, "batches", 0))
        jobs = CounterMetricFamily(
            "hotdeals_writer_jobs",
            "Ranks and clicks the writer committed; jobs / batches is the mean batch size.",
            labels=["pid"],
        )
        jobs.add_metric([pid], getattr(writer, "jobs", 0))
        depth = GaugeMetricFamily(
            "hotdeals_writer_queue_depth", "Jobs waiting for the writer.", labels=["pid"]
        )
        depth.add_metric([pid], writer.queued)
        pool = self.state.engine.pool
        in_use = GaugeMetricFamily(
            "hotdeals_db_pool_checked_out",
            "Database connections in use by this process.",
            labels=["pid"],
        )
        checkedout = getattr(pool, "checkedout", None)
        in_use.add_metric([pid], checkedout() if callable(checkedout) else 0)
        size = GaugeMetricFamily(
            "hotdeals_db_pool_size", "Connections the pool keeps open.", labels=["pid"]
        )
        pool_size = getattr(pool, "size", None)
        size.add_metric([pid], pool_size() if callable(pool_size) else 0)
        yield from (batches, jobs, depth, in_use, size)


def render(state: AppState) -> bytes:
    """The exposition text: the shared metrics (over all workers in multiprocess mode), then
    this process's writer and pool."""
    if MULTIPROCESS_DIR:
        shared = CollectorRegistry()
        MultiProcessCollector(shared, path=MULTIPROCESS_DIR)  # type: ignore[no-untyped-call]
    else:
        shared = REGISTRY
    own = CollectorRegistry(auto_describe=False)
    own.register(AppCollector(state))
    return generate_latest(shared) + generate_latest(own)
