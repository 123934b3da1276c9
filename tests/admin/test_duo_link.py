"""A partner's Duo admin link on sandbox realms: checked live, sealed, never inherited."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.admin import duo_link, explain, keys, record, tenants
from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.duo.rest_client import RestOptions
from keycloak_duo_bridge.duo.rest_protocol import Api
from keycloak_duo_bridge.envelope import KeyRing
from keycloak_duo_bridge.errors import (
    ConfigError,
    DuoConfigError,
    DuoPermissionError,
    NotFoundError,
)
from tests.admin.conftest import Names
from tests.fixtures_provisioning import MakeRestCreds

pytestmark = pytest.mark.keycloak


@pytest.fixture
def partner(kc: Keycloak, names: Names) -> Iterator[tuple[str, str]]:
    """A partner with one client, deleted afterwards."""
    p, c = names("lp"), names("lc")
    tenants.create_partner(kc, p)
    tenants.create_client(kc, c, partner=p)
    yield p, c
    tenants.delete_tenant(kc, p, cascade=True)


def test_link_is_checked_sealed_and_not_inherited(
    kc: Keycloak,
    ring: KeyRing,
    partner: tuple[str, str],
    duo_rest_creds: MakeRestCreds,
    duo_rest_options: RestOptions,
) -> None:
    """A checked link stores ikey, host and a sealed skey; explain shows only "linked"."""
    p, c = partner
    creds = duo_rest_creds(Api.ADMIN)
    result = duo_link.set_link(
        kc,
        p,
        ikey=creds.ikey,
        skey=creds.skey,
        api_host=creds.api_host,
        api=Api.ADMIN,
        ring=ring,
        check=duo_link.live_check(duo_rest_options),
    )
    assert (result.written, result.verification) == (True, "ok")
    stored = kc.get_realm(p)["attributes"]
    assert creds.skey not in str(stored)
    assert stored[attr.DUO_ADMIN_API] == "admin"
    assert ring.decrypt(stored[attr.DUO_ADMIN_SKEY], realm=p, attribute=attr.DUO_ADMIN_SKEY) == (
        creds.skey
    )
    shown = explain.explain(kc, p).to_json()
    assert shown["duo_admin_link"] == "linked (Admin API)"
    assert creds.skey not in str(shown)
    assert creds.ikey not in str(shown)
    client_view = explain.explain(kc, c).to_json()
    assert client_view["duo_admin_link"] is None
    assert creds.ikey not in str(client_view)
    assert explain.record_state(kc, c) is record.RecordState.CURRENT
    loaded = duo_link.load_link(kc, p, ring)
    assert (loaded.creds.ikey, loaded.api) == (creds.ikey, Api.ADMIN)
    assert creds.skey not in repr(loaded)


@pytest.mark.parametrize(
    ("api", "permissions", "refusal", "said"),
    [
        (Api.ADMIN, ["adminapi_read_resource"], None, "'Grant applications'"),
        (Api.ADMIN, None, "admin_api_not_in_plan", "paid editions"),
        (Api.ACCOUNTS, None, "accounts_api_not_enabled", "managed-service providers"),
    ],
)
def test_refusals_save_nothing(  # noqa: PLR0917
    kc: Keycloak,
    ring: KeyRing,
    partner: tuple[str, str],
    duo_rest_creds: MakeRestCreds,
    duo_rest_options: RestOptions,
    api: Api,
    permissions: list[str] | None,
    refusal: str | None,
    said: str,
) -> None:
    """Each kind of Duo refusal is named, and the partner realm is left unchanged."""
    p = partner[0]
    creds = duo_rest_creds(api, permissions=permissions, refusal=refusal)
    before = kc.get_realm(p)["attributes"]
    with pytest.raises(DuoPermissionError, match=said) as caught:
        duo_link.set_link(
            kc,
            p,
            ikey=creds.ikey,
            skey=creds.skey,
            api_host=creds.api_host,
            api=api,
            ring=ring,
            check=duo_link.live_check(duo_rest_options),
        )
    assert "nothing saved" in str(caught.value)
    assert creds.skey not in str(caught.value)
    assert kc.get_realm(p)["attributes"] == before


def test_only_partners_link_and_clear_removes(
    kc: Keycloak, ring: KeyRing, partner: tuple[str, str]
) -> None:
    """A client realm cannot hold a link; clear removes it; a moved ciphertext fails to open."""
    p, c = partner
    args = {"ikey": "D" * 20, "skey": "s" * 40, "api_host": "api-1.duosecurity.com"}
    with pytest.raises(NotFoundError):
        duo_link.set_link(kc, c, **args, api=Api.ADMIN, ring=ring, check=None)
    duo_link.set_link(kc, p, **args, api=Api.ACCOUNTS, ring=ring, check=None)
    assert duo_link.link_status(kc.get_realm(p)["attributes"]) == "linked (Accounts API)"
    sealed = kc.get_realm(p)["attributes"][attr.DUO_ADMIN_SKEY]
    record.store(kc, p, {attr.DUO_ADMIN_SKEY: ring.encrypt("t" * 40, realm=c, attribute="x")})
    with pytest.raises(DuoConfigError, match="cannot be read"):
        duo_link.load_link(kc, p, ring)
    record.store(kc, p, {attr.DUO_ADMIN_SKEY: sealed})
    assert duo_link.clear_link(kc, p)
    assert not duo_link.clear_link(kc, p)
    assert duo_link.link_status(kc.get_realm(p)["attributes"]) is None
    with pytest.raises(ConfigError, match="no Duo admin link"):
        duo_link.load_link(kc, p, ring)


def test_cli_sets_and_clears_without_printing_the_skey(
    cli: Callable[..., tuple[int, str, str]],
    partner: tuple[str, str],
    duo_rest_creds: MakeRestCreds,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`duo admin-link set --accounts` checks and stores; a refused link exits non-zero."""
    p = partner[0]
    creds = duo_rest_creds(Api.ACCOUNTS)
    monkeypatch.setenv("KDB_TEST_ADMIN_SKEY", creds.skey)
    code, out, err = cli(
        "duo",
        "admin-link",
        "set",
        p,
        "--ikey",
        creds.ikey,
        "--host",
        creds.api_host,
        "--skey-env",
        "KDB_TEST_ADMIN_SKEY",
        "--accounts",
    )
    assert (code, out.strip()) == (0, f"{p}: Duo Accounts API link saved (check: ok)"), err
    assert creds.skey not in out + err
    code, out, _ = cli("duo", "show", p, "--json")
    assert '"admin_link": "linked"' in out
    assert creds.skey not in out
    refused = duo_rest_creds(Api.ADMIN, refusal="admin_api_not_in_plan")
    monkeypatch.setenv("KDB_TEST_ADMIN_SKEY", refused.skey)
    code, out, err = cli(
        "duo",
        "admin-link",
        "set",
        p,
        "--ikey",
        refused.ikey,
        "--host",
        refused.api_host,
        "--skey-env",
        "KDB_TEST_ADMIN_SKEY",
        "--json",
    )
    assert code != 0
    assert "paid editions" in err
    assert refused.skey not in out + err
    assert cli("duo", "admin-link", "clear", p, "--json")[1].count('"removed"') == 1
    assert cli("duo", "admin-link", "clear", p)[1].strip() == f"{p}: Duo admin link was not set"
    assert os.environ["KDB_TEST_ADMIN_SKEY"]  # the variable, not argv, carried it


