"""CIBA poll mode and the device authorization grant over HTTP: ask Keycloak, then poll its
token endpoint until an answer."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import httpx2

from keycloak_duo_bridge.login.ping import PingListener
from keycloak_duo_bridge.login.protocol import (
    DEVICE_GRANT_TYPE,
    GRANT_TYPE,
    DeviceStarted,
    LoginError,
    Pending,
    judge_device_start,
    judge_poll,
    judge_start,
)

__all__ = ["ciba_login", "device_login"]

PING_TICK: Final = 0.25  # the spinner's pace while a ping-mode login waits


def _json(response: httpx2.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


@dataclass(frozen=True)
class _Pacing:
    on_wait: Callable[[], None]
    sleep: Callable[[float], None]
    clock: Callable[[], float]


def _poll(
    http: httpx2.Client,
    url: str,
    *,
    auth: httpx2.Auth,
    form: dict[str, str],
    interval: int,
    expires_in: int,
    pacing: _Pacing,
) -> dict[str, Any]:
    """Poll the token endpoint at Keycloak's pace until tokens, a refusal or the expiry."""
    deadline = pacing.clock() + expires_in
    while True:
        pacing.on_wait()
        pacing.sleep(interval)
        answer = http.post(url, auth=auth, data=form)
        judged = judge_poll(answer.status_code, _json(answer), interval)
        if not isinstance(judged, Pending):
            return judged
        interval = judged.interval
        if pacing.clock() > deadline:
            raise LoginError("the login expired before it was completed")


def _until_pinged(
    ping: PingListener,
    on_wait: Callable[[], None],
    deadline: float,
    clock: Callable[[], float],
) -> Callable[[float], None]:
    """A pause that lasts until Keycloak's ping (or the expiry), ticking ``on_wait``."""

    def pause(_interval: float) -> None:
        while clock() < deadline and not ping.wait(PING_TICK):
            on_wait()

    return pause


def _base(keycloak_url: str, realm: str) -> str:
    return f"{keycloak_url.rstrip('/')}/realms/{realm}/protocol/openid-connect"


def ciba_login(
    http: httpx2.Client,
    *,
    keycloak_url: str,
    realm: str,
    client_id: str,
    client_secret: str,
    username: str,
    scope: str = "openid",
    binding_message: str | None = None,
    ping: PingListener | None = None,
    on_wait: Callable[[], None] = lambda: None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> dict[str, Any]:
    """The tokens once the user approved; LoginError otherwise. With ``ping`` (a realm in
    ping mode), the token endpoint is asked once Keycloak pings, not at every interval."""
    base = _base(keycloak_url, realm)
    auth = httpx2.BasicAuth(client_id, client_secret)
    form = {"scope": scope, "login_hint": username}
    if binding_message:
        form["binding_message"] = binding_message
    if ping is not None:
        form["client_notification_token"] = ping.token
    try:
        answer = http.post(f"{base}/ext/ciba/auth", auth=auth, data=form)
        started = judge_start(answer.status_code, _json(answer))
        if ping is not None:
            sleep = _until_pinged(ping, on_wait, clock() + started.expires_in, clock)
        return _poll(
            http,
            f"{base}/token",
            auth=auth,
            form={"grant_type": GRANT_TYPE, "auth_req_id": started.auth_req_id},
            interval=started.interval,
            expires_in=started.expires_in,
            pacing=_Pacing(on_wait, sleep, clock),
        )
    except httpx2.HTTPError as exc:
        raise LoginError(f"Keycloak is unreachable: {type(exc).__name__}") from exc


def device_login(
    http: httpx2.Client,
    *,
    keycloak_url: str,
    realm: str,
    client_id: str,
    client_secret: str | None,
    on_code: Callable[[DeviceStarted], None],
    scope: str = "openid",
    on_wait: Callable[[], None] = lambda: None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> dict[str, Any]:
    """The device authorization grant (RFC 8628): ``on_code`` shows the person the URI and
    the code; the tokens once they signed in (with Duo) on another device; LoginError
    otherwise. A public client has no secret."""
    base = _base(keycloak_url, realm)
    # a public client names itself in the form; a confidential one authenticates
    auth = httpx2.Auth() if client_secret is None else httpx2.BasicAuth(client_id, client_secret)
    client = {"client_id": client_id} if client_secret is None else {}
    try:
        answer = http.post(f"{base}/auth/device", auth=auth, data={"scope": scope, **client})
        started = judge_device_start(answer.status_code, _json(answer))
        on_code(started)
        return _poll(
            http,
            f"{base}/token",
            auth=auth,
            form={"grant_type": DEVICE_GRANT_TYPE, "device_code": started.device_code, **client},
            interval=started.interval,
            expires_in=started.expires_in,
            pacing=_Pacing(on_wait, sleep, clock),
        )
    except httpx2.HTTPError as exc:
        raise LoginError(f"Keycloak is unreachable: {type(exc).__name__}") from exc
