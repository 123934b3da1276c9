"""(a) login time side by side, (c) Duo round trips and (d) admin calls per login.

Three setups on the same Keycloak, walked in interleaved rounds (the machine is noisy):
password only, password + Keycloak's built-in OTP, password + our Duo step-up.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import re
import statistics
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx2

from bench.rig import APP, DUO, DUO_STEP_UP, PASSWORD, PLAIN, Rig
from keycloak_duo_bridge.duo.client import tls_context
from keycloak_duo_bridge.sandbox import provision
from keycloak_duo_bridge.sandbox.walk import Walk, browser_like_client, walk_login

_HIDDEN_SECRET = re.compile(
    r'name="totpSecret"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="totpSecret"'
)


def totp(secret: bytes, at: float, *, digits: int = 6, period: int = 30) -> str:
    """RFC 6238 with HMAC-SHA1, as Keycloak's default OTP policy."""
    digest = hmac.new(secret, struct.pack(">Q", int(at) // period), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    code = (struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 10**digits
    return str(code).zfill(digits)


class OtpUser:
    """Answers Keycloak's OTP forms: the set-up form once, then the login form."""

    def __init__(self) -> None:
        self.secret: bytes | None = None

    def __call__(self, page: str) -> dict[str, str] | None:
        found = _HIDDEN_SECRET.search(page)
        if found:
            raw = html.unescape(found.group(1) or found.group(2))
            self.secret = raw.encode()
            return {"totp": totp(self.secret, time.time()), "totpSecret": raw, "userLabel": "bench"}
        if self.secret is not None and 'name="otp"' in page:
            return {"otp": totp(self.secret, time.time())}
        return None


@dataclass
class Timing:
    """Median server time of a whole login, per setup, in milliseconds."""

    password_ms: float
    otp_ms: float
    duo_ms: float
    duo_step_up_ms: float

    def _added_vs_otp(self, duo_ms: float) -> float:
        otp_added = self.otp_ms - self.password_ms
        duo_added = duo_ms - self.password_ms
        return duo_added / otp_added if otp_added > 0 else float("inf")

    @property
    def ratio(self) -> float:
        """Duo's added time over OTP's, with Duo as the required action ("enforce")."""
        return self._added_vs_otp(self.duo_ms)

    @property
    def ratio_step_up(self) -> float:
        """The same with Duo as the flow's authenticator ("step-up", asked by acr_values)."""
        return self._added_vs_otp(self.duo_step_up_ms)


@dataclass
class RoundTrips:
    token_requests: float
    health_checks: float
    tls_connections: float
    admin_calls: float


def _setups(rig: Rig) -> dict[str, Callable[[httpx2.Client], Walk]]:
    provision.ensure_user(rig.settings, PLAIN, "pat", PASSWORD)
    otp_id = provision.ensure_user(rig.settings, PLAIN, "otto", PASSWORD)
    rig.admin(PLAIN).update_user(otp_id, {"requiredActions": ["CONFIGURE_TOTP"]})
    rig.user(DUO, "dora")
    rig.user(DUO_STEP_UP, "stella")
    otp = OtpUser()

    def walk(
        realm: str, user: str, extra: OtpUser | None = None, **query: str
    ) -> Callable[[httpx2.Client], Walk]:
        def go(client: httpx2.Client) -> Walk:
            client.cookies.clear()
            return walk_login(
                keycloak_url=rig.settings.keycloak_url,
                realm=realm,
                client_id=APP,
                redirect_uri=rig.redirect_uri,
                username=user,
                password=PASSWORD,
                extra_form=extra,
                client=client,
                extra_query=query,
            )

        return go

    return {
        "password": walk(PLAIN, "pat"),
        "otp": walk(PLAIN, "otto", otp),
        "duo": walk(DUO, "dora"),
        "duo_step_up": walk(DUO_STEP_UP, "stella", acr_values="mfa"),
    }


def _server_ms(walk: Walk) -> float:
    return sum(hop.seconds for hop in walk.hops) * 1000


def measure(rig: Rig, rounds: int, say: Callable[[str], None]) -> tuple[Timing, RoundTrips]:
    setups = _setups(rig)
    clients = {name: browser_like_client(tls_context(rig.emulator.ca_path)) for name in setups}
    try:
        for name, go in setups.items():  # warm-up: OTP set-up, caches, JIT, connections
            for _ in range(3):
                go(clients[name])
        before_events = len(rig.emulator.control.events())
        before_admin = rig.admin_calls.count
        times: dict[str, list[float]] = {name: [] for name in setups}
        hops: dict[str, list[Walk]] = {"duo": [], "duo_step_up": []}
        for _ in range(rounds):
            for name, go in setups.items():
                walked = go(clients[name])
                if name == "duo":
                    assert walked.id_claims.get("preferred_username") == "dora"  # noqa: S101
                times[name].append(_server_ms(walked))
                if name in hops:
                    hops[name].append(walked)
        admin_calls = rig.admin_calls.count - before_admin
        events = [
            e
            for e in rig.emulator.control.events()[before_events:]
            if e.get("client_id") == rig.integration.client_id
        ]
    finally:
        for client in clients.values():
            client.close()
    medians = {name: statistics.median(values) for name, values in times.items()}
    say(
        "login time, median server ms over "
        f"{rounds} rounds: password {medians['password']:.1f}, "
        f"password+OTP {medians['otp']:.1f}, password+Duo {medians['duo']:.1f} (required"
        f" action), password+Duo {medians['duo_step_up']:.1f} (authenticator, acr_values=mfa)"
    )
    for name, walks in hops.items():
        say(f"where a {name} login's time goes, median ms: {_per_host(rig, walks)}")
    bridge_side = [e for e in events if e["kind"] in {"token", "health_check"}]
    connections = {
        (e["connection"]["host"], e["connection"]["port"]) for e in bridge_side if e["connection"]
    }
    trips = RoundTrips(
        token_requests=sum(e["kind"] == "token" for e in events) / rounds,
        health_checks=sum(e["kind"] == "health_check" for e in events) / rounds,
        tls_connections=len(connections) / rounds,
        admin_calls=admin_calls / rounds,
    )
    timing = Timing(medians["password"], medians["otp"], medians["duo"], medians["duo_step_up"])
    return timing, trips


def _per_host(rig: Rig, walks: list[Walk]) -> str:
    """Median server time per host of these walks, and their hop count."""
    keycloak = rig.settings.keycloak_url.split("://", 1)[1]
    bridge = rig.bridge_url.split("://", 1)[1].rstrip("/")
    hosts = {"keycloak": keycloak, "bridge": bridge, "duo": rig.emulator.api_host}
    parts = [
        f"{label} {statistics.median(w.seconds_at(host) for w in walks) * 1000:.1f}"
        for label, host in hosts.items()
    ]
    parts.append(f"hops {statistics.median(len(w.hops) for w in walks):.0f}")
    return ", ".join(parts)
