"""The doctor's pure checks, and the answers a sandbox Keycloak never gives (an in-process
fake Keycloak over httpx2's MockTransport): each judged as a login would be."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import httpx2
import pytest

from keycloak_duo_bridge import keygen
from keycloak_duo_bridge.cli import main
from keycloak_duo_bridge.doctor import checks, probe
from keycloak_duo_bridge.doctor.checks import Status
from keycloak_duo_bridge.doctor.keys import secrets
from keycloak_duo_bridge.doctor.probe import Token
from keycloak_duo_bridge.doctor.run import diagnose
from keycloak_duo_bridge.sandbox.ports import free_port
from keycloak_duo_bridge.settings import Settings, load_settings

DATE = "Tue, 01 Dec 2026 12:00:00 GMT"
DATE_SECONDS = 1796126400.0


def test_http_dates() -> None:
    """A Date header is read as seconds since the epoch; absent or garbled, as unknown."""
    assert checks.http_date(DATE) == DATE_SECONDS
    assert checks.http_date(None) is None
    assert checks.http_date("yesterday") is None


def test_clock_without_a_date_is_a_warning() -> None:
    """A peer that sends no Date cannot be compared: a warning, not a failure."""
    assert checks.clock("Duo x", None, 0.0, 60).status is Status.WARN
    assert checks.clock("Duo x", 61.0, 0.0, 60).status is Status.FAIL
    assert checks.clock("Duo x", 59.0, 0.0, 60).status is Status.OK


def test_extension_missing_fails_with_the_install_steps() -> None:
    """Server info without the duo-step-up provider fails, pointing at kc.sh build."""
    check = checks.extension({"providers": {"required-action": {"providers": {}}}})
    assert check.status is Status.FAIL
    assert "kc.sh build" in (check.fix or "")
    assert checks.extension({}).status is Status.FAIL


def test_keycloak_outside_the_supported_range_is_a_warning() -> None:
    """A Keycloak the extension does not support (started anyway) is a warning."""
    assert checks.keycloak_version({"systemInfo": {"version": "27.0.0"}}).status is Status.WARN
    assert "unknown" in checks.keycloak_version({}).detail


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("https://bridge.example", Status.OK),
        ("http://127.0.0.1:8000", Status.OK),
        ("http://localhost:8000", Status.OK),
        ("http://[::1]:8000", Status.OK),
        ("http://bridge.example", Status.FAIL),
        ("http://10.0.0.5:8000", Status.FAIL),
        ("ftp://127.0.0.1", Status.FAIL),
    ],
)
def test_public_url_needs_https_outside_loopback(url: str, status: Status) -> None:
    """Browsers reach the bridge over https, unless it is on loopback."""
    assert checks.public_url_scheme(url).status is status


def test_public_url_answer() -> None:
    """/healthz must answer 200."""
    assert checks.public_url_answer("https://b", 200, None).status is Status.OK
    assert "answered HTTP 503" in checks.public_url_answer("https://b", 503, None).detail


def test_a_realm_whose_jwks_is_not_json() -> None:
    """A hand-edited bridge JWKS that is not JSON cannot hold the bridge's key: a failure."""
    own = {"kdb.bridge.url": "https://b", "kdb.bridge.jwks": "not json"}
    found = checks.wired_realm("r", own, None, bridge_url="https://b", public_jwk=_jwk())
    assert [c.status for c in found] == [Status.FAIL, Status.WARN]


def _jwk() -> dict[str, str]:
    return {"kid": "k", "x": "x", "y": "y"}


def test_token_repr_hides_the_token() -> None:
    """A Token's repr shows when it was issued, never the token."""
    assert "secret-token" not in repr(Token("secret-token", 1.0))


def _settings(tmp_path: Path, **overrides: object) -> Settings:
    values = {k.removeprefix("KDB_").lower(): v for k, v in keygen.generate("k1").items()}
    return load_settings(
        state_dir=tmp_path,
        keycloak_url="http://kc.test",
        bridge_url="http://127.0.0.1:1",
        **{**values, **overrides},
    )


def _fake_keycloak(realms: object, *, down: str = "") -> httpx2.MockTransport:
    """Keycloak answering with an opaque (non-JWT) token, a Date header, and these realms;
    no answer at all for paths ending with ``down``."""

    fixed = {
        "/realms/master": httpx2.Response(200, json={"realm": "master"}, headers={"Date": DATE}),
        "/realms/master/protocol/openid-connect/token": httpx2.Response(
            200, json={"access_token": "opaque"}
        ),
        "/admin/serverinfo": httpx2.Response(403, json={}),
        "/admin/realms": httpx2.Response(200, json=realms)
        if isinstance(realms, list)
        else httpx2.Response(500, text="boom"),
    }

    def answer(request: httpx2.Request) -> httpx2.Response:
        path = request.url.path
        if down and path.endswith(down):
            raise httpx2.ConnectError("gone", request=request)
        return fixed.get(path) or httpx2.Response(404, json={})

    return httpx2.MockTransport(answer)


