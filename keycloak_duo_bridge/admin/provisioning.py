"""Provisioning a client realm's Duo application through its partner's admin link (#17).

``provision``: with an Accounts API link, find or create the client's Duo child account;
in the partner's account (Admin API link) or the child's, find or create a Web SDK
application, read its keys, store them through :func:`duo_settings.set_credentials` (the
live health check runs there), and record the ikey and account id on the client realm, so a
re-run finds them instead of creating more. A failure midway undoes, newest first, what this
run created in Duo and wrote to Keycloak: no partial state. ``deprovision`` removes what the
record names, and only that.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.admin import auth_api_settings, record
from keycloak_duo_bridge.admin.duo_link import AdminLink, load_link
from keycloak_duo_bridge.admin.duo_settings import HealthCheck, set_credentials
from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.admin.tenants import Tenant, delete_tenant, get_tenant, is_linked
from keycloak_duo_bridge.admin.undo import Undo
from keycloak_duo_bridge.attributes import TenantKind
from keycloak_duo_bridge.duo.accounts_api import AccountsApi, ChildAccount
from keycloak_duo_bridge.duo.admin_api import AdminApi, Application, NewApplication
from keycloak_duo_bridge.duo.auth_protocol import AuthApiCredentials
from keycloak_duo_bridge.duo.rest_client import RestClient, RestOptions
from keycloak_duo_bridge.duo.rest_protocol import Api
from keycloak_duo_bridge.envelope import KeyRing
from keycloak_duo_bridge.errors import ConfigError, DuoNotFoundError, NotFoundError

__all__ = [
    "Provisioned",
    "application_for",
    "deprovision",
    "planned_removal",
    "provision",
]

log = logging.getLogger(__name__)

_CREDENTIALS = (attr.DUO_IKEY, attr.DUO_API_HOST, attr.DUO_SKEY)
_RECORD = (attr.DUO_PROVISIONED_IKEY, attr.DUO_PROVISIONED_ACCOUNT, attr.DUO_PROVISIONED_AUTH_API)
_AUTH_API = (attr.AUTH_API_IKEY, attr.AUTH_API_HOST, attr.AUTH_API_SKEY)
CIBA_GRANT: Final = "oidc.ciba.grant.enabled"  # a Keycloak client attribute


def application_for(tenant: Tenant) -> NewApplication:
    """The Web SDK application a client realm implies (pure).

    Named after the realm, so Duo's Admin Panel shows whose it is. New users are asked to
    enrol ("enroll"): the bridge decides who reaches Duo (user mode, bypass groups), so
    whoever arrives must pass it. Usernames are not normalised by Duo, because the realm's
    mapping may send ``realm:user`` or an email, which Duo's "Simple" policy would cut.
    """
    shown = tenant.display_name or tenant.name
    return NewApplication(name=f"Keycloak {shown} ({tenant.name})"[:100])


def auth_api_application_for(tenant: Tenant) -> NewApplication:
    """The Auth API application (Duo Push without a browser, CIBA) a client realm implies."""
    shown = tenant.display_name or tenant.name
    return NewApplication(name=f"Keycloak {shown} ({tenant.name}) push"[:100], type="authapi")


def ciba_enabled(keycloak: Keycloak, realm: str) -> bool:
    """Whether the realm uses CIBA: one of its applications has the CIBA grant on."""
    return any(
        str((client.get("attributes") or {}).get(CIBA_GRANT, "")).lower() == "true"
        for client in keycloak.get_clients(realm)
    )


@dataclass(frozen=True)
class Provisioned:
    """What ``provision`` left in place, and what this run created."""

    realm: str
    ikey: str
    api_host: str
    account_id: str | None
    created: tuple[str, ...]
    verification: str
    auth_api_ikey: str | None = None  # the Auth API application, for a realm with CIBA

    def to_json(self) -> dict[str, Any]:
        """What the CLI and the API show (never the skey)."""
        return {
            "ikey": self.ikey,
            "api_host": self.api_host,
            "account_id": self.account_id,
            "created": list(self.created),
            "health_check": self.verification,
            "auth_api_ikey": self.auth_api_ikey,
        }


def _client_and_link(keycloak: Keycloak, realm: str, ring: KeyRing) -> tuple[Tenant, AdminLink]:
    tenant = get_tenant(keycloak, realm, TenantKind.CLIENT)
    partner = get_tenant(keycloak, tenant.partner or "", TenantKind.PARTNER)
    if not is_linked(tenant, partner):
        raise ConfigError(f"client {realm!r} is not linked to partner {partner.name!r}")
    return tenant, load_link(keycloak, partner.name, ring)


def _child(accounts: AccountsApi, recorded: str | None, name: str, undo: Undo) -> ChildAccount:
    if recorded is not None:
        for account in accounts.list_accounts():
            if account.account_id == recorded:
                return account
    account = accounts.create_account(name)
    undo.push(
        f"Duo child account {account.account_id}",
        lambda: accounts.delete_account(account.account_id),
    )
    return account


def _application(
    admin: AdminApi, recorded: str | None, new: NewApplication, undo: Undo
) -> Application:
    if recorded is not None:
        try:
            return admin.get_application(recorded)
        except DuoNotFoundError:
            log.warning("the recorded Duo application %s is gone; creating another", recorded)
    app = admin.create_application(new)
    undo.push(
        f"Duo application {app.integration_key}",
        lambda: admin.delete_application(app.integration_key),
    )
    return app


def provision(
    keycloak: Keycloak,
    realm: str,
    *,
    ring: KeyRing,
    options: RestOptions,
    health: HealthCheck | None,
) -> Provisioned:
    """Give client ``realm`` its own Duo application, made through its partner's link."""
    tenant, link = _client_and_link(keycloak, realm, ring)
    before = {name: tenant.attributes.get(name) for name in (*_CREDENTIALS, *_RECORD, *_AUTH_API)}
    undo = Undo()
    with contextlib.ExitStack() as clients:
        rest = clients.enter_context(RestClient(link.creds, options))
        try:
            return _provision(keycloak, tenant, link, rest, options, ring, health, undo, clients)
        except BaseException:
            undo.run()  # Duo's objects, newest first
            record.store(keycloak, realm, before)  # then the realm as it was
            raise


