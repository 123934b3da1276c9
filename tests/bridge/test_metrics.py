"""Prometheus metrics: step-ups by realm and result, fail-open count, Duo latency, health."""

from __future__ import annotations

from keycloak_duo_bridge.bridge.metrics import Metrics


def test_render() -> None:
    """Counters, a latency histogram and a health gauge per realm, in the exposition format."""
    metrics = Metrics(lambda: {"acme": "closed", "globex": "open", "initech": "half-open"})
    metrics.stepup("acme", "allow")
    metrics.stepup("acme", "allow")
    metrics.stepup('we"ird', "bypass")
    metrics.duo_latency("token", 0.02)
    metrics.duo_latency("token", 20.0)
    text = metrics.render().decode()
    assert 'kdb_stepups_total{realm="acme",result="allow"} 2.0' in text
    assert 'kdb_stepups_total{realm="we\\"ird",result="bypass"} 1.0' in text
    assert 'kdb_fail_open_total{realm="we\\"ird"} 1.0' in text
    assert 'kdb_duo_request_seconds_bucket{call="token",le="0.01"} 0.0' in text
    assert 'kdb_duo_request_seconds_bucket{call="token",le="0.025"} 1.0' in text
    assert 'kdb_duo_request_seconds_bucket{call="token",le="+Inf"} 2.0' in text
    assert 'kdb_duo_request_seconds_count{call="token"} 2.0' in text
    assert 'kdb_duo_healthy{realm="acme"} 1.0' in text
    assert 'kdb_duo_healthy{realm="globex"} 0.0' in text
    assert 'kdb_duo_healthy{realm="initech"} 0.0' in text
    assert text.endswith("\n")


def test_item12_metrics_carry_no_integration_keys() -> None:
    """No label is named for or carries an integration: series are per realm and call."""
    metrics = Metrics(lambda: {"acme": "closed"})
    metrics.stepup("acme", "allow")
    text = metrics.render().decode()
    assert "integration" not in text
    assert "DI" not in text


def test_trusted_upstream_mfa_is_counted_per_realm_and_idp() -> None:
    """A login whose IdP proved its own MFA counts as an upstream step-up and per IdP."""
    metrics = Metrics(dict)
    metrics.stepup("globex", "upstream")
    metrics.upstream("globex", "partner")
    text = metrics.render().decode()
    assert 'kdb_stepups_total{realm="globex",result="upstream"} 1.0' in text
    assert 'kdb_upstream_mfa_total{idp="partner",realm="globex"} 1.0' in text
    assert 'kdb_fail_open_total{realm="globex"}' not in text
