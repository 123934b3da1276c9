"""Duo's health, per integration, from a cache behind a circuit breaker.

A good answer is reused for ``ttl`` seconds, so health is not checked on every login.
Only health checks count as evidence of an outage (a failed code exchange is that login's
error, nothing more). After ``threshold`` consecutive failed checks the circuit opens for
``cooldown`` seconds: a fail-closed realm's logins then fail fast instead of each waiting
for a timeout. A fail-open realm's login never takes the open circuit's word for it: it
makes its own health check, and only that check failing lets it bypass Duo
(:class:`CircuitOpenError` is never grounds for a bypass). After the cooldown the next
check probes again (half-open); success closes the circuit.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from keycloak_duo_bridge.duo import DuoClient, DuoCredentials
from keycloak_duo_bridge.errors import CircuitOpenError, DuoUnavailableError

__all__ = ["CircuitOpenError", "HealthGate"]


@dataclass
class _Circuit:
    ok_until: float = 0.0
    open_until: float = 0.0
    failures: int = 0
    owner: str = ""  # the realm that holds the credentials: metrics name it, not the ikey
    checked: float = 0.0


class HealthGate:
    def __init__(
        self,
        client: DuoClient,
        *,
        ttl: float,
        cooldown: float,
        threshold: int = 3,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._ttl = ttl
        self._cooldown = cooldown
        self._threshold = threshold
        self._clock = clock
        self._circuits: dict[str, _Circuit] = {}

    @staticmethod
    def key(creds: DuoCredentials) -> str:
        return f"{creds.ikey}@{creds.api_host}"

    def _state(self, circuit: _Circuit | None, now: float) -> str:
        if circuit is None or circuit.open_until == 0.0:
            return "closed"
        return "open" if circuit.open_until > now else "half-open"

    def states(self) -> dict[str, str]:
        """Circuit states by the realm holding the credentials (its latest integration):
        ``closed`` (healthy, unknown, failing below the threshold), ``open``, ``half-open``."""
        now = self._clock()
        by_age = sorted(self._circuits.values(), key=lambda c: c.checked)
        return {c.owner: self._state(c, now) for c in by_age}

    async def check(self, creds: DuoCredentials, *, owner: str, fail_fast: bool) -> None:
        """Return if Duo is healthy; raise DuoUnavailableError or DuoConfigError otherwise.

        With ``fail_fast`` an open circuit raises :class:`CircuitOpenError` without a call;
        without it this login always has its own answer from Duo unless a good one is cached.
        """
        circuit = self._circuits.setdefault(self.key(creds), _Circuit())
        now = self._clock()
        circuit.owner, circuit.checked = owner, now
        if circuit.ok_until > now:
            return
        if fail_fast and circuit.open_until > now:
            raise CircuitOpenError("Duo is failing: the circuit is open")
        try:
            await self._client.health_check(creds)
        except DuoUnavailableError:
            circuit.failures += 1
            circuit.ok_until = 0.0
            if circuit.failures >= self._threshold:
                circuit.open_until = self._clock() + self._cooldown
            raise
        circuit.failures = 0
        circuit.open_until = 0.0
        circuit.ok_until = self._clock() + self._ttl