def _provision(  # noqa: PLR0917 - one run's context
    keycloak: Keycloak,
    tenant: Tenant,
    link: AdminLink,
    rest: RestClient,
    options: RestOptions,
    ring: KeyRing,
    health: HealthCheck | None,
    undo: Undo,
    clients: contextlib.ExitStack,
) -> Provisioned:
    own = tenant.attributes
    account: ChildAccount | None = None
    admin = AdminApi(rest)
    api_host = link.creds.api_host
    if link.api is Api.ACCOUNTS:
        accounts = AccountsApi(rest, options)
        account = _child(accounts, own.get(attr.DUO_PROVISIONED_ACCOUNT), tenant.name, undo)
        admin = accounts.admin_in(account)
        clients.enter_context(admin.rest)
        api_host = admin.rest.creds.api_host
    app = _application(admin, own.get(attr.DUO_PROVISIONED_IKEY), application_for(tenant), undo)
    skey = admin.secret_key(app.integration_key)
    result = set_credentials(
        keycloak,
        tenant.name,
        ikey=app.integration_key,
        skey=skey,
        api_host=api_host,
        ring=ring,
        health=health,
    )
    push = None
    if ciba_enabled(keycloak, tenant.name):
        push = _auth_api(keycloak, tenant, admin, api_host, options, ring, undo, check=health)
    account_id = account.account_id if account else None
    record.store(
        keycloak,
        tenant.name,
        {
            attr.DUO_PROVISIONED_IKEY: app.integration_key,
            attr.DUO_PROVISIONED_ACCOUNT: account_id,
            attr.DUO_PROVISIONED_AUTH_API: push,
        },
    )
    created = tuple(what for what, _ in undo.steps)
    log.info("provisioned Duo for realm %s: %s", tenant.name, ", ".join(created) or "nothing new")
    return Provisioned(
        tenant.name, app.integration_key, api_host, account_id, created, result.verification, push
    )


def _auth_api(  # noqa: PLR0917 - one run's context
    keycloak: Keycloak,
    tenant: Tenant,
    admin: AdminApi,
    api_host: str,
    options: RestOptions,
    ring: KeyRing,
    undo: Undo,
    *,
    check: HealthCheck | None,
) -> str:
    """The realm's Auth API application (CIBA): found by its record or made, its keys stored
    as `duo auth-api set` does (checked with /auth/v2/check when the Web SDK keys were)."""
    recorded = tenant.attributes.get(attr.DUO_PROVISIONED_AUTH_API)
    push = _application(admin, recorded, auth_api_application_for(tenant), undo)
    live = (
        auth_api_settings.live_check(options.ca_file, allow_any_host=options.allow_any_host)
        if check is not None
        else None
    )
    creds = AuthApiCredentials(
        push.integration_key, admin.secret_key(push.integration_key), api_host
    )
    auth_api_settings.set_auth_api(keycloak, tenant.name, creds=creds, ring=ring, check=live)
    return push.integration_key


