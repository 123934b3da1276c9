"""Helpers for the emulator tests: an official SDK client, and a browser-less authorize leg."""

from __future__ import annotations

import secrets
import ssl
import time
from pathlib import Path
from typing import Any

import httpx2
from duo_universal.client import Client

from keycloak_duo_bridge.duo import jose
from keycloak_duo_bridge.emulator import IntegrationCredentials, RunningEmulator

REDIRECT_URI = "https://app.example/duo/callback?tenant=acme"


def sdk_client(
    emulator: RunningEmulator,
    app: IntegrationCredentials,
    *,
    redirect_uri: str = REDIRECT_URI,
    **kwargs: Any,
) -> Client:
    """The unmodified official client, pointed at the emulator with its CA."""
    return Client(
        app.client_id,
        app.client_secret,
        emulator.api_host,
        redirect_uri,
        duo_certs=str(emulator.ca_path),
        **kwargs,
    )


def http(ca_path: Path) -> httpx2.Client:
    """An HTTP client that trusts the emulator's CA and does not follow redirects."""
    return httpx2.Client(verify=ssl.create_default_context(cafile=str(ca_path)), timeout=10)


def follow_to_callback(emulator: RunningEmulator, url: str) -> httpx2.URL:
    """Follow the authorize redirect chain inside the emulator; return where it leaves it."""
    with http(emulator.ca_path) as client:
        for _ in range(5):
            response = client.get(url)
            assert response.status_code in {302, 303}, response.text
            url = response.headers["location"]
            target = httpx2.URL(url)
            if target.is_absolute_url and target.netloc.decode() != emulator.api_host:
                return target
            url = str(httpx2.URL(emulator.base_url).join(url))
    raise AssertionError("the emulator never redirected back")


def request_jwt(app: IntegrationCredentials, **overrides: Any) -> str:
    """An authorization request JWT as the Python SDK builds it, with ``overrides``."""
    claims: dict[str, Any] = {
        "scope": "openid",
        "redirect_uri": REDIRECT_URI,
        "client_id": app.client_id,
        "iss": app.client_id,
        "aud": f"https://{app.api_host}",
        "exp": time.time() + 300,
        "state": "s" * 36,
        "response_type": "code",
        "duo_uname": "someone",
        "use_duo_code_attribute": True,
    }
    claims.update(overrides)
    algorithm = claims.pop("alg", "HS512")
    secret = claims.pop("secret", app.client_secret)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jose.encode(claims, secret, algorithm)


def authorize_url(app: IntegrationCredentials, **overrides: Any) -> str:
    """``/oauth/v1/authorize`` with a request JWT built by :func:`request_jwt`."""
    params = {"response_type": "code", "client_id": app.client_id}
    params["request"] = request_jwt(app, **overrides)
    return str(httpx2.URL(f"https://{app.api_host}/oauth/v1/authorize", params=params))


def assertion(app: IntegrationCredentials, path: str, **overrides: Any) -> str:
    """A client assertion as the Python SDK builds it, with ``overrides``."""
    claims: dict[str, Any] = {
        "iss": app.client_id,
        "sub": app.client_id,
        "aud": f"https://{app.api_host}{path}",
        "exp": time.time() + 300,
        "jti": secrets.token_hex(16),
    }
    claims.update(overrides)
    algorithm = claims.pop("alg", "HS512")
    secret = claims.pop("secret", app.client_secret)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jose.encode(claims, secret, algorithm)
