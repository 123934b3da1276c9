"""Provisioning a client's Duo application through its partner's admin link, on sandbox
Keycloak and the emulator: end to end with a login, idempotent, undone on failure."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx2
import pytest

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.admin import duo_link, duo_settings, provisioning, record, tenants, wiring
from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.admin.tenants import Tenant
from keycloak_duo_bridge.admin.undo import Undo
from keycloak_duo_bridge.attributes import TenantKind
from keycloak_duo_bridge.duo.client import tls_context
from keycloak_duo_bridge.duo.health import HealthVerdict
from keycloak_duo_bridge.duo.rest_client import RestOptions
from keycloak_duo_bridge.duo.rest_protocol import Api
from keycloak_duo_bridge.emulator import RunningEmulator
from keycloak_duo_bridge.emulator.rest_model import MAIN_ACCOUNT_ID
from keycloak_duo_bridge.envelope import KeyRing
from keycloak_duo_bridge.errors import ConfigError, DuoPermissionError, NotFoundError
from keycloak_duo_bridge.sandbox import provision as sandbox
from keycloak_duo_bridge.sandbox.walk import WalkError, browser_like_client, walk_login
from keycloak_duo_bridge.settings import Settings
from tests.admin.conftest import Names
from tests.fixtures_bridge import APP_ID, PASSWORD, Bridge
from tests.fixtures_provisioning import MakeRestCreds

pytestmark = pytest.mark.keycloak

Realms = tuple[str, str]


@dataclass
class Runner:
    """Provisioning against the sandbox and the emulator, live health check by default."""

    kc: Keycloak
    ring: KeyRing
    options: RestOptions
    live: duo_settings.HealthCheck

    def __call__(
        self, realm: str, health: duo_settings.HealthCheck | None = None
    ) -> provisioning.Provisioned:
        return provisioning.provision(
            self.kc, realm, ring=self.ring, options=self.options, health=health or self.live
        )

    def deprovision(self, realm: str) -> list[str]:
        return provisioning.deprovision(self.kc, realm, ring=self.ring, options=self.options)


Provision = Runner


@pytest.fixture
def realms(kc: Keycloak, names: Names) -> Iterator[Realms]:
    """A partner and one client realm, deleted afterwards."""
    p, c = names("pp"), names("pc")
    tenants.create_partner(kc, p)
    tenants.create_client(kc, c, partner=p, display_name="Globex")
    yield p, c
    tenants.delete_tenant(kc, p, cascade=True)


@pytest.fixture
def link(
    kc: Keycloak, ring: KeyRing, realms: Realms, duo_rest_creds: MakeRestCreds
) -> Callable[..., None]:
    """``link(api, permissions=None, refusal=None)``: the partner's admin link, unchecked."""

    def make(api: Api, **kwargs: object) -> None:
        creds = duo_rest_creds(api, **kwargs)
        duo_link.set_link(
            kc,
            realms[0],
            ikey=creds.ikey,
            skey=creds.skey,
            api_host=creds.api_host,
            api=api,
            ring=ring,
            check=None,
        )

    return make


@pytest.fixture
def run(
    kc: Keycloak, ring: KeyRing, duo_emulator: RunningEmulator, duo_rest_options: RestOptions
) -> Runner:
    """``run(realm)`` provisions, ``run.deprovision(realm)`` removes."""
    live = duo_settings.duo_health_check(duo_emulator.ca_path, timeout=3, allow_any_host=True)
    return Runner(kc, ring, duo_rest_options, live)


def apps_named(emulator: RunningEmulator, realm: str) -> list[str]:
    return [i.client_id for i in emulator.state.integrations() if f"({realm})" in i.name]


def children_named(emulator: RunningEmulator, realm: str) -> list[str]:
    return [a.account_id for a in emulator.state.rest.children(MAIN_ACCOUNT_ID) if a.name == realm]