def test_key_rotation_reseals_the_link(
    kc: Keycloak,
    ring: KeyRing,
    partner: tuple[str, str],
    cli: Callable[..., tuple[int, str, str]],
) -> None:
    """`keys check` lists the link's skey; `keys rotate` re-seals it under the active key."""
    p = partner[0]
    duo_link.set_link(
        kc,
        p,
        ikey="D" * 20,
        skey="s" * 40,
        api_host="api-1.duosecurity.com",
        api=Api.ADMIN,
        ring=ring,
        check=None,
    )
    code, out, _ = cli("keys", "check")
    assert code == 0
    assert f"{p} (admin link)" in out
    new_ring = KeyRing(active="next", keys={**ring.keys, "next": os.urandom(32)})
    mine = [r for r in keys.check(kc, new_ring) if r.realm == p]
    assert [(r.attribute, r.state) for r in mine] == [(attr.DUO_ADMIN_SKEY, keys.KeyState.OLD)]
    rotated = [r for r in keys.rotate(kc, new_ring) if r.realm == p]
    assert [(r.attribute, r.rotated) for r in rotated] == [(attr.DUO_ADMIN_SKEY, True)]
    assert duo_link.load_link(kc, p, new_ring).creds.skey == "s" * 40
    # Back under the session's key: the sandbox is shared, and a later `keys check` (the
    # tenants page) must find no skey under a key the session's ring does not have.
    keys.rotate(kc, KeyRing(active=ring.active, keys=dict(new_ring.keys)))
