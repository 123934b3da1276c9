"""The tenant file's Auth API keys (CIBA, #16) against the sandbox Keycloak, through the CLI:
checked live with Duo's /auth/v2/check before anything is written, skey by reference only,
inherited by the partner's clients, exported as references."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.admin import tenants
from keycloak_duo_bridge.admin.explain import effective_settings
from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.duo.auth_protocol import AuthApiCredentials
from keycloak_duo_bridge.errors import NotFoundError
from tests.admin.conftest import Names

pytestmark = pytest.mark.keycloak
Cli = Callable[..., tuple[int, str, str]]


def tenant_file(partner: str, client: str, creds: AuthApiCredentials | None) -> str:
    """A partner with Auth API keys (skey from $P_AUTHAPI), or ``inherit``, and one client."""
    auth_api = (
        f"{{ikey: {creds.ikey}, api_host: '{creds.api_host}', skey: env:P_AUTHAPI}}"
        if creds
        else "inherit"
    )
    return f"""\
version: 1
partners:
  {partner}:
    duo:
      auth_api: {auth_api}
    clients:
      {client}: {{}}
"""


def test_auth_api_keys_are_checked_inherited_exported_and_removed(  # noqa: PLR0915, PLR0917
    cli: Cli,
    kc: Keycloak,
    names: Names,
    auth_api_creds: AuthApiCredentials,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A skey Duo refuses makes nothing (no realm); the right one is stored sealed, the client
    uses it, plan shows a new skey only as changed, export names a reference, and
    ``inherit`` removes the keys."""
    partner, client = names("pa"), names("ca")
    path = tmp_path / "fleet.yaml"
    path.write_text(tenant_file(partner, client, auth_api_creds), encoding="utf-8")
    wrong = "y" * 40
    monkeypatch.setenv("P_AUTHAPI", wrong)
    code, out, err = cli("apply", path)
    assert code == 1
    assert "Duo rejected the Auth API credentials" in err
    assert wrong not in out + err
    with pytest.raises(NotFoundError):
        tenants.get_tenant(kc, partner)

    monkeypatch.setenv("P_AUTHAPI", auth_api_creds.skey)
    code, out, err = cli("apply", path)
    assert code == 0, (out, err)
    stored = kc.get_realm(partner)["attributes"]
    assert stored[attr.AUTH_API_IKEY] == auth_api_creds.ikey
    assert stored[attr.AUTH_API_HOST] == auth_api_creds.api_host
    assert auth_api_creds.skey not in stored[attr.AUTH_API_SKEY]
    inherited = effective_settings(kc, client).auth_api
    assert inherited.value is not None
    assert inherited.value.ikey == auth_api_creds.ikey
    assert inherited.origin.value == "partner realm"
    code, out, _ = cli("plan", path)
    assert (code, out.strip()) == (0, "No changes: Keycloak matches the tenant file.")

    monkeypatch.setenv("P_AUTHAPI", wrong)
    code, out, _ = cli("plan", path)
    assert code == 2
    assert "duo.auth_api.skey" in out
    assert "(changed)" in out
    assert wrong not in out
    code, _, err = cli("apply", path)  # an existing realm: refused, the stored keys stay
    assert code == 1
    assert "Duo rejected the Auth API credentials" in err
    assert kc.get_realm(partner)["attributes"][attr.AUTH_API_SKEY] == stored[attr.AUTH_API_SKEY]

    code, out, _ = cli("export", "--partner", partner)
    assert code == 0
    assert f"skey: env:KDB_AUTHAPI_SKEY_{partner.upper().replace('-', '_')}" in out
    assert auth_api_creds.skey not in out
    secrets = tmp_path / "out" / "secrets"
    exported = tmp_path / "out" / "exported.yaml"
    code, _, _ = cli("export", "--partner", partner, "-o", exported, "--secrets-dir", secrets)
    assert code == 0
    assert f"skey: file:secrets/{partner}.authapi.skey" in exported.read_text(encoding="utf-8")
    written = secrets / f"{partner}.authapi.skey"
    assert written.read_text(encoding="utf-8").strip() == auth_api_creds.skey
    assert written.stat().st_mode & 0o777 == 0o600

    path.write_text(tenant_file(partner, client, None), encoding="utf-8")
    code, out, _ = cli("plan", path)
    assert code == 2
    assert "duo.auth_api.ikey" in out
    assert cli("apply", path)[0] == 0
    remaining = kc.get_realm(partner).get("attributes") or {}
    assert not {attr.AUTH_API_IKEY, attr.AUTH_API_HOST, attr.AUTH_API_SKEY} & set(remaining)
    assert effective_settings(kc, client).auth_api.value is None
    assert cli("plan", path)[0] == 0
    tenants.delete_tenant(kc, partner, cascade=True)