def test_admin_link_provisions_logs_in_reruns_and_deprovisions(  # noqa: PLR0917
    kc: Keycloak,
    realms: Realms,
    link: Callable[..., None],
    run: Provision,
    duo_emulator: RunningEmulator,
    stack_settings: Settings,
    bridge: Bridge,
    app_redirect: str,
) -> None:
    """A Web SDK app is made, stored and checked; a login passes Duo through it; a re-run
    finds it; deprovisioning removes it and the realm's keys."""
    c = realms[1]
    link(Api.ADMIN)
    done = run(c)
    assert (done.verification, done.account_id) == ("ok", None)
    assert done.created == (f"Duo application {done.ikey}",)
    assert apps_named(duo_emulator, c) == [done.ikey]
    made = duo_emulator.state.integration(done.ikey)
    assert made is not None
    assert made.name == f"Keycloak Globex ({c})"
    stored = kc.get_realm(c)["attributes"]
    assert (stored[attr.DUO_IKEY], stored[attr.DUO_PROVISIONED_IKEY]) == (done.ikey, done.ikey)
    assert made.client_secret not in str(stored)

    duo_settings.set_enabled(
        kc, c, enabled=True, wires=wiring.Wiring.of(stack_settings, bridge.url)
    )
    sandbox.ensure_app(stack_settings, c, APP_ID, app_redirect)
    sandbox.ensure_user(stack_settings, c, "pat", PASSWORD)
    duo_emulator.control.set_user("pat", behavior="allow", enrolled=True)
    walked = walk_login(
        keycloak_url=stack_settings.keycloak_url,
        realm=c,
        client_id=APP_ID,
        redirect_uri=app_redirect,
        username="pat",
        password=PASSWORD,
        verify=tls_context(duo_emulator.ca_path),
    )
    assert walked.access_claims[attr.TOKEN_CLAIM]["result"] == "allow"
    assert any(e["client_id"] == done.ikey for e in duo_emulator.control.events("token"))

    again = run(c)
    assert (again.ikey, again.created) == (done.ikey, ())
    assert apps_named(duo_emulator, c) == [done.ikey]

    assert provisioning.planned_removal(kc.get_realm(c)["attributes"]) == [
        f"Duo application {done.ikey}"
    ]
    assert run.deprovision(c) == [f"Duo application {done.ikey}"]
    assert apps_named(duo_emulator, c) == []
    left = kc.get_realm(c)["attributes"]
    assert not {attr.DUO_IKEY, attr.DUO_SKEY, attr.DUO_PROVISIONED_IKEY} & set(left)
    assert run.deprovision(c) == []


def test_accounts_link_makes_a_child_account_once(
    kc: Keycloak,
    realms: Realms,
    link: Callable[..., None],
    run: Provision,
    duo_emulator: RunningEmulator,
) -> None:
    """With an Accounts API link the app lives in the client's own child account; a re-run
    reuses both; deprovisioning deletes the child with its app."""
    c = realms[1]
    link(Api.ACCOUNTS)
    done = run(c)
    assert done.account_id is not None
    assert children_named(duo_emulator, c) == [done.account_id]
    made = duo_emulator.state.integration(done.ikey)
    assert made is not None
    assert made.account_id == done.account_id
    assert kc.get_realm(c)["attributes"][attr.DUO_PROVISIONED_ACCOUNT] == done.account_id
    again = run(c)
    assert (again.account_id, again.ikey, again.created) == (done.account_id, done.ikey, ())
    assert children_named(duo_emulator, c) == [done.account_id]
    removed = run.deprovision(c)
    assert removed == [f"Duo child account {done.account_id} with its applications ({done.ikey})"]
    assert children_named(duo_emulator, c) == []
    assert duo_emulator.state.integration(done.ikey) is None


def test_a_failed_health_check_undoes_everything(
    kc: Keycloak,
    realms: Realms,
    link: Callable[..., None],
    run: Provision,
    duo_emulator: RunningEmulator,
) -> None:
    """When the new keys fail their check, the child account and app go and the realm is
    unchanged."""
    c = realms[1]
    link(Api.ACCOUNTS)
    before = kc.get_realm(c)["attributes"]

    def refuse(_ikey: str, _skey: str, _host: str) -> duo_settings.HealthVerdictLike:
        return HealthVerdict("invalid_client", "the keys do not work")

    with pytest.raises(ConfigError, match="nothing saved"):
        run(c, health=refuse)
    assert children_named(duo_emulator, c) == []
    assert apps_named(duo_emulator, c) == []
    assert kc.get_realm(c)["attributes"] == before


