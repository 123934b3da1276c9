"""The bridge's decisions for brokered logins under faults and forged facts: the upstream
proof (trust-upstream-mfa) and Duo's preauth (known-only), with Keycloak and Duo as mock
transports; the real flows run against the sandbox in tests/federation."""

from __future__ import annotations

import base64
import json
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx2
import jwt
import pytest
from pydantic import SecretStr
from starlette.testclient import TestClient

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.admin.idp_policy import format_idps, policy_of
from keycloak_duo_bridge.settings import Settings, key_ring
from tests.bridge_fakes import (
    ISSUER,
    METRICS_TOKEN,
    Fakes,
    bridge_client,
    bridge_settings,
    logged_reasons,
    realm_fakes,
    request_token,
)

LINK = {"alias": "partner", "subject": "sub-1"}
BROKERED = {"idp_links": [LINK], "local_password": False, "idp": "partner"}


def id_token(**claims: Any) -> str:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return (
        f"{part({'alg': 'RS256'})}.{part({'sub': 'sub-1', 'iat': int(time.time()), **claims})}.c2ln"
    )


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return bridge_settings(tmp_path).model_copy(update={"metrics_token": SecretStr(METRICS_TOKEN)})


@pytest.fixture
def fakes(settings: Settings) -> Fakes:
    """Duo on; the IdP ``partner`` trusted on amr mfa; known-only with Auth API keys."""
    found = realm_fakes(settings)
    sealed = key_ring(settings).encrypt("a" * 40, realm="acme", attribute=attr.AUTH_API_SKEY)
    found.attributes |= {
        attr.DUO_IDPS: format_idps({"partner": policy_of("trust-upstream-mfa", amr=["mfa"])}) or "",
        attr.DUO_BROKERED_ENROLLMENT: "known-only",
        attr.AUTH_API_IKEY: "DIAUTHAPIXXXXXXXXXXX",
        attr.AUTH_API_HOST: "duo.example",
        attr.AUTH_API_SKEY: sealed,
    }
    return found


@pytest.fixture
def client(settings: Settings, fakes: Fakes) -> Iterator[TestClient]:
    with bridge_client(settings, fakes) as test_client:
        yield test_client


def verdict(client: TestClient, **claims: Any) -> dict[str, Any]:
    fresh = {"nonce": secrets.token_urlsafe(8), "jti": secrets.token_urlsafe(8), **claims}
    response = client.get("/step-up", params={"request": request_token(**fresh)})
    if response.status_code != 302 or "verdict=" not in response.headers["location"]:
        return {"to": response.headers.get("location", "")}
    assert response.headers["location"].startswith(f"{ISSUER}/login-actions/")
    token = parse_qs(urlsplit(response.headers["location"]).query)["verdict"][0]
    found: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return found


def test_a_proven_upstream_mfa_is_an_upstream_verdict_and_counted(
    client: TestClient, fakes: Fakes
) -> None:
    """The trusted IdP's token proves amr mfa: upstream, with the IdP and the proof, no Duo
    call at all, and the metric per realm and IdP."""
    found = verdict(client, **BROKERED, idp_provider="oidc", idp_id_token=id_token(amr=["mfa"]))
    assert (found["result"], found["reason"]) == ("upstream", "upstream_mfa")
    assert (found["idp"], found["proof"], found["amr"]) == ("partner", "amr:mfa", ["mfa"])
    assert fakes.duo_calls == []
    text = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).text
    assert 'kdb_upstream_mfa_total{idp="partner",realm="acme"} 1.0' in text


def test_a_forged_or_missing_proof_goes_to_duo(client: TestClient, fakes: Fakes) -> None:
    """A SAML IdP's token note, another user's token, none at all: Duo's preauth then the
    prompt, and the reason is logged."""
    fakes.duo = httpx2.Response(200, json={"stat": "OK", "response": {"result": "auth"}})
    cases = [
        {"idp_provider": "saml", "idp_id_token": id_token(amr=["mfa"])},
        {"idp_provider": "oidc", "idp_id_token": id_token(amr=["mfa"], sub="someone")},
        {"idp_provider": "oidc"},
    ]
    with logged_reasons() as reasons:
        for case in cases:
            assert "result" not in verdict(client, **BROKERED, **case)
    assert any("subject" in r for r in reasons)
    assert any("SAML" in r for r in reasons)
    assert fakes.duo_calls.count("/auth/v2/preauth") == len(cases)


@pytest.mark.parametrize(
    ("duo", "result", "reason"),
    [
        (
            httpx2.Response(200, json={"stat": "OK", "response": {"result": "enroll"}}),
            "deny",
            "not_enrolled",
        ),
        (httpx2.ConnectError, "error", "duo_unavailable"),
        (
            httpx2.Response(200, json={"stat": "OK", "response": {"result": "maybe"}}),
            "error",
            "duo_protocol",
        ),
    ],
)
def test_known_only_preauth_outcomes(
    client: TestClient, fakes: Fakes, duo: Any, result: str, reason: str
) -> None:
    """An unknown broker-made user is denied before any prompt; an outage or a garbled
    answer decides nothing (an error, never a pass)."""
    fakes.duo = duo
    found = verdict(client, **BROKERED)
    assert (found["result"], found["reason"]) == (result, reason)


def test_known_only_needs_auth_api_keys_and_spares_local_users(
    client: TestClient, fakes: Fakes
) -> None:
    """Without Auth API credentials a broker-made user's login is a configuration error; a
    linked local user (a password of the realm) is not asked about."""
    for name in (attr.AUTH_API_IKEY, attr.AUTH_API_HOST, attr.AUTH_API_SKEY):
        del fakes.attributes[name]
    found = verdict(client, **BROKERED, cfg="other")
    assert (found["result"], found["reason"]) == ("error", "duo_config")
    local = verdict(client, **{**BROKERED, "local_password": True}, cfg="other2")
    assert "result" not in local  # to Duo's prompt
