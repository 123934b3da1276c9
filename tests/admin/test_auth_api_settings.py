"""Per-tenant Duo Auth API credentials (#16): checked live with /auth/v2/check, skey sealed,
inherited from a linked partner, shown masked by explain; through the CLI on the sandbox."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.admin import tenants
from keycloak_duo_bridge.admin.effective import Origin, resolve_effective
from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.duo.auth_protocol import AuthApiCredentials
from keycloak_duo_bridge.envelope import KeyRing
from tests.admin.conftest import Names

pytestmark = pytest.mark.keycloak
Cli = Callable[..., tuple[int, str, str]]


@pytest.fixture
def partner(kc: Keycloak, names: Names) -> Iterator[tuple[str, str]]:
    """A partner with one client, deleted afterwards."""
    p, c = names("p"), names("c")
    tenants.create_partner(kc, p)
    tenants.create_client(kc, c, partner=p)
    yield p, c
    tenants.delete_tenant(kc, p, cascade=True)


def _set(cli: Cli, realm: str, creds: AuthApiCredentials, *extra: str) -> tuple[int, str, str]:
    return cli(
        "duo", "auth-api", "set", realm, "--ikey", creds.ikey, "--host", creds.api_host,
        "--skey-env", "KDB_TEST_AUTHAPI_SKEY", *extra,
    )  # fmt: skip


def test_set_checks_seals_and_is_idempotent(  # noqa: PLR0917
    cli: Cli,
    kc: Keycloak,
    ring: KeyRing,
    partner: tuple[str, str],
    auth_api_creds: AuthApiCredentials,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Checked credentials are stored with the skey sealed for its attribute; again: unchanged."""
    p, _ = partner
    monkeypatch.setenv("KDB_TEST_AUTHAPI_SKEY", auth_api_creds.skey)
    code, out, err = _set(cli, p, auth_api_creds)
    assert (code, out.strip()) == (0, f"{p}: Duo Auth API credentials saved (check: ok)"), err
    stored = kc.get_realm(p)["attributes"]
    assert stored[attr.AUTH_API_IKEY] == auth_api_creds.ikey
    assert stored[attr.AUTH_API_HOST] == auth_api_creds.api_host
    sealed = stored[attr.AUTH_API_SKEY]
    assert sealed.startswith("kdb1:")
    assert auth_api_creds.skey not in json.dumps(stored)
    assert ring.decrypt(sealed, realm=p, attribute=attr.AUTH_API_SKEY) == auth_api_creds.skey
    again = json.loads(_set(cli, p, auth_api_creds, "--json")[1])
    assert again == {
        "realm": p,
        "auth_api": "unchanged",
        "check": "ok",
        "ikey": auth_api_creds.ikey,
        "api_host": auth_api_creds.api_host,
    }


def test_a_rejected_or_unreachable_check_saves_nothing(
    cli: Cli,
    kc: Keycloak,
    partner: tuple[str, str],
    auth_api_creds: AuthApiCredentials,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A wrong skey or an unreachable host: a one-line error, exit 1, no attribute written;
    --no-verify saves without the check."""
    p, _ = partner
    wrong = "w" * 40
    monkeypatch.setenv("KDB_TEST_AUTHAPI_SKEY", wrong)
    code, out, err = _set(cli, p, auth_api_creds)
    assert code != 0
    assert "Duo rejected the Auth API credentials, nothing saved" in err
    assert wrong not in out + err
    down = AuthApiCredentials(auth_api_creds.ikey, wrong, "localhost:1")
    code, _, err = _set(cli, p, down)
    assert code != 0
    assert "unreachable" in err
    assert "nothing saved" in err
    assert attr.AUTH_API_IKEY not in (kc.get_realm(p).get("attributes") or {})
    code, out, _ = _set(cli, p, down, "--no-verify")
    assert (code, out.strip()) == (0, f"{p}: Duo Auth API credentials saved (check: skipped)")


def test_a_client_inherits_the_partners_and_explain_masks_them(
    cli: Cli,
    partner: tuple[str, str],
    auth_api_creds: AuthApiCredentials,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The partner's Auth API credentials reach its linked client; explain shows their origin
    and only the skey's key id; clear removes them."""
    p, c = partner
    monkeypatch.setenv("KDB_TEST_AUTHAPI_SKEY", auth_api_creds.skey)
    assert _set(cli, p, auth_api_creds)[0] == 0
    code, out, _ = cli("explain", c, "--json")
    assert code == 0
    settings = json.loads(out)["settings"]
    assert settings["auth_api_ikey"] == {
        "value": auth_api_creds.ikey,
        "origin": f"partner realm ({p})",
    }
    assert settings["auth_api_skey"]["value"].startswith("******** (encrypted, key ")
    assert auth_api_creds.skey not in out
    assert json.loads(cli("duo", "auth-api", "clear", p, "--json")[1]) == {
        "realm": p,
        "auth_api": "removed",
    }
    assert cli("duo", "auth-api", "clear", p)[1].strip() == (
        f"{p}: own Duo Auth API credentials were not set"
    )
    assert json.loads(cli("explain", c, "--json")[1])["settings"]["auth_api_ikey"]["value"] == "-"


def test_bad_shapes_and_unknown_realms_are_refused(
    cli: Cli, names: Names, tmp_path: Path, auth_api_creds: AuthApiCredentials
) -> None:
    """A short ikey or a realm that is no tenant: a clear error and nothing written."""
    skey = tmp_path / "skey"
    skey.write_text(auth_api_creds.skey)
    args = ("--host", auth_api_creds.api_host, "--skey-file", skey)
    code, _, err = cli("duo", "auth-api", "set", names("none"), "--ikey", "DI1", *args)
    assert code != 0
    assert "the ikey must be 20 letters or digits" in err
    code, _, err = cli(
        "duo", "auth-api", "set", names("none"), "--ikey", auth_api_creds.ikey, *args
    )
    assert code != 0
    assert "does not exist" in err or "not a" in err


def test_auth_api_credentials_are_one_unit() -> None:
    """Incomplete Auth API credentials are reported and used by nobody (pure resolution)."""
    own = {attr.AUTH_API_IKEY: "D" * 20}
    effective = resolve_effective(own, realm="r", realm_id="id")
    assert effective.auth_api.value is None
    assert effective.auth_api.origin is Origin.CLIENT_REALM
    assert (
        "realm 'r' has incomplete Duo Auth API credentials: "
        "kdb.duo.authapi.api_host, kdb.duo.authapi.skey unset"
    ) in effective.problems