@pytest.mark.parametrize(
    ("api", "kwargs", "said"),
    [
        (Api.ADMIN, {"permissions": ["adminapi_read_resource"]}, "'Grant applications'"),
        (Api.ADMIN, {"refusal": "admin_api_not_in_plan"}, "paid editions"),
        (Api.ACCOUNTS, {"refusal": "accounts_api_not_enabled"}, "managed-service providers"),
        (Api.ACCOUNTS, {"refusal": "child_methods_on_request"}, "only on request"),
    ],
)
def test_each_refusal_is_named_and_leaves_nothing(  # noqa: PLR0917
    kc: Keycloak,
    realms: Realms,
    link: Callable[..., None],
    run: Provision,
    duo_emulator: RunningEmulator,
    api: Api,
    kwargs: dict[str, object],
    said: str,
) -> None:
    """A missing grant, a plan without the Admin API, no Accounts API, or child-account
    methods Duo enables on request: named, and nothing left (no child account either)."""
    c = realms[1]
    link(api, **kwargs)
    before = kc.get_realm(c)["attributes"]
    with pytest.raises(DuoPermissionError, match=said):
        run(c)
    assert kc.get_realm(c)["attributes"] == before
    assert children_named(duo_emulator, c) == []
    assert apps_named(duo_emulator, c) == []


def test_unlinked_and_unprovisioned(
    kc: Keycloak, realms: Realms, run: Provision, names: Names
) -> None:
    """No admin link, or a client not linked to its partner, is refused before any call."""
    p, c = realms
    with pytest.raises(ConfigError, match="no Duo admin link"):
        run(c)
    stray = names("stray")
    tenants.create_client(kc, stray, partner=p)
    try:
        record.store(kc, p, {f"{attr.TENANT_CLIENT_PREFIX}{stray}": None})
        with pytest.raises(ConfigError, match="is not linked"):
            run(stray)
    finally:
        tenants.delete_tenant(kc, stray)
    assert run.deprovision(c) == []


def test_cli_create_provisions_and_delete_deprovisions(  # noqa: PLR0917
    cli: Callable[..., tuple[int, str, str]],
    kc: Keycloak,
    realms: Realms,
    link: Callable[..., None],
    names: Names,
    duo_emulator: RunningEmulator,
) -> None:
    """`client create --duo-provision` prints no secret; a failure removes the new realm;
    `client delete --duo-deprovision` says what it removes in Duo."""
    p = realms[0]
    lone = names("lone")
    code, _, err = cli("client", "create", lone, "--partner", p, "--duo-provision")
    assert code != 0
    assert "no Duo admin link" in err
    with pytest.raises(NotFoundError):
        tenants.get_tenant(kc, lone)
    link(Api.ADMIN)
    c = names("cli")
    code, out, err = cli("client", "create", c, "--partner", p, "--duo-provision")
    assert code == 0, err
    assert "provisioned; created: Duo application DI" in out
    ikey = kc.get_realm(c)["attributes"][attr.DUO_PROVISIONED_IKEY]
    made = duo_emulator.state.integration(ikey)
    assert made is not None
    assert made.client_secret not in out + err
    code, out, _ = cli("client", "create", c, "--partner", p, "--duo-provision", "--json")
    assert '"created": []' in out
    code, out, _ = cli("client", "delete", c, "--yes", "--duo-deprovision")
    assert code == 0
    assert f"removed in Duo: Duo application {ikey}" in out
    assert duo_emulator.state.integration(ikey) is None