def exists(keycloak: Keycloak, name: str) -> bool:
    """Whether the tenant realm is there already (a failed provisioning then keeps it)."""
    try:
        get_tenant(keycloak, name)
    except NotFoundError:
        return False
    return True


def provision_created(
    keycloak: Keycloak,
    realm: str,
    *,
    existed: bool,
    ring: KeyRing,
    options: RestOptions,
    health: HealthCheck | None,
) -> Provisioned:
    """:func:`provision` right after ``client create``: a realm that did not exist before
    goes again if provisioning fails, so the create leaves nothing half-made."""
    try:
        return provision(keycloak, realm, ring=ring, options=options, health=health)
    except BaseException:
        if not existed:
            delete_tenant(keycloak, realm)
        raise


def planned_removal(attributes: Mapping[str, str]) -> list[str]:
    """What ``deprovision`` would remove in Duo, in words (pure)."""
    account = attributes.get(attr.DUO_PROVISIONED_ACCOUNT)
    ikey = attributes.get(attr.DUO_PROVISIONED_IKEY)
    if account:
        return [f"Duo child account {account} with its applications ({ikey})"]
    retiring = attributes.get(attr.DUO_RETIRING_IKEY)
    push = attributes.get(attr.DUO_PROVISIONED_AUTH_API)
    also = [f"Duo application {retiring} (retiring after a rotation)"] if retiring else []
    also += [f"Duo Auth API application {push}"] if push else []
    return [f"Duo application {ikey}", *also] if ikey else []


def deprovision(
    keycloak: Keycloak, realm: str, *, ring: KeyRing, options: RestOptions
) -> list[str]:
    """Remove what provisioning made for ``realm`` in Duo, and the realm's record of it."""
    tenant = get_tenant(keycloak, realm, TenantKind.CLIENT)
    own = tenant.attributes
    removed = planned_removal(own)
    if not removed:
        return []
    _, link = _client_and_link(keycloak, realm, ring)
    account = own.get(attr.DUO_PROVISIONED_ACCOUNT)
    ikey = own.get(attr.DUO_PROVISIONED_IKEY)
    with RestClient(link.creds, options) as rest:
        if account:
            accounts = AccountsApi(rest, options)
            if any(a.account_id == account for a in accounts.list_accounts()):
                accounts.delete_account(account)
            else:
                log.warning("%s was already gone in Duo", removed[0])
        else:  # planned_removal found the application's ikey
            try:
                AdminApi(rest).delete_application(str(ikey))
            except DuoNotFoundError:
                log.warning("%s was already gone in Duo", removed[0])
            _delete_retiring(AdminApi(rest), tenant)
            _delete_auth_api(AdminApi(rest), tenant)
    changes: dict[str, str | None] = dict.fromkeys((*_RECORD, *_RETIRING))
    if own.get(attr.DUO_IKEY) == ikey:  # the realm's keys are the removed application's
        changes.update(dict.fromkeys(_CREDENTIALS))
    push = own.get(attr.DUO_PROVISIONED_AUTH_API)
    if push and own.get(attr.AUTH_API_IKEY) == push:
        changes.update(dict.fromkeys(_AUTH_API))
    record.store(keycloak, realm, changes)
    return removed


ROTATION_GRACE: Final = 900  # s: longer than a login's pending step (the bridge's 600 s)
_RETIRING: Final = (
    attr.DUO_RETIRING_IKEY,
    attr.DUO_RETIRING_API_HOST,
    attr.DUO_RETIRING_SKEY,
    attr.DUO_RETIRING_UNTIL,
)


@dataclass(frozen=True)
class Rotated:
    """A rotation: the application replaced, the one now in use, and until when the replaced
    one still finishes logins started with it (0: deleted at once)."""

    realm: str
    old_ikey: str
    new_ikey: str
    verification: str
    retiring_until: int = 0


def _admin_for(
    link: AdminLink,
    tenant: Tenant,
    rest: RestClient,
    options: RestOptions,
    clients: contextlib.ExitStack,
) -> AdminApi:
    """The Admin API where the realm's application lives: the partner's, or its child's."""
    if link.api is not Api.ACCOUNTS:
        return AdminApi(rest)
    account_id = tenant.attributes.get(attr.DUO_PROVISIONED_ACCOUNT) or ""
    accounts = AccountsApi(rest, options)
    child = next((a for a in accounts.list_accounts() if a.account_id == account_id), None)
    if child is None:
        raise ConfigError(f"the Duo child account of {tenant.name!r} is gone; provision again")
    admin = accounts.admin_in(child)
    clients.enter_context(admin.rest)
    return admin


