"""CIBA with Duo Push on the real sandbox Keycloak (#16): Keycloak's HTTP authentication
channel is the bridge, which pushes through the emulator's Auth API and calls Keycloak back."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

import httpx2
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from keycloak_duo_bridge.cli import main
from keycloak_duo_bridge.duo.auth_protocol import AuthApiCredentials
from keycloak_duo_bridge.sandbox.keycloak import SandboxKeycloak
from tests.fixtures_ciba import CIBA_CLIENT, CIBA_SECRET, CibaTenantFactory

pytestmark = pytest.mark.keycloak


def _denied(answer: httpx2.Response) -> bool:
    return answer.status_code == 400 and answer.json().get("error") == "access_denied"


def test_an_approved_push_gives_tokens_and_shows_the_binding_message(
    ciba_tenant: CibaTenantFactory, ciba_username: str
) -> None:
    """Approve: the client gets tokens for the user; the push carried the binding message."""
    tenant = ciba_tenant()
    user_id = tenant.user(ciba_username)
    tenant.emulator.control.script_push(ciba_username, "approve", delay=1.5)
    answer = tenant.login(ciba_username, binding_message="ORDER-42")
    assert answer.status_code == 200, answer.text
    claims = jwt.decode(answer.json()["access_token"], options={"verify_signature": False})
    assert claims["sub"] == user_id
    [push] = tenant.emulator.control.pushes(ciba_username)
    assert push["pushinfo"] == "binding_message=ORDER-42"


def test_an_approved_push_lands_in_the_duo_claim_amr_and_acr(
    ciba_tenant: CibaTenantFactory,
    ciba_username: str,
    keycloak_sandbox: SandboxKeycloak,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Approve: ID, access and refreshed tokens carry the browser login's `duo` claim (allow,
    duo_push, Duo's txid), amr `mfa` + `swk`, and the realm's Duo level as acr; Keycloak and
    the bridge log the outcome with the factor and txid."""
    tenant = ciba_tenant()
    user_id = tenant.user(ciba_username)
    tenant.emulator.control.script_push(ciba_username, "approve")
    with caplog.at_level(logging.INFO, logger="keycloak_duo_bridge.ciba"):
        answer = tenant.login(ciba_username)
    assert answer.status_code == 200, answer.text
    issued = answer.json()
    for name in ("access_token", "id_token"):
        claims = _claims(issued[name])
        duo = claims["duo"]
        assert (duo["result"], duo["factor"], duo["reason"]) == (
            "allow",
            "duo_push",
            "user_approved",
        ), name
        assert duo["txid"]
        assert abs(int(duo["time"]) - time.time()) < 120
        assert {"mfa", "swk"} <= set(claims["amr"]), name
        assert claims["acr"] == "mfa", name
    refreshed = tenant.refresh(issued["refresh_token"])
    txid = _claims(issued["access_token"])["duo"]["txid"]
    assert _claims(refreshed["access_token"])["duo"]["txid"] == txid
    logged = [getattr(r, "fields", {}) for r in caplog.records if r.getMessage() == "ciba outcome"]
    assert [(f["status"], f["factor"], f["txid"]) for f in logged] == [
        ("SUCCEED", "duo_push", txid)
    ]
    log = keycloak_sandbox.log_file.read_text(encoding="utf-8", errors="replace")
    assert (
        f"duo ciba outcome: realm={tenant.realm} client={CIBA_CLIENT} user={user_id} "
        f"duo_result=allow duo_reason=user_approved duo_factor=duo_push duo_txid={txid}"
    ) in log