def test_pure_parts(caplog: pytest.LogCaptureFixture) -> None:
    """The application a realm implies, the removal words, and an undo that cannot finish."""
    tenant = Tenant(name="globex", kind=TenantKind.CLIENT, partner="acme", display_name="")
    assert provisioning.application_for(tenant).params() == {
        "name": "Keycloak globex (globex)",
        "type": "websdk",
        "enroll_policy": "enroll",
        "username_normalization_policy": "None",
    }
    assert provisioning.planned_removal({}) == []
    undo = Undo()

    def broken() -> None:
        raise RuntimeError("Duo is down")

    undo.push("Duo application DIX", broken)
    with caplog.at_level(logging.ERROR):
        undo.run()
    assert "could not undo Duo application DIX: Duo is down" in caplog.text


def test_rotate_makes_a_new_application_then_retires_the_old(  # noqa: PLR0917
    cli: Callable[..., tuple[int, str, str]],
    kc: Keycloak,
    realms: Realms,
    link: Callable[..., None],
    run: Provision,
    duo_emulator: RunningEmulator,
) -> None:
    """`duo rotate` stores a new child-account application, proven, and leaves the old one
    retiring; `--retire` deletes it; the next rotation deletes an earlier one's, also one
    already gone; `--grace 0` deletes the old one at once; `--retire` then finds nothing."""
    c = realms[1]
    link(Api.ACCOUNTS)
    first = run(c)
    code, out, err = cli("duo", "rotate", c, "--json")
    assert code == 0, err
    assert '"health_check": "ok"' in out
    assert '"old_retiring_until": 1' in out
    own = kc.get_realm(c)["attributes"]
    new = own[attr.DUO_PROVISIONED_IKEY]
    assert new != first.ikey
    assert (own[attr.DUO_IKEY], own[attr.DUO_RETIRING_IKEY]) == (new, first.ikey)
    assert duo_emulator.state.integration(first.ikey) is not None  # retiring, not gone
    made = duo_emulator.state.integration(new)
    assert made is not None
    assert made.account_id == first.account_id
    assert made.client_secret not in out + err
    code, out, err = cli("duo", "rotate", c, "--retire", "--json")
    assert (code, f'"retired": "{first.ikey}"' in out) == (0, True), err
    assert duo_emulator.state.integration(first.ikey) is None
    assert attr.DUO_RETIRING_IKEY not in kc.get_realm(c)["attributes"]

    code, out, err = cli("duo", "rotate", c)
    assert (code, "finishes logins started with it until" in out) == (0, True), err
    third = kc.get_realm(c)["attributes"][attr.DUO_PROVISIONED_IKEY]
    duo_emulator.state.remove_integration(new)  # the retiring one, gone behind our back
    duo_emulator.state.remove_integration(third)  # and the one in use
    code, out, err = cli("duo", "rotate", c, "--grace", "0")
    assert code == 0, err
    assert f"{third} deleted" in out
    assert attr.DUO_RETIRING_IKEY not in kc.get_realm(c)["attributes"]
    code, out, err = cli("duo", "rotate", c, "--retire")
    assert (code, out.strip()) == (0, f"{c}: nothing retiring"), err
    code, _, err = cli("duo", "rotate", c, "--grace", "-1")
    assert (code, "--grace" in err) == (1, True)


