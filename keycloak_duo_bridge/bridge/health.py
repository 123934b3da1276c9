"""Duo's health, per integration, from a cache behind a circuit breaker.

A good answer is reused for ``ttl`` seconds, so health is not checked on every login. An
outage opens the circuit for ``cooldown`` seconds: logins fail fast (and the realm's fail
mode applies) instead of each waiting for a timeout. After the cooldown the next login
probes again (half-open); success closes the circuit.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from keycloak_duo_bridge.duo import DuoClient, DuoCredentials
from keycloak_duo_bridge.errors import DuoUnavailableError


@dataclass
class _Circuit:
    ok_until: float = 0.0
    open_until: float = 0.0
    failures: int = 0


class HealthGate:
    def __init__(
        self,
        client: DuoClient,
        *,
        ttl: float,
        cooldown: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._ttl = ttl
        self._cooldown = cooldown
        self._clock = clock
        self._circuits: dict[str, _Circuit] = {}

    @staticmethod
    def key(creds: DuoCredentials) -> str:
        return f"{creds.ikey}@{creds.api_host}"

    def state(self, creds: DuoCredentials) -> str:
        """``closed`` (healthy or unknown), ``open`` (failing fast) or ``half-open``."""
        circuit = self._circuits.get(self.key(creds))
        if circuit is None or circuit.failures == 0:
            return "closed"
        return "open" if circuit.open_until > self._clock() else "half-open"

    def states(self) -> dict[str, str]:
        now = self._clock()
        return {
            key: "closed" if c.failures == 0 else ("open" if c.open_until > now else "half-open")
            for key, c in self._circuits.items()
        }

    def trip(self, creds: DuoCredentials) -> None:
        """Record an outage seen elsewhere (e.g. at the token endpoint)."""
        circuit = self._circuits.setdefault(self.key(creds), _Circuit())
        circuit.failures += 1
        circuit.ok_until = 0.0
        circuit.open_until = self._clock() + self._cooldown

    async def check(self, creds: DuoCredentials) -> None:
        """Return if Duo is healthy; raise DuoUnavailableError or DuoConfigError otherwise."""
        circuit = self._circuits.setdefault(self.key(creds), _Circuit())
        now = self._clock()
        if circuit.ok_until > now:
            return
        if circuit.open_until > now:
            raise DuoUnavailableError("Duo is failing: the circuit is open")
        try:
            await self._client.health_check(creds)
        except DuoUnavailableError:
            self.trip(creds)
            raise
        circuit.failures = 0
        circuit.open_until = 0.0
        circuit.ok_until = self._clock() + self._ttl
