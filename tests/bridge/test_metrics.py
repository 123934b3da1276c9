"""Prometheus metrics: step-ups by realm and result, fail-open count, Duo latency, health."""

from __future__ import annotations

from keycloak_duo_bridge.bridge.metrics import Metrics


def test_render() -> None:
    """Counters, a latency histogram and a health gauge, in the text exposition format."""
    metrics = Metrics()
    metrics.stepup("acme", "allow")
    metrics.stepup("acme", "allow")
    metrics.stepup('we"ird', "bypass")
    metrics.duo_latency("token", 0.02)
    metrics.duo_latency("token", 20.0)
    text = metrics.render({"DI1@duo": "closed", "DI2@duo": "open"})
    assert 'kdb_stepups_total{realm="acme",result="allow"} 2' in text
    assert 'kdb_stepups_total{realm="we\\"ird",result="bypass"} 1' in text
    assert 'kdb_fail_open_total{realm="we\\"ird"} 1' in text
    assert 'kdb_duo_request_seconds_bucket{call="token",le="0.01"} 0' in text
    assert 'kdb_duo_request_seconds_bucket{call="token",le="0.025"} 1' in text
    assert 'kdb_duo_request_seconds_bucket{call="token",le="+Inf"} 2' in text
    assert 'kdb_duo_request_seconds_count{call="token"} 2' in text
    assert 'kdb_duo_healthy{integration="DI1@duo"} 1' in text
    assert 'kdb_duo_healthy{integration="DI2@duo"} 0' in text
    assert text.endswith("\n")
