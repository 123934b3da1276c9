"""(e) CIBA with Duo Push (issue #16): the time a CIBA login takes when the phone approves at
once, and the Duo Auth API calls per login, counted at the emulator.

The client here asks for the tokens as soon as Keycloak took the bridge's callback (a poll-
mode client would wait up to its interval more), so the time is the channel's own: Keycloak
hands the request to the bridge, which reads the realm and the user, runs preauth, an async
push and ``auth_status`` polls, then calls Keycloak back.
"""

from __future__ import annotations

import statistics
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import httpx2

from bench.rig import CIBA, PASSWORD, Rig
from keycloak_duo_bridge.admin import auth_api_settings, record
from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.bridge.ciba import POLL_INTERVAL
from keycloak_duo_bridge.bridge.ciba_policy import max_polls
from keycloak_duo_bridge.duo.auth_protocol import AuthApiCredentials
from keycloak_duo_bridge.sandbox import provision
from keycloak_duo_bridge.settings import key_ring

CLIENT: Final = "bench-ciba-cli"
SECRET: Final = "bench-ciba-secret"  # noqa: S105 - a sandbox client's secret
USER: Final = "cibby"
EXPIRES_IN: Final = 120
GRANT: Final = "urn:openid:params:grant-type:ciba"
CALLBACK_WAIT: Final = 30.0


@dataclass
class CibaFigures:
    """Median milliseconds of a CIBA login and the Duo Auth API calls per login."""

    added_ms: float
    login_ms: float
    preauth: float
    auth: float
    auth_status: float
    auth_status_max: int
    auth_status_bound: int
    failures: int


def setup(rig: Rig) -> str:
    """The CIBA realm: Duo on, Auth API keys (checked live), a confidential CIBA client, and a
    user whose phone approves at once; the Auth API ikey."""
    rig.duo_realm(CIBA)
    api = rig.emulator.control.add_api_credentials("authapi")
    admin = Keycloak.from_settings(rig.settings)
    auth_api_settings.set_auth_api(
        admin,
        CIBA,
        creds=AuthApiCredentials(api.ikey, api.skey, api.api_host),
        ring=key_ring(rig.settings),
        check=auth_api_settings.live_check(rig.emulator.ca_path, allow_any_host=True),
    )
    policy = {
        "cibaBackchannelTokenDeliveryMode": "poll",
        "cibaAuthRequestedUserHint": "login_hint",
        "cibaExpiresIn": str(EXPIRES_IN),
        "cibaInterval": "1",
    }
    record.store(admin, CIBA, policy)
    rig.admin(CIBA).create_client(
        {
            "clientId": CLIENT,
            "publicClient": False,
            "secret": SECRET,
            "standardFlowEnabled": False,
            "attributes": {"oidc.ciba.grant.enabled": "true"},
        }
    )
    provision.ensure_user(rig.settings, CIBA, USER, PASSWORD)
    rig.emulator.control.set_user(USER, enrolled=True, phone="+14155550123")
    rig.emulator.control.script_push(USER, "approve", delay=0)
    return api.ikey


def _one_login(rig: Rig, http: httpx2.Client, base: str) -> tuple[float, float] | None:
    """(ms until Keycloak took the callback, ms until the tokens), or None if it failed."""
    auth = (CLIENT, SECRET)
    taken = len(rig.admin_calls.callbacks)
    started = time.monotonic()
    answer = http.post(
        f"{base}/ext/ciba/auth", auth=auth, data={"scope": "openid", "login_hint": USER}
    )
    if answer.status_code != httpx2.codes.OK:
        return None
    form = {"grant_type": GRANT, "auth_req_id": answer.json()["auth_req_id"]}
    deadline = started + CALLBACK_WAIT
    while len(rig.admin_calls.callbacks) == taken and time.monotonic() < deadline:
        time.sleep(0.002)
    if len(rig.admin_calls.callbacks) == taken:
        return None
    called_back = rig.admin_calls.callbacks[taken]
    while time.monotonic() < deadline:
        tokens = http.post(f"{base}/token", auth=auth, data=form)
        if tokens.status_code == httpx2.codes.OK:
            done = time.monotonic()
            return (called_back - started) * 1000, (done - started) * 1000
        if tokens.json().get("error") != "slow_down":
            return None
        time.sleep(0.05)
    return None


def measure(rig: Rig, rounds: int, say: Callable[[str], None]) -> CibaFigures:
    """Time ``rounds`` CIBA logins (after warm-up) and count their Duo calls."""
    ikey = setup(rig)
    base = f"{rig.settings.keycloak_url}/realms/{CIBA}/protocol/openid-connect"
    added: list[float] = []
    login: list[float] = []
    failures = 0
    with httpx2.Client(timeout=30) as http:
        for _ in range(3):  # warm-up: caches, JIT, connections
            _one_login(rig, http, base)
        before = len(rig.emulator.control.events())
        for _ in range(rounds):
            timed = _one_login(rig, http, base)
            if timed is None:
                failures += 1
                continue
            added.append(timed[0])
            login.append(timed[1])
    events = [e for e in rig.emulator.control.events()[before:] if e.get("client_id") == ikey]
    calls = Counter(_call(e) for e in events)
    figures = CibaFigures(
        added_ms=statistics.median(added) if added else float("nan"),
        login_ms=statistics.median(login) if login else float("nan"),
        preauth=calls["preauth"] / rounds,
        auth=calls["auth"] / rounds,
        auth_status=calls["auth_status"] / rounds,
        auth_status_max=max(_status_runs(events), default=0),
        auth_status_bound=max_polls(now=0, expires=EXPIRES_IN, interval=POLL_INTERVAL),
        failures=failures,
    )
    say(
        f"CIBA login with an immediate approval, median over {rounds}: {figures.added_ms:.1f} ms"
        f" until Keycloak took the bridge's answer, {figures.login_ms:.1f} ms until the tokens;"
        f" Duo calls per login: preauth {figures.preauth:.2f}, auth {figures.auth:.2f},"
        f" auth_status {figures.auth_status:.2f} (at most {figures.auth_status_max} in one"
        f" login; bound {figures.auth_status_bound}); failures {failures}"
    )
    return figures


def _call(event: dict[str, object]) -> str:
    """The Auth API call an emulator event records ("POST /auth/v2/preauth" -> "preauth")."""
    return str(event.get("detail", "")).rsplit("/", 1)[-1]


def _status_runs(events: list[dict[str, object]]) -> list[int]:
    """The number of ``auth_status`` calls after each ``auth`` (one login's polls)."""
    runs: list[int] = []
    for event in events:
        name = _call(event)
        if name == "auth":
            runs.append(0)
        elif name == "auth_status" and runs:
            runs[-1] += 1
    return runs
