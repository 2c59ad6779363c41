"""Prometheus metrics of one app (its own registry: apps in one process never share counters)."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from battrace.services.ingest import EventResult

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """Ingest counts, rejections by rule, flags by rule, request latency."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.events = Counter(
            "battrace_ingested_events",
            "Events submitted, by outcome (accepted, rejected, duplicate) and channel.",
            ["status", "source"],
            registry=self.registry,
        )
        self.rejections = Counter(
            "battrace_event_rejections",
            "Rejected events by the rule of their reasons ('validation' when no rule applies).",
            ["rule"],
            registry=self.registry,
        )
        self.flags = Counter(
            "battrace_event_flags",
            "Findings raised at ingest, by rule.",
            ["rule"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "battrace_http_request_duration_seconds",
            "HTTP request latency by method, route template and status code.",
            ["method", "route", "status"],
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.uploads = Counter(
            "battrace_uploads",
            "Bulk uploads by final status.",
            ["status"],
            registry=self.registry,
        )

    def record(self, results: Iterable[EventResult], source: str) -> None:
        """Count a batch's results."""
        counts: dict[str, int] = {}
        rules: dict[str, int] = {}
        flags: dict[str, int] = {}
        for r in results:
            counts[r.status] = counts.get(r.status, 0) + 1
            if r.status == "rejected":
                for rule in {x.rule or "validation" for x in r.reasons} or {"validation"}:
                    rules[rule] = rules.get(rule, 0) + 1
            for rule in r.flags:
                flags[rule] = flags.get(rule, 0) + 1
        for status, n in counts.items():
            self.events.labels(status, source).inc(n)
        for rule, n in rules.items():
            self.rejections.labels(rule).inc(n)
        for rule, n in flags.items():
            self.flags.labels(rule).inc(n)

    def render(self) -> bytes:
        """The Prometheus text exposition."""
        return generate_latest(self.registry)
