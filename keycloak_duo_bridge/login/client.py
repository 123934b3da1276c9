"""CIBA poll mode over HTTP: ask Keycloak, then poll its token endpoint until an answer."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx2

from keycloak_duo_bridge.login.protocol import (
    GRANT_TYPE,
    LoginError,
    Pending,
    judge_poll,
    judge_start,
)

__all__ = ["ciba_login"]


def _json(response: httpx2.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


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
    on_wait: Callable[[], None] = lambda: None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> dict[str, Any]:
    """The tokens once the user approved; LoginError otherwise."""
    base = f"{keycloak_url.rstrip('/')}/realms/{realm}/protocol/openid-connect"
    auth = (client_id, client_secret)
    form = {"scope": scope, "login_hint": username}
    if binding_message:
        form["binding_message"] = binding_message
    try:
        answer = http.post(f"{base}/ext/ciba/auth", auth=auth, data=form)
        started = judge_start(answer.status_code, _json(answer))
        deadline = clock() + started.expires_in
        interval = started.interval
        while True:
            on_wait()
            sleep(interval)
            answer = http.post(
                f"{base}/token",
                auth=auth,
                data={"grant_type": GRANT_TYPE, "auth_req_id": started.auth_req_id},
            )
            judged = judge_poll(answer.status_code, _json(answer), interval)
            if not isinstance(judged, Pending):
                return judged
            interval = judged.interval
            if clock() > deadline:
                raise LoginError("the login expired before the push was answered")
    except httpx2.HTTPError as exc:
        raise LoginError(f"Keycloak is unreachable: {type(exc).__name__}") from exc
