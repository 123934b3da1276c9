"""No skey, KEK or private key material in logs, responses, errors or CLI output."""

from __future__ import annotations

import base64
import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest
from starlette.testclient import TestClient

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge import logs
from keycloak_duo_bridge.bridge import cookie
from keycloak_duo_bridge.duo import jose
from keycloak_duo_bridge.settings import Settings
from tests.bridge_fakes import (
    SKEY,
    Fakes,
    bridge_client,
    bridge_settings,
    realm_fakes,
    request_token,
)


def secret_fragments(settings: Settings) -> list[str]:
    """Every secret the bridge holds, as the strings that would betray it."""
    assert settings.keyring is not None
    assert settings.bridge_signing_key is not None
    assert settings.bridge_cookie_secret is not None
    found = [SKEY]
    for key in json.loads(settings.keyring.get_secret_value()).values():
        raw = base64.b64decode(key)
        found += [key, base64.urlsafe_b64encode(raw).decode().rstrip("="), raw.hex()]
    pem = settings.bridge_signing_key.get_secret_value()
    found += [line for line in pem.splitlines() if line and not line.startswith("-----")]
    cookie_secret = settings.bridge_cookie_secret.get_secret_value()
    found += [cookie_secret, base64.b64decode(cookie_secret).hex()]
    if settings.metrics_token is not None:
        found.append(settings.metrics_token.get_secret_value())
    return found


def duo_allows(client: TestClient, fakes: Fakes) -> httpx2.Response:
    """A full step-up where Duo answers allow with a properly signed id_token."""
    response = client.get("/step-up", params={"request": request_token()})
    signed = parse_qs(urlsplit(response.headers["location"]).query)["request"][0]
    asked = jose.decode(signed, SKEY)
    now = int(time.time())
    id_token = jose.encode(
        {
            "iss": "https://duo.example/oauth/v1/token",
            "aud": "DIXXXXXXXXXXXXXXXXXX",
            "exp": now + 300,
            "iat": now,
            "nonce": asked["nonce"],
            "preferred_username": "alice",
            "auth_result": {"status": "allow"},
        },
        SKEY,
    )
    fakes.duo = httpx2.Response(200, json={"id_token": id_token, "token_type": "Bearer"})
    return client.get("/step-up/callback", params={"state": asked["state"], "duo_code": "c"})


def flows(settings: Settings) -> list[str]:
    """Run good and faulty flows; return everything they showed the outside world."""
    seen: list[str] = []

    def keep(response: httpx2.Response) -> None:
        seen.append(response.text)
        seen.append(repr(response.headers.multi_items()))

    fakes = realm_fakes(settings)
    with bridge_client(settings, fakes) as client:
        allowed = duo_allows(client, fakes)
        keep(allowed)
        assert "verdict=" in allowed.headers["location"]
        verdict = parse_qs(urlsplit(allowed.headers["location"]).query)["verdict"][0]
        assert jose.unverified_claims(verdict)["result"] == "allow"
        fakes.duo = httpx2.Response(401, json={"error": "invalid_client", "message": SKEY})
        keep(client.get("/step-up", params={"request": request_token(nonce="2")}))
        client.cookies.set(cookie.COOKIE_NAME, "A" * 300)
        keep(client.get("/step-up/callback", params={"state": "s", "duo_code": "c"}))
        keep(client.get("/step-up", params={"request": "not.a.token"}))
        keep(client.get("/metrics"))
        keep(client.get("/metrics", headers={"Authorization": "Bearer wrong"}))
    for change in ({attr.DUO_SKEY: "kdb1:sandbox1:AAAA:AAAA"}, {attr.DUO_FAIL_MODE: "open"}):
        fakes = realm_fakes(settings)
        fakes.attributes.update(change)
        fakes.duo = httpx2.ConnectError
        with bridge_client(settings, fakes) as client:
            keep(client.get("/step-up", params={"request": request_token()}))
    fakes = realm_fakes(settings)
    fakes.keycloak_down = True
    with bridge_client(settings, fakes) as client:
        keep(client.get("/step-up", params={"request": request_token()}))
        keep(client.get("/readyz"))
    return seen


def test_flows_leak_no_secret(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Logs (with their fields), responses and exceptions of every flow hold no secret."""
    settings = bridge_settings(tmp_path)
    caplog.set_level(logging.DEBUG)
    seen = flows(settings)
    for record in caplog.records:
        seen.append(record.getMessage())
        seen.append(repr(record.__dict__))
        if record.exc_info:
            seen.append(logging.Formatter().formatException(record.exc_info))
        seen.append(logs.JsonFormatter().format(record))
    text = "\n".join(seen)
    assert "step-up verdict" in text  # the logs were captured
    for fragment in secret_fragments(settings):
        assert fragment not in text


def test_settings_and_errors_never_print_secrets(tmp_path: Path) -> None:
    """Settings reprs and configuration errors name variables, never their values."""
    settings = bridge_settings(tmp_path)
    shown = [repr(settings), str(settings), settings.model_dump_json()]
    for fragment in secret_fragments(settings):
        assert all(fragment not in text for text in shown)


def test_cli_errors_hold_no_secret(tmp_path: Path) -> None:
    """``serve`` refusing a malformed signing key or keyring shows no part of them."""
    settings = bridge_settings(tmp_path)
    assert settings.bridge_signing_key is not None
    pem = settings.bridge_signing_key.get_secret_value()
    broken = pem.replace("\n", "\n ", 2)  # still secret material, no longer a key
    for variables in (
        {"KDB_BRIDGE_SIGNING_KEY": broken},
        {"KDB_KEYRING": '{"sandbox1": "' + SKEY + '"}'},
        {"KDB_BRIDGE_COOKIE_SECRET": SKEY},
    ):
        env = {
            **os.environ,
            "KDB_KEYCLOAK_URL": "http://127.0.0.1:9",
            "KDB_BRIDGE_SIGNING_KEY": pem,
            "KDB_KEYRING": settings.keyring.get_secret_value() if settings.keyring else "",
            "KDB_ACTIVE_KEY_ID": "sandbox1",
            "KDB_BRIDGE_COOKIE_SECRET": "",
            **variables,
        }
        run = subprocess.run(
            [sys.executable, "-m", "keycloak_duo_bridge", "serve", "--port", "9"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert run.returncode != 0
        output = run.stdout + run.stderr
        for fragment in [*secret_fragments(settings), SKEY]:
            assert fragment not in output, variables