def test_rotate_refusals_and_failures_change_nothing(
    kc: Keycloak,
    realms: Realms,
    link: Callable[..., None],
    run: Provision,
    duo_emulator: RunningEmulator,
) -> None:
    """An unprovisioned realm is refused; a new key failing its check is deleted and the old
    one stays in use; a vanished child account is named."""
    c = realms[1]
    link(Api.ADMIN)
    with pytest.raises(ConfigError, match="was not provisioned"):
        provisioning.rotate(kc, c, ring=run.ring, options=run.options, health=run.live)
    first = run(c)
    before = kc.get_realm(c)["attributes"]

    def refuse(_ikey: str, _skey: str, _host: str) -> duo_settings.HealthVerdictLike:
        return HealthVerdict("invalid_client", "the keys do not work")

    with pytest.raises(ConfigError, match="nothing saved"):
        provisioning.rotate(kc, c, ring=run.ring, options=run.options, health=refuse)
    assert kc.get_realm(c)["attributes"] == before
    assert apps_named(duo_emulator, c) == [first.ikey]

    duo_emulator.state.remove_integration(first.ikey)  # deleted in Duo behind our back
    assert run.deprovision(c) == [f"Duo application {first.ikey}"]

    link(Api.ACCOUNTS)
    gone = {attr.DUO_PROVISIONED_IKEY: first.ikey, attr.DUO_PROVISIONED_ACCOUNT: "DA" + "X" * 18}
    record.store(kc, c, gone)
    with pytest.raises(ConfigError, match=r"child account of .* is gone"):
        provisioning.rotate(kc, c, ring=run.ring, options=run.options, health=run.live)
    assert run.deprovision(c) == [
        f"Duo child account {'DA' + 'X' * 18} with its applications ({first.ikey})"
    ]


