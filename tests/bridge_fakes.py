"""Mock-transport fakes of Keycloak and Duo for the bridge, shared by unit and hardening tests.

Not a test module: test modules import these instead of importing each other.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import strategies as st
from starlette.testclient import TestClient

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.app import build_services, create_app
from keycloak_duo_bridge.sandbox import secrets
from keycloak_duo_bridge.settings import Settings, key_ring, load_settings
from tests.step_up_claims import request_claims

KC = "http://kc.example"
ISSUER = f"{KC}/realms/acme"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
JWK = {**jwt.algorithms.RSAAlgorithm.to_jwk(KEY.public_key(), as_dict=True), "kid": "rk"}
IKEY, SKEY = "DIXXXXXXXXXXXXXXXXXX", "s" * 40
METRICS_TOKEN = "metrics-token-for-tests"


@dataclass
class Fakes:
    """What the mock Keycloak and Duo answer."""

    attributes: dict[str, str] = field(default_factory=dict)
    keycloak_down: bool = False
    realm_status: int = 200
    brief: bool = False
    calls: list[str] = field(default_factory=list)
    duo_calls: list[str] = field(default_factory=list)
    # the token endpoint's own answer, when it differs from the health check's
    duo_token: httpx2.Response | type[httpx2.ConnectError] | None = None
    duo: httpx2.Response | type[httpx2.ConnectError] = field(
        default_factory=lambda: httpx2.Response(200, json={"stat": "OK"})
    )

    def keycloak(self, request: httpx2.Request) -> httpx2.Response:
        self.calls.append(request.url.path)
        if self.keycloak_down:
            raise httpx2.ConnectError("down", request=request)
        path = request.url.path
        if path.endswith("/token"):
            return httpx2.Response(200, json={"access_token": "t", "expires_in": 300})
        if path.endswith("/certs"):
            if not path.startswith("/realms/acme/"):
                return httpx2.Response(404)
            return httpx2.Response(200, json={"keys": [JWK]})
        if path == "/realms/master":
            return httpx2.Response(self.realm_status)
        if self.brief:  # Keycloak's answer to a reader without view-realm: the name only
            return httpx2.Response(200, json={"realm": "acme"})
        return httpx2.Response(self.realm_status, json={"id": "id", "attributes": self.attributes})

    def answer_duo(self, request: httpx2.Request) -> httpx2.Response:
        self.duo_calls.append(request.url.path)
        answer = (
            self.duo_token if request.url.path.endswith("/token") and self.duo_token else self.duo
        )
        if isinstance(answer, httpx2.Response):
            return answer
        raise answer("down", request=request)


@contextmanager
def bridge_client(settings: Settings, fakes: Fakes) -> Iterator[TestClient]:
    """The bridge app, its Keycloak and Duo replaced by the fakes."""
    services = build_services(
        settings,
        duo_transport=httpx2.MockTransport(fakes.answer_duo),
        keycloak_transport=httpx2.MockTransport(fakes.keycloak),
    )
    with TestClient(
        create_app(settings, services), base_url="http://bridge.example", follow_redirects=False
    ) as test_client:
        yield test_client


def request_token(**changes: Any) -> str:
    kid = changes.pop("kid", "rk")
    claims = request_claims(ISSUER, **{"cfg": "fp", **changes})
    return jwt.encode(claims, KEY, algorithm="RS256", headers={"kid": kid})


def bridge_settings(state_dir: Path) -> Settings:
    generated = {k.removeprefix("KDB_").lower(): v for k, v in secrets.ensure(state_dir).items()}
    return load_settings(keycloak_url=KC, bridge_url="http://bridge.example", **generated)


def realm_fakes(settings: Settings) -> Fakes:
    sealed = key_ring(settings).encrypt(SKEY, realm="acme", attribute=attr.DUO_SKEY)
    return Fakes(
        attributes={
            attr.DUO_ENABLED: "true",
            attr.DUO_IKEY: "DIXXXXXXXXXXXXXXXXXX",
            attr.DUO_API_HOST: "duo.example",
            attr.DUO_SKEY: sealed,
        }
    )


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)


class _Reasons(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.reasons: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict) and "reason" in fields:
            self.reasons.append(str(fields["reason"]))


@contextmanager
def logged_reasons() -> Iterator[list[str]]:
    """The reasons the bridge logs with its events meanwhile (pages show plain words only)."""
    logger = logging.getLogger("keycloak_duo_bridge.bridge")
    handler, level = _Reasons(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield handler.reasons
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