def test_a_verdict_the_client_sends_is_never_read(
    ciba_tenant: CibaTenantFactory, ciba_username: str
) -> None:
    """Attack: the client adds a forged verdict (and Keycloak's note name) to its CIBA
    request; the tokens carry only the bridge's outcome, and a deny still gives no tokens."""
    tenant = ciba_tenant()
    user_id = tenant.user(ciba_username)
    issuer = f"{tenant.tenant.settings.keycloak_url}/realms/{tenant.realm}"
    own_key = ec.generate_private_key(ec.SECP256R1())
    forged = jwt.encode(
        {
            "typ": "kdb-ciba-verdict", "aud": issuer, "sub": user_id, "azp": CIBA_CLIENT,
            "exp": int(time.time()) + 120, "result": "allow", "factor": "hardware_token",
            "reason": "forged", "txid": "FORGED", "amr": ["mfa", "hwk"],
        },
        own_key,
        algorithm="ES256",
        headers={"kid": "mine"},
    )  # fmt: skip
    extra = {"kdb_verdict": forged, "ciba_callback_response_param_kdb_verdict": forged}
    tenant.emulator.control.script_push(ciba_username, "approve")
    answer = tenant.login(ciba_username, extra=extra)
    assert answer.status_code == 200, answer.text
    claims = _claims(answer.json()["access_token"])
    assert claims["duo"]["factor"] == "duo_push"
    assert claims["duo"]["txid"] != "FORGED"
    assert "hwk" not in claims["amr"]
    tenant.emulator.control.script_push(ciba_username, "deny")
    assert _denied(tenant.login(ciba_username, extra=extra))


