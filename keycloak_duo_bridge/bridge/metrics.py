"""Prometheus metrics, through ``prometheus_client``, in the bridge's own registry.

Labels name realms, never integration keys: the health gauge is per realm that holds the
credentials. The endpoint is served only with a bearer token (``KDB_METRICS_TOKEN``); see
:func:`keycloak_duo_bridge.bridge.app.metrics`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Final

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from keycloak_duo_bridge.verdict import Result

LATENCY_BUCKETS: Final = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
CONTENT_TYPE: Final = "text/plain; version=0.0.4; charset=utf-8"


class _Health(Collector):
    """``kdb_duo_healthy{realm}``, read from the health gate at scrape time."""

    def __init__(self, states: Callable[[], dict[str, str]]) -> None:
        self._states = states

    def collect(self) -> Iterator[GaugeMetricFamily]:
        gauge = GaugeMetricFamily(
            "kdb_duo_healthy",
            "Duo health per realm holding credentials (1 closed circuit, 0 open or half-open).",
            labels=["realm"],
        )
        for realm, state in sorted(self._states().items()):
            gauge.add_metric([realm], 1.0 if state == "closed" else 0.0)
        yield gauge


class Metrics:
    def __init__(self, health: Callable[[], dict[str, str]]) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._stepups = Counter(
            "kdb_stepups",
            "Step-ups finished, by realm and result.",
            ["realm", "result"],
            registry=self.registry,
        )
        self._fail_open = Counter(
            "kdb_fail_open",
            "Logins let through without Duo because this login's own health check failed.",
            ["realm"],
            registry=self.registry,
        )
        self._upstream = Counter(
            "kdb_upstream_mfa",
            "Logins whose identity provider proved its own MFA, trusted instead of Duo.",
            ["realm", "idp"],
            registry=self.registry,
        )
        self._latency = Histogram(
            "kdb_duo_request_seconds",
            "Latency of calls to Duo.",
            ["call"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.registry.register(_Health(health))

    def stepup(self, realm: str, result: str) -> None:
        self._stepups.labels(realm, result).inc()
        if result == Result.BYPASS:
            self._fail_open.labels(realm).inc()

    def upstream(self, realm: str, idp: str) -> None:
        self._upstream.labels(realm, idp).inc()

    def duo_latency(self, call: str, seconds: float) -> None:
        self._latency.labels(call).observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)
