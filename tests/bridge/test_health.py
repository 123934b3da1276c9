"""Duo's health behind a cache and a circuit breaker (a fake Duo client, a settable clock)."""

from __future__ import annotations

import pytest

from keycloak_duo_bridge.bridge.health import HealthGate
from keycloak_duo_bridge.duo import DuoCredentials
from keycloak_duo_bridge.errors import DuoConfigError, DuoUnavailableError
from tests.aio import run

CREDS = DuoCredentials(ikey="DIXXXXXXXXXXXXXXXXXX", skey="s" * 40, api_host="duo:443")


class FakeDuo:
    """Answers health checks as scripted, counting them."""

    def __init__(self) -> None:
        self.answers: list[Exception | None] = []
        self.calls = 0

    async def health_check(self, creds: DuoCredentials) -> None:
        del creds
        self.calls += 1
        answer = self.answers.pop(0) if self.answers else None
        if answer is not None:
            raise answer


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def gate() -> tuple[HealthGate, FakeDuo, Clock]:
    duo, clock = FakeDuo(), Clock()
    return HealthGate(duo, ttl=60, cooldown=30, clock=clock), duo, clock  # type: ignore[arg-type]


def check(health: HealthGate) -> None:
    run(health.check(CREDS))


def test_good_answers_are_reused_for_the_ttl() -> None:
    """One health check serves every login for the TTL, then Duo is asked again."""
    health, duo, clock = gate()
    check(health)
    clock.now = 59
    check(health)
    assert duo.calls == 1
    clock.now = 61
    check(health)
    assert duo.calls == 2
    assert health.state(CREDS) == "closed"


def test_outage_opens_the_circuit_then_half_opens_then_closes() -> None:
    """An outage fails fast for the cooldown, then one probe decides, and success closes it."""
    health, duo, clock = gate()
    duo.answers = [DuoUnavailableError("down")]
    with pytest.raises(DuoUnavailableError, match="down"):
        check(health)
    assert health.state(CREDS) == "open"
    clock.now = 10
    with pytest.raises(DuoUnavailableError, match="circuit is open"):
        check(health)
    assert duo.calls == 1
    clock.now = 31
    assert health.state(CREDS) == "half-open"
    assert health.states() == {HealthGate.key(CREDS): "half-open"}
    check(health)
    assert health.state(CREDS) == "closed"
    assert health.states() == {HealthGate.key(CREDS): "closed"}


def test_configuration_errors_are_not_cached() -> None:
    """invalid_client propagates and is asked again next time (an admin may fix the keys)."""
    health, duo, _ = gate()
    duo.answers = [DuoConfigError("invalid_client")]
    with pytest.raises(DuoConfigError):
        check(health)
    check(health)
    assert duo.calls == 2


def test_an_outage_seen_at_the_token_endpoint_trips_the_breaker() -> None:
    """trip() opens the circuit from elsewhere; unknown integrations read as closed."""
    health, _, _ = gate()
    assert health.state(CREDS) == "closed"
    health.trip(CREDS)
    assert health.state(CREDS) == "open"
    assert health.states() == {HealthGate.key(CREDS): "open"}