def test_recorded_objects_gone_and_keys_replaced(  # noqa: PLR0917
    cli: Callable[..., tuple[int, str, str]],
    kc: Keycloak,
    realms: Realms,
    duo_rest_creds: MakeRestCreds,
    run: Provision,
    duo_emulator: RunningEmulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A recorded child account or app deleted in Duo is made again; a failed provisioning of
    an existing realm keeps it; deprovisioning what Duo already lost keeps keys set by hand."""
    p, c = realms
    creds = duo_rest_creds(Api.ACCOUNTS)
    monkeypatch.setenv("KDB_TEST_LINK_SKEY", creds.skey)
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
        "KDB_TEST_LINK_SKEY",
        "--accounts",
        "--json",
    )
    assert (code, '"check": "ok"' in out) == (0, True), err
    first = run(c)
    duo_emulator.state.remove_integration(first.ikey)
    second = run(c)
    assert second.account_id == first.account_id
    assert second.created == (f"Duo application {second.ikey}",)
    assert first.account_id is not None
    duo_emulator.state.rest.remove_account(first.account_id)
    third = run(c)
    assert third.account_id != first.account_id
    assert len(third.created) == 2

    code, _, err = cli("client", "create", c, "--partner", p, "--duo-provision")
    assert code == 0, err  # found again; now make it fail on an existing realm
    duo_link.clear_link(kc, p)
    code, _, err = cli("client", "create", c, "--partner", p, "--duo-provision")
    assert code != 0
    assert "no Duo admin link" in err
    assert tenants.get_tenant(kc, c).name == c  # an existing realm stays

    link_again = duo_rest_creds(Api.ACCOUNTS)
    duo_link.set_link(
        kc,
        p,
        ikey=link_again.ikey,
        skey=link_again.skey,
        api_host=link_again.api_host,
        api=Api.ACCOUNTS,
        ring=run.ring,
        check=None,
    )
    duo_settings.set_credentials(
        kc,
        c,
        ikey="D" * 20,
        skey="s" * 40,
        api_host="api-1.duosecurity.com",
        ring=run.ring,
        health=None,
    )
    assert run.deprovision(c) == [
        f"Duo child account {third.account_id} with its applications ({third.ikey})"
    ]
    left = kc.get_realm(c)["attributes"]
    assert left[attr.DUO_IKEY] == "D" * 20
    assert attr.DUO_PROVISIONED_ACCOUNT not in left


@pytest.mark.parametrize("case", ["in-grace", "retired", "no-grace"])
def test_rotate_during_a_login_in_flight(  # noqa: PLR0917
    kc: Keycloak,
    realms: Realms,
    link: Callable[..., None],
    run: Provision,
    duo_emulator: RunningEmulator,
    stack_settings: Settings,
    bridge: Bridge,
    app_redirect: str,
    case: str,
) -> None:
    """`duo rotate` while Duo has already answered a login (its code is the old
    application's): in the grace the login finishes; once the old application is retired,
    or with no grace, it fails closed. A new login uses the new application."""
    grace = 0 if case == "no-grace" else provisioning.ROTATION_GRACE
    retired_meanwhile, finishes = case == "retired", case == "in-grace"
    c = realms[1]
    link(Api.ADMIN)
    first = run(c)
    duo_settings.set_enabled(
        kc, c, enabled=True, wires=wiring.Wiring.of(stack_settings, bridge.url)
    )
    sandbox.ensure_app(stack_settings, c, APP_ID, app_redirect)
    sandbox.ensure_user(stack_settings, c, "rita", PASSWORD)
    duo_emulator.control.set_user("rita", behavior="allow", enrolled=True)
    rotated: list[provisioning.Rotated] = []

    def rotate_before_the_callback(request: httpx2.Request) -> None:
        if request.url.path.endswith("/step-up/callback") and not rotated:
            done = provisioning.rotate(
                kc, c, ring=run.ring, options=run.options, health=run.live, grace=grace
            )
            rotated.append(done)
            if retired_meanwhile:
                provisioning.retire(kc, c, ring=run.ring, options=run.options)

    def login(session: httpx2.Client | None = None) -> str:
        walked = walk_login(
            keycloak_url=stack_settings.keycloak_url,
            realm=c,
            client_id=APP_ID,
            redirect_uri=app_redirect,
            username="rita",
            password=PASSWORD,
            verify=tls_context(duo_emulator.ca_path),
            client=session,
        )
        return str(walked.access_claims[attr.TOKEN_CLAIM]["result"])

    with browser_like_client(tls_context(duo_emulator.ca_path)) as session:
        session.event_hooks["request"] = [rotate_before_the_callback]
        if finishes:
            assert login(session) == "allow"
        else:
            with pytest.raises(WalkError):
                login(session)
    (done,) = rotated
    assert done.old_ikey == first.ikey
    assert bool(done.retiring_until) == (grace > 0)
    assert login() == "allow"  # a login started now: the new application
    assert any(e["client_id"] == done.new_ikey for e in duo_emulator.control.events("token"))
    removed = run.deprovision(c)  # the retiring application too, while in its grace
    assert removed[0] == f"Duo application {done.new_ikey}"
    assert len(removed) == (2 if case == "in-grace" else 1)
    assert duo_emulator.state.integration(first.ikey) is None


def test_a_realm_with_ciba_gets_an_auth_api_application_too(
    kc: Keycloak,
    realms: Realms,
    link: Callable[..., None],
    run: Provision,
    duo_emulator: RunningEmulator,
) -> None:
    """A client realm with a CIBA application also gets a Duo Auth API application, its keys
    stored and checked as `duo auth-api set` does; a re-run makes none; deprovisioning
    removes both."""
    c = realms[1]
    link(Api.ADMIN)
    kc.create_client(
        c,
        {
            "clientId": "kiosk",
            "publicClient": False,
            "attributes": {provisioning.CIBA_GRANT: "true"},
        },
    )
    done = run(c)
    assert done.auth_api_ikey is not None
    assert done.created == (
        f"Duo application {done.ikey}",
        f"Duo application {done.auth_api_ikey}",
    )
    made = duo_emulator.state.rest.credential(done.auth_api_ikey)
    assert made is not None
    assert (made.kind, made.name) == ("authapi", f"Keycloak Globex ({c}) push")
    own = kc.get_realm(c)["attributes"]
    assert own[attr.AUTH_API_IKEY] == own[attr.DUO_PROVISIONED_AUTH_API] == done.auth_api_ikey
    assert made.skey not in str(own)
    assert done.to_json()["auth_api_ikey"] == done.auth_api_ikey
    again = run(c)
    assert (again.auth_api_ikey, again.created) == (done.auth_api_ikey, ())
    assert run.deprovision(c) == [
        f"Duo application {done.ikey}",
        f"Duo Auth API application {done.auth_api_ikey}",
    ]
    assert duo_emulator.state.rest.credential(done.auth_api_ikey) is None
    assert not {attr.AUTH_API_IKEY, attr.DUO_PROVISIONED_AUTH_API} & set(
        kc.get_realm(c)["attributes"]
    )
