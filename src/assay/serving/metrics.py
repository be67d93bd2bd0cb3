"""Prometheus metrics of one server: requests, errors, latency and batch sizes."""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

__all__ = ["ServerMetrics"]

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
_BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)


class ServerMetrics:
    """The metrics of one server, in a registry of its own (two servers in one process,
    as in tests, never share counters)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        labels = ("model", "version", "protocol")
        self.requests = Counter(
            "assay_requests",
            "Requests answered, by outcome.",
            (*labels, "code"),
            registry=self.registry,
        )
        self.latency = Histogram(
            "assay_request_latency_seconds",
            "Time from request to response.",
            labels,
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.batch_rows = Histogram(
            "assay_batch_rows",
            "Rows scored together in one model call.",
            ("model", "version"),
            buckets=_BATCH_BUCKETS,
            registry=self.registry,
        )
        self.errors = Counter(
            "assay_request_errors",
            "Requests refused, by reason.",
            ("model", "code"),
            registry=self.registry,
        )
        self.swaps = Counter(
            "assay_model_swaps",
            "Versions swapped in after an alias moved.",
            ("model",),
            registry=self.registry,
        )

        # Each answer's series, found once: looking a labelled series up costs more than
        # counting in it.
        self._answered: dict[tuple[str, str, str], tuple[Any, Any]] = {}
        self._batched: dict[tuple[str, str], Any] = {}

    def answered(self, model: str, version: str, protocol: str, seconds: float) -> None:
        """Count one request answered (200) in ``seconds``."""
        key = (model, version, protocol)
        series = self._answered.get(key)
        if series is None:
            series = (self.latency.labels(*key), self.requests.labels(*key, "200"))
            self._answered[key] = series
        series[0].observe(seconds)
        series[1].inc()

    def batched(self, model: str, version: str, rows: int) -> None:
        """Count one request scored in a model call of ``rows`` rows."""
        series = self._batched.get((model, version))
        if series is None:
            series = self._batched[(model, version)] = self.batch_rows.labels(model, version)
        series.observe(rows)

    def render(self) -> bytes:
        """The text exposition format."""
        return generate_latest(self.registry)
