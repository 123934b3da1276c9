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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.admin import record
from keycloak_duo_bridge.admin.duo_link import AdminLink, load_link
from keycloak_duo_bridge.admin.duo_settings import HealthCheck, set_credentials
from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.admin.tenants import Tenant, delete_tenant, get_tenant, is_linked
from keycloak_duo_bridge.attributes import TenantKind
from keycloak_duo_bridge.duo.accounts_api import AccountsApi, ChildAccount
from keycloak_duo_bridge.duo.admin_api import AdminApi, Application, NewApplication
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
_RECORD = (attr.DUO_PROVISIONED_IKEY, attr.DUO_PROVISIONED_ACCOUNT)


def application_for(tenant: Tenant) -> NewApplication:
    """The Web SDK application a client realm implies (pure).

    Named after the realm, so Duo's Admin Panel shows whose it is. New users are asked to
    enrol ("enroll"): the bridge decides who reaches Duo (user mode, bypass groups), so
    whoever arrives must pass it. Usernames are not normalised by Duo, because the realm's
    mapping may send ``realm:user`` or an email, which Duo's "Simple" policy would cut.
    """
    shown = tenant.display_name or tenant.name
    return NewApplication(name=f"Keycloak {shown} ({tenant.name})"[:100])


@dataclass(frozen=True)
class Provisioned:
    """What ``provision`` left in place, and what this run created."""

    realm: str
    ikey: str
    api_host: str
    account_id: str | None
    created: tuple[str, ...]
    verification: str

    def to_json(self) -> dict[str, Any]:
        """What the CLI and the API show (never the skey)."""
        return {
            "ikey": self.ikey,
            "api_host": self.api_host,
            "account_id": self.account_id,
            "created": list(self.created),
            "health_check": self.verification,
        }


@dataclass
class _Undo:
    """What to undo if a later step fails, newest first."""

    steps: list[tuple[str, Callable[[], None]]] = field(default_factory=list)

    def push(self, what: str, action: Callable[[], None]) -> None:
        self.steps.append((what, action))

    def run(self) -> None:
        for what, action in reversed(self.steps):
            try:
                action()
            except Exception as exc:  # noqa: BLE001 - undo as much as possible, say what is left
                log.error("could not undo %s: %s; remove it by hand", what, exc)  # noqa: TRY400


def _client_and_link(keycloak: Keycloak, realm: str, ring: KeyRing) -> tuple[Tenant, AdminLink]:
    tenant = get_tenant(keycloak, realm, TenantKind.CLIENT)
    partner = get_tenant(keycloak, tenant.partner or "", TenantKind.PARTNER)
    if not is_linked(tenant, partner):
        raise ConfigError(f"client {realm!r} is not linked to partner {partner.name!r}")
    return tenant, load_link(keycloak, partner.name, ring)


def _child(accounts: AccountsApi, recorded: str | None, name: str, undo: _Undo) -> ChildAccount:
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
    admin: AdminApi, recorded: str | None, new: NewApplication, undo: _Undo
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
    before = {name: tenant.attributes.get(name) for name in (*_CREDENTIALS, *_RECORD)}
    undo = _Undo()
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
    undo: _Undo,
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
    account_id = account.account_id if account else None
    record.store(
        keycloak,
        tenant.name,
        {attr.DUO_PROVISIONED_IKEY: app.integration_key, attr.DUO_PROVISIONED_ACCOUNT: account_id},
    )
    created = tuple(what for what, _ in undo.steps)
    log.info("provisioned Duo for realm %s: %s", tenant.name, ", ".join(created) or "nothing new")
    return Provisioned(
        tenant.name, app.integration_key, api_host, account_id, created, result.verification
    )


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
    return [f"Duo application {ikey}"] if ikey else []


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
    changes: dict[str, str | None] = dict.fromkeys(_RECORD)
    if own.get(attr.DUO_IKEY) == ikey:  # the realm's keys are the removed application's
        changes.update(dict.fromkeys(_CREDENTIALS))
    record.store(keycloak, realm, changes)
    return removed


@dataclass(frozen=True)
class Rotated:
    """A rotation: the application retired and the one now in use."""

    realm: str
    old_ikey: str
    new_ikey: str
    verification: str


def rotate(
    keycloak: Keycloak,
    realm: str,
    *,
    ring: KeyRing,
    options: RestOptions,
    health: HealthCheck | None,
) -> Rotated:
    """New keys for a provisioned realm: a new Web SDK application, stored and proven by the
    health check, and only then the old one deleted.

    Duo's own reset (``reset_secret_key``) invalidates the old secret at once, with no overlap,
    so a new application is made instead: until it is stored and proven, the old one works.
    A failure before the switch deletes the new application and leaves the realm as it was.
    """
    tenant, link = _client_and_link(keycloak, realm, ring)
    old = tenant.attributes.get(attr.DUO_PROVISIONED_IKEY)
    if not old:
        raise ConfigError(
            f"realm {realm!r} was not provisioned through Duo's Admin API; "
            f"rotate its keys in Duo and store them with `duo set {realm}`"
        )
    before = {name: tenant.attributes.get(name) for name in (*_CREDENTIALS, *_RECORD)}
    undo = _Undo()
    with contextlib.ExitStack() as clients:
        rest = clients.enter_context(RestClient(link.creds, options))
        admin = AdminApi(rest)
        if link.api is Api.ACCOUNTS:
            account_id = tenant.attributes.get(attr.DUO_PROVISIONED_ACCOUNT) or ""
            accounts = AccountsApi(rest, options)
            child = next((a for a in accounts.list_accounts() if a.account_id == account_id), None)
            if child is None:
                raise ConfigError(f"the Duo child account of {realm!r} is gone; provision again")
            admin = accounts.admin_in(child)
            clients.enter_context(admin.rest)
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
        try:
            admin.delete_application(old)
        except DuoNotFoundError:
            log.warning("the old Duo application %s of %s was already gone", old, realm)
    log.info("rotated Duo keys of realm %s: %s replaces %s", realm, new.integration_key, old)
    return Rotated(realm, old, new.integration_key, result.verification)