def test_no_duo_realm_and_keycloaks_date(tmp_path: Path) -> None:
    """With no Duo realm visible the report says so; without a JWT the Date header gives
    Keycloak's clock; closed server info is a warning."""
    client = httpx2.Client(transport=_fake_keycloak([{"realm": "master"}]))
    found = {
        c.name: c for c in diagnose(_settings(tmp_path), now=lambda: DATE_SECONDS, client=client)
    }
    assert found["realms"].detail == "no realm has Duo on"
    assert found["clock vs Keycloak"].status is Status.OK
    assert found["extension"].status is Status.WARN
    assert "HTTP 403" in found["extension"].detail
    assert found["bridge reachable"].status is Status.FAIL


def test_realms_that_cannot_be_listed(tmp_path: Path) -> None:
    """Keycloak failing the realm list fails the realms check."""
    client = httpx2.Client(transport=_fake_keycloak(None))
    found = {c.name: c for c in diagnose(_settings(tmp_path), client=client)}
    assert found["realms"].status is Status.FAIL
    assert "HTTP 500" in found["realms"].detail


def test_unreadable_token_claims() -> None:
    """An access token that is not a JWT with iat gives no clock reading."""
    bad = base64.urlsafe_b64encode(json.dumps({"sub": "x"}).encode()).decode()
    assert probe._issued_at("opaque") is None
    assert probe._issued_at(f"h.{bad}.s") is None


def test_the_cli_exits_1_with_a_fix_per_failure(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """With nothing reachable, `doctor` prints each failure with its fix and exits 1."""
    for name, value in keygen.generate("k1").items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("KDB_KEYCLOAK_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("KDB_BRIDGE_URL", f"http://127.0.0.1:{free_port()}")
    assert main(["doctor"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "FAILED: a login would fail"
    keycloak = next(i for i, line in enumerate(out) if line.startswith("FAIL  keycloak "))
    assert out[keycloak + 1].strip().startswith("fix: check KDB_KEYCLOAK_URL")
    assert main(["doctor", "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["ok"] is False


def test_keycloak_stops_answering_midway(tmp_path: Path) -> None:
    """No answer from the token endpoint fails the login; none from server info warns."""
    client = httpx2.Client(transport=_fake_keycloak([], down="/token"))
    found = {c.name: c for c in diagnose(_settings(tmp_path), client=client)}
    assert "token endpoint is unreachable" in found["keycloak login"].detail
    client = httpx2.Client(transport=_fake_keycloak([], down="/serverinfo"))
    found = {c.name: c for c in diagnose(_settings(tmp_path), client=client)}
    assert "ConnectError" in found["extension"].detail


def test_a_client_realm_whose_partner_cannot_be_read(tmp_path: Path) -> None:
    """A Duo realm naming a partner the bridge cannot read is judged on its own attributes."""
    realm = {
        "realm": "globex",
        "attributes": {"kdb.tenant.partner": "gone", "kdb.duo.enabled": "true"},
    }
    client = httpx2.Client(transport=_fake_keycloak([realm]))
    found = {c.name: c for c in diagnose(_settings(tmp_path), client=client)}
    assert "sends logins to no bridge" in found["realm globex"].detail
    assert "holds Duo credentials" in found["duo globex"].detail
    assert found["realm globex action"].status is Status.WARN


def test_an_unregistered_required_action_fails() -> None:
    """A Duo realm without the duo-step-up required action fails: its logins skip Duo."""
    check = checks.required_action("r", [{"alias": "UPDATE_PASSWORD", "enabled": True}])
    assert (check.status, "not registered" in check.detail) == (Status.FAIL, True)


def test_no_cookie_secret(tmp_path: Path) -> None:
    """An unset cookie secret fails its check, naming the variable."""
    settings = _settings(tmp_path).model_copy(update={"bridge_cookie_secret": None})
    found = {c.name: c for c in secrets(settings)}
    assert found["cookie secret"].detail.startswith("KDB_BRIDGE_COOKIE_SECRET must be set")


def test_an_untrusted_duo_certificate_fails_with_how_to_trust_it() -> None:
    """Duo's certificate not trusted: a failure whose fix names KDB_DUO_CA_FILE."""
    found = checks.duo_health("acme", "api-x.duosecurity.com", "untrusted", "not trusted")
    assert found.status == Status.FAIL
    assert "not trusted" in found.detail
    assert "KDB_DUO_CA_FILE" in (found.fix or "")
