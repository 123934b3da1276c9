"""`serve` over TLS itself, and behind a TLS-terminating proxy (uvicorn, the bridge's options)."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import httpx2
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from keycloak_duo_bridge.app import create_app
from keycloak_duo_bridge.cli import main
from keycloak_duo_bridge.emulator.certs import ensure_certificates
from keycloak_duo_bridge.errors import ConfigError
from keycloak_duo_bridge.sandbox import secrets
from keycloak_duo_bridge.serving import ServerThread, bind, bridge_options, start_in_thread
from keycloak_duo_bridge.settings import Settings, load_settings


def _settings(state: Path, **overrides: Any) -> Settings:
    values = {k.removeprefix("KDB_").lower(): v for k, v in secrets.ensure(state).items()}
    return load_settings(**{**values, **overrides})


def _serve(app: Any, settings: Settings) -> ServerThread:
    """Serve ``app`` on a free loopback port with exactly the options `serve` gives uvicorn."""
    options = bridge_options(settings)
    sock = bind(options.pop("host"), 0)
    del options["port"]
    config = uvicorn.Config(app, lifespan="on", timeout_graceful_shutdown=1, **options)
    return start_in_thread(config, sock, name="bridge")


def _seen(request: Request) -> Response:
    client = request.client.host if request.client else None
    return JSONResponse({"client": client, "scheme": request.url.scheme})


ECHO = Starlette(routes=[Route("/seen", _seen)])
FORWARDED = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}


@pytest.mark.parametrize(
    ("allowed", "expected"),
    [
        (None, {"client": "127.0.0.1", "scheme": "http"}),
        ("10.0.0.0/8, 192.0.2.1", {"client": "127.0.0.1", "scheme": "http"}),
        ("192.0.2.1,127.0.0.1", {"client": "203.0.113.9", "scheme": "https"}),
        ("127.0.0.0/8", {"client": "203.0.113.9", "scheme": "https"}),
    ],
)
def test_forwarded_headers_are_trusted_only_from_configured_proxies(
    tmp_path: Path, allowed: str | None, expected: dict[str, str]
) -> None:
    """X-Forwarded-For/-Proto change the client and scheme only when the connection comes
    from an address in KDB_FORWARDED_ALLOW_IPS; unset, nobody is trusted."""
    settings = _settings(tmp_path, forwarded_allow_ips=allowed)
    with _serve(ECHO, settings) as server:
        seen = httpx2.get(f"http://127.0.0.1:{server.port}/seen", headers=FORWARDED).json()
    assert seen == expected


def test_serve_speaks_tls_itself(tmp_path: Path) -> None:
    """With a certificate and key set, the bridge answers https (checked against the test CA),
    its default URL is https, and plain http is refused."""
    paths = ensure_certificates(tmp_path / "tls", "127.0.0.1")
    settings = _settings(
        tmp_path, bridge_tls_cert_file=paths.cert, bridge_tls_key_file=paths.key, bridge_port=8443
    )
    assert settings.bridge_url == "https://127.0.0.1:8443"
    trust = ssl.create_default_context(cafile=str(paths.ca))
    with _serve(create_app(settings), settings) as server:
        answer = httpx2.get(f"https://127.0.0.1:{server.port}/healthz", verify=trust)
        assert (answer.status_code, answer.text) == (200, "ok\n")
        assert "server" not in answer.headers
        with pytest.raises(httpx2.HTTPError):
            httpx2.get(f"http://127.0.0.1:{server.port}/healthz")


def test_tls_needs_both_files(tmp_path: Path) -> None:
    """A certificate without its key (or the reverse) is a settings error naming both."""
    with pytest.raises(ConfigError, match="KDB_BRIDGE_TLS_CERT_FILE and KDB_BRIDGE_TLS_KEY_FILE"):
        _settings(tmp_path, bridge_tls_cert_file=tmp_path / "cert.pem")


def test_serve_passes_tls_and_proxy_settings_to_uvicorn(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The serve command hands uvicorn the certificate, the key and the trusted proxies."""
    for name, value in secrets.ensure(tmp_path).items():
        monkeypatch.setenv(name, value)
    paths = ensure_certificates(tmp_path / "tls", "127.0.0.1")
    monkeypatch.setenv("KDB_BRIDGE_TLS_CERT_FILE", str(paths.cert))
    monkeypatch.setenv("KDB_BRIDGE_TLS_KEY_FILE", str(paths.key))
    monkeypatch.setenv("KDB_FORWARDED_ALLOW_IPS", "10.1.2.3")
    monkeypatch.setenv("KDB_BRIDGE_URL", "https://bridge.example")
    seen: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: seen.update(kw, app=app))
    monkeypatch.setattr("keycloak_duo_bridge.logs.configure", lambda: None)
    assert main(["serve"]) == 0
    assert seen["ssl_certfile"] == str(paths.cert)
    assert seen["ssl_keyfile"] == str(paths.key)
    assert (seen["proxy_headers"], seen["forwarded_allow_ips"]) == (True, ["10.1.2.3"])
