"""Duo's health behind a cache and a circuit breaker (a fake Duo client, a settable clock)."""

from __future__ import annotations

import pytest

from keycloak_duo_bridge.bridge.health import CircuitOpenError, HealthGate
from keycloak_duo_bridge.duo import DuoCredentials
from keycloak_duo_bridge.errors import DuoConfigError, DuoUnavailableError
from tests.aio import run

CREDS = DuoCredentials(ikey="DIXXXXXXXXXXXXXXXXXX", skey="s" * 40, api_host="duo:443")
DOWN = DuoUnavailableError("down")


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


def gate(threshold: int = 1) -> tuple[HealthGate, FakeDuo, Clock]:
    duo, clock = FakeDuo(), Clock()
    health = HealthGate(duo, ttl=60, cooldown=30, threshold=threshold, clock=clock)  # type: ignore[arg-type]
    return health, duo, clock


def state(health: HealthGate) -> str:
    """The circuit state of acme's integration, as the metrics read it."""
    return health.states().get("acme", "closed")


def check(health: HealthGate, *, fail_fast: bool = True, creds: DuoCredentials = CREDS) -> None:
    run(health.check(creds, owner="acme", fail_fast=fail_fast))


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
    assert state(health) == "closed"


def test_outage_opens_the_circuit_then_half_opens_then_closes() -> None:
    """An outage fails fast for the cooldown, then one probe decides, and success closes it."""
    health, duo, clock = gate()
    duo.answers = [DOWN]
    with pytest.raises(DuoUnavailableError, match="down"):
        check(health)
    assert state(health) == "open"
    clock.now = 10
    with pytest.raises(CircuitOpenError, match="circuit is open"):
        check(health)
    assert duo.calls == 1
    clock.now = 31
    assert state(health) == "half-open"
    assert health.states() == {"acme": "half-open"}
    check(health)
    assert state(health) == "closed"
    assert health.states() == {"acme": "closed"}


def test_configuration_errors_are_not_cached() -> None:
    """invalid_client propagates and is asked again next time (an admin may fix the keys)."""
    health, duo, _ = gate()
    duo.answers = [DuoConfigError("invalid_client")]
    with pytest.raises(DuoConfigError):
        check(health)
    check(health)
    assert duo.calls == 2


def test_item5_the_circuit_opens_only_after_consecutive_failed_checks() -> None:
    """Below the threshold the circuit stays closed; a success in between starts counting anew."""
    health, duo, _ = gate(threshold=3)
    duo.answers = [DOWN, DOWN, None]
    for _ in range(2):
        with pytest.raises(DuoUnavailableError):
            check(health)
        assert state(health) == "closed"
    check(health)
    health._circuits[HealthGate.key(CREDS)].ok_until = 0.0  # the good answer's TTL ran out
    duo.answers = [DOWN, DOWN, DOWN]
    for _ in range(2):
        with pytest.raises(DuoUnavailableError):
            check(health)
    assert state(health) == "closed"
    with pytest.raises(DuoUnavailableError, match="down"):
        check(health)
    assert state(health) == "open"
    assert duo.calls == 6


def test_item5_a_fail_open_login_checks_for_itself_with_the_circuit_open() -> None:
    """With the circuit open, a login that may bypass asks Duo itself; Duo's answer decides."""
    health, duo, _ = gate()
    duo.answers = [DOWN]
    with pytest.raises(DuoUnavailableError):
        check(health)
    assert state(health) == "open"
    check(health, fail_fast=False)  # Duo answers: no bypass grounds, and the circuit closes
    assert duo.calls == 2
    assert state(health) == "closed"
    health._circuits[HealthGate.key(CREDS)].ok_until = 0.0
    duo.answers = [DOWN, DOWN]
    with pytest.raises(DuoUnavailableError):
        check(health)
    with pytest.raises(DuoUnavailableError) as own:
        check(health, fail_fast=False)
    assert not isinstance(own.value, CircuitOpenError)  # its own evidence
    assert duo.calls == 4


def test_item5_metrics_name_the_realm_holding_the_credentials() -> None:
    """Circuit states are keyed by the credentials' realm, never by the integration key."""
    health, duo, clock = gate()
    other = DuoCredentials(ikey="DIYYYYYYYYYYYYYYYYYY", skey="t" * 40, api_host="duo:443")
    duo.answers = [DOWN]
    with pytest.raises(DuoUnavailableError):
        check(health)
    clock.now = 1
    check(health, creds=other)  # the realm's new credentials, checked later
    assert health.states() == {"acme": "closed"}
    with pytest.raises(CircuitOpenError):  # the old credentials' circuit is still open
        check(health)
    check(health, creds=other)  # the new ones' is closed
    assert all(CREDS.ikey not in key for key in health.states())