def _delete_auth_api(admin: AdminApi, tenant: Tenant) -> None:
    ikey = tenant.attributes.get(attr.DUO_PROVISIONED_AUTH_API)
    if not ikey:
        return
    try:
        admin.delete_application(ikey)
    except DuoNotFoundError:
        log.warning("the Auth API application %s of %s was already gone", ikey, tenant.name)


def _delete_retiring(admin: AdminApi, tenant: Tenant) -> None:
    ikey = tenant.attributes.get(attr.DUO_RETIRING_IKEY)
    if not ikey:
        return
    try:
        admin.delete_application(ikey)
    except DuoNotFoundError:
        log.warning("the retiring Duo application %s of %s was already gone", ikey, tenant.name)


def rotate(
    keycloak: Keycloak,
    realm: str,
    *,
    ring: KeyRing,
    options: RestOptions,
    health: HealthCheck | None,
    grace: int = ROTATION_GRACE,
    now: float | None = None,
) -> Rotated:
    """New keys for a provisioned realm: a new Web SDK application, stored and proven by the
    health check, and only then the old one retired.

    Duo's own reset (``reset_secret_key``) invalidates the old secret at once, with no overlap,
    so a new application is made instead: until it is stored and proven, the old one works.
    A failure before the switch deletes the new application and leaves the realm as it was.

    Retiring: new logins use the new application at once; a login that started with the old
    one (its Duo code is the old application's) finishes with it for ``grace`` seconds,
    recorded as ``kdb.duo.retiring.*``. :func:`retire` then deletes it; so does the next
    rotation. ``grace=0`` deletes it at once.
    """
    tenant, link = _client_and_link(keycloak, realm, ring)
    old = tenant.attributes.get(attr.DUO_PROVISIONED_IKEY)
    if not old:
        raise ConfigError(
            f"realm {realm!r} was not provisioned through Duo's Admin API; "
            f"rotate its keys in Duo and store them with `duo set {realm}`"
        )
    before = {name: tenant.attributes.get(name) for name in (*_CREDENTIALS, *_RECORD)}
    old_host = tenant.attributes.get(attr.DUO_API_HOST)
    old_sealed = tenant.attributes.get(attr.DUO_SKEY)
    undo = Undo()
    with contextlib.ExitStack() as clients:
        rest = clients.enter_context(RestClient(link.creds, options))
        admin = _admin_for(link, tenant, rest, options, clients)
        _delete_retiring(admin, tenant)  # an earlier rotation's: its grace is over now
        record.store(keycloak, realm, dict.fromkeys(_RETIRING))
        try:
            new = _application(admin, None, application_for(tenant), undo)
            result = set_credentials(
                keycloak,
                realm,
                ikey=new.integration_key,
                skey=admin.secret_key(new.integration_key),
                api_host=admin.rest.creds.api_host,
                ring=ring,
                health=health,
            )
            record.store(keycloak, realm, {attr.DUO_PROVISIONED_IKEY: new.integration_key})
        except BaseException:
            undo.run()
            record.store(keycloak, realm, before)
            raise
        until = 0
        if grace > 0 and old_host and old_sealed and tenant.attributes.get(attr.DUO_IKEY) == old:
            until = int((time.time() if now is None else now) + grace)
            skey = ring.decrypt(old_sealed, realm=realm, attribute=attr.DUO_SKEY)
            retiring = ring.encrypt(skey, realm=realm, attribute=attr.DUO_RETIRING_SKEY)
            record.store(
                keycloak,
                realm,
                dict(zip(_RETIRING, (old, old_host, retiring, str(until)), strict=True)),
            )
        else:
            try:
                admin.delete_application(old)
            except DuoNotFoundError:
                log.warning("the old Duo application %s of %s was already gone", old, realm)
    log.info("rotated Duo keys of realm %s: %s replaces %s", realm, new.integration_key, old)
    return Rotated(realm, old, new.integration_key, result.verification, until)


def retire(keycloak: Keycloak, realm: str, *, ring: KeyRing, options: RestOptions) -> str | None:
    """Delete the application a rotation left retiring (its logins in flight then fail);
    the ikey deleted, or None when there was none."""
    tenant, link = _client_and_link(keycloak, realm, ring)
    ikey = tenant.attributes.get(attr.DUO_RETIRING_IKEY)
    if not ikey:
        return None
    with contextlib.ExitStack() as clients:
        rest = clients.enter_context(RestClient(link.creds, options))
        _delete_retiring(_admin_for(link, tenant, rest, options, clients), tenant)
    record.store(keycloak, realm, dict.fromkeys(_RETIRING))
    log.info("retired Duo application %s of realm %s", ikey, realm)
    return ikey