def _claims(token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


@pytest.mark.parametrize(("answer", "reason"), [("deny", "duo_deny"), ("timeout", "duo_timeout")])
def test_a_denied_or_timed_out_push_is_refused(
    ciba_tenant: CibaTenantFactory,
    ciba_username: str,
    caplog: pytest.LogCaptureFixture,
    answer: str,
    reason: str,
) -> None:
    """Deny and Duo's timeout: the client is refused (access_denied), the reason logged."""
    tenant = ciba_tenant()
    tenant.user(ciba_username)
    tenant.emulator.control.script_push(ciba_username, answer)  # type: ignore[arg-type]
    with caplog.at_level(logging.INFO, logger="keycloak_duo_bridge.ciba"):
        assert _denied(tenant.login(ciba_username))
    reasons = [getattr(r, "fields", {}).get("reason") for r in caplog.records]
    assert reason in reasons


def test_a_push_reported_as_fraud_is_refused_and_logged_as_fraud(
    ciba_tenant: CibaTenantFactory, ciba_username: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Fraud: refused, and a warning names it as fraud."""
    tenant = ciba_tenant()
    tenant.user(ciba_username)
    tenant.emulator.control.script_push(ciba_username, "fraud")
    with caplog.at_level(logging.INFO, logger="keycloak_duo_bridge.ciba"):
        assert _denied(tenant.login(ciba_username))
    warnings = [
        r
        for r in caplog.records
        if r.levelno == logging.WARNING and r.name == "keycloak_duo_bridge.ciba"
    ]
    assert [r.getMessage() for r in warnings] == ["duo push reported as fraud"]


@pytest.mark.parametrize("fail_mode", ["closed", "open"])
def test_duo_down_refuses_in_either_fail_mode(
    ciba_tenant: CibaTenantFactory,
    ciba_username: str,
    caplog: pytest.LogCaptureFixture,
    fail_mode: str,
) -> None:
    """Duo unreachable: refused whether the realm fails closed or open (Duo is the only
    factor of a CIBA login, so fail-open cannot apply), and no push is sent."""
    tenant = ciba_tenant(fail_mode=fail_mode)
    tenant.user(ciba_username)
    creds = tenant.creds
    tenant.set_auth_api(AuthApiCredentials(creds.ikey, creds.skey, "localhost:1"))
    with caplog.at_level(logging.INFO, logger="keycloak_duo_bridge.ciba"):
        assert _denied(tenant.login(ciba_username))
    reasons = [getattr(r, "fields", {}).get("reason") for r in caplog.records]
    expected = "duo_unavailable" + (":fail_open_not_applied" if fail_mode == "open" else "")
    assert expected in reasons
    assert tenant.emulator.control.pushes(ciba_username) == []


def test_a_user_not_enrolled_is_refused_without_a_push(
    ciba_tenant: CibaTenantFactory, ciba_username: str
) -> None:
    """Not enrolled at Duo: refused, nothing pushed."""
    tenant = ciba_tenant()
    tenant.user(ciba_username, enrolled=False)
    assert _denied(tenant.login(ciba_username))
    assert tenant.emulator.control.pushes(ciba_username) == []


def test_an_app_with_duo_off_gets_no_push_and_no_tokens(
    ciba_tenant: CibaTenantFactory, ciba_username: str
) -> None:
    """The CIBA client's Duo mode is off: no push, and no tokens (no factor was checked)."""
    tenant = ciba_tenant()
    tenant.user(ciba_username)
    tenant.set_app_mode("off")
    assert _denied(tenant.login(ciba_username))
    assert tenant.emulator.control.pushes(ciba_username) == []


def test_a_bypass_group_member_gets_no_push_and_no_tokens(
    ciba_tenant: CibaTenantFactory, ciba_username: str
) -> None:
    """A bypass-group member: no push, and refused (a bypass needs another factor)."""
    tenant = ciba_tenant(bypass_groups=["/staff"])
    user_id = tenant.user(ciba_username)
    admin = tenant.tenant.admin()
    group_id = admin.create_group({"name": "staff"})
    assert group_id is not None
    admin.group_user_add(user_id, group_id)
    assert _denied(tenant.login(ciba_username))
    assert tenant.emulator.control.pushes(ciba_username) == []


def test_the_channel_refuses_tokens_not_from_the_realm(
    ciba_tenant: CibaTenantFactory, keycloak_sandbox: SandboxKeycloak
) -> None:
    """A missing, malformed, HMAC or self-signed bearer token: 401, and nothing pushed."""
    tenant = ciba_tenant()
    channel = f"{keycloak_sandbox.settings.bridge_url}/ciba/channel"
    issuer = f"{tenant.tenant.settings.keycloak_url}/realms/{tenant.realm}"
    claims = {
        "typ": "Bearer",
        "iss": issuer,
        "aud": issuer,
        "sub": "someone",
        "azp": "ciba-cli",
        "jti": "forged",
        "exp": int(time.time()) + 60,
    }
    own_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = [
        None,
        "Bearer not-a-jwt",
        "Bearer " + jwt.encode(claims, "k" * 32, algorithm="HS256"),
        "Bearer " + jwt.encode(claims, own_key, algorithm="RS256", headers={"kid": "mine"}),
    ]
    body = {"login_hint": "someone", "scope": "openid", "binding_message": "X"}
    with httpx2.Client(timeout=10) as http:
        for header in forged:
            headers = {"Authorization": header} if header else {}
            answer = http.post(channel, json=body, headers=headers)
            assert answer.status_code == 401, header
            assert answer.json() == {"error": "invalid_token"}


def test_the_login_command_prints_or_writes_the_tokens(
    ciba_tenant: CibaTenantFactory,
    ciba_username: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`login`: approve prints the tokens (or writes them 0600); deny exits 1, one line."""
    tenant = ciba_tenant()
    tenant.user(ciba_username)
    tenant.emulator.control.script_push(ciba_username, "approve")
    monkeypatch.setenv("KDB_TEST_CIBA_SECRET", CIBA_SECRET)
    argv = [
        "login", "--realm", tenant.realm, "--client", CIBA_CLIENT, "--user", ciba_username,
        "--secret-env", "KDB_TEST_CIBA_SECRET", "--binding-message", "CLI-1",
        "--keycloak-url", tenant.tenant.settings.keycloak_url,
    ]  # fmt: skip
    monkeypatch.setattr("sys.stderr.isatty", lambda: True)
    assert main(argv) == 0
    out, err = capsys.readouterr()
    assert "Approve the Duo push on your phone (CLI-1)" in err
    assert "waiting for Duo" in err
    assert json.loads(out)["token_type"].lower() == "bearer"
    tokens = tmp_path / "tokens.json"
    assert main([*argv, "--out", str(tokens)]) == 0
    assert json.loads(tokens.read_text())["access_token"]
    assert tokens.stat().st_mode & 0o777 == 0o600
    tenant.emulator.control.script_push(ciba_username, "deny")
    assert main(argv) == 1
    assert "the login was refused" in capsys.readouterr().err
    secret_file = tmp_path / "secret"
    assert main([*argv[:7], "--secret-file", str(secret_file)]) == 1
    assert "cannot read the secret file" in capsys.readouterr().err
    monkeypatch.delenv("KDB_TEST_CIBA_SECRET")
    assert main(argv) == 1
    assert "KDB_TEST_CIBA_SECRET is not set" in capsys.readouterr().err
