"""Provisioning a client's Duo application through its partner's admin link (#17).

The client is a client realm or a client organization inside its partner's realm: a
:class:`Holder` says where its attributes are, how they are stored, what its sealed secrets
are bound to, and its name, so both take the one path below.

``provision``: with an Accounts API link, find or create the client's Duo child account;
in the partner's account (Admin API link) or the child's, find or create a Web SDK
application, read its keys, store them as ``duo set`` does (the live health check runs
there), and record the ikey and account id on the client, so a re-run finds them instead of
creating more. A failure midway undoes, newest first, what this run created in Duo and wrote
to Keycloak: no partial state. ``deprovision`` removes what the record names, and only that.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Final, Protocol

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.admin import auth_api_settings, duo_settings, organizations, record
from keycloak_duo_bridge.admin.auth_api_settings import AuthApiCheck
from keycloak_duo_bridge.admin.duo_link import AdminLink, load_link
from keycloak_duo_bridge.admin.duo_settings import HealthCheck, SetResult
from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.admin.organizations import Organization
from keycloak_duo_bridge.admin.tenants import delete_tenant, get_tenant, is_linked
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
    "Holder",
    "Provisioned",
    "application_for",
    "deprovision",
    "planned_removal",
    "provision",
]

log = logging.getLogger(__name__)

_CREDENTIALS = (attr.DUO_IKEY, attr.DUO_API_HOST, attr.DUO_SKEY)
_RECORD = attr.PROVISIONED_NAMES
_AUTH_API = (attr.AUTH_API_IKEY, attr.AUTH_API_HOST, attr.AUTH_API_SKEY)
CIBA_GRANT: Final = "oidc.ciba.grant.enabled"  # a Keycloak client attribute


class Named(Protocol):
    """What names a client: a client realm's tenant, an organization, or a :class:`Holder`."""

    @property
    def name(self) -> str: ...

    @property
    def display_name(self) -> str | None: ...


def application_for(client: Named) -> NewApplication:
    """The Web SDK application a client implies (pure).

    Named after the client, so Duo's Admin Panel shows whose it is. New users are asked to
    enrol ("enroll"): the bridge decides who reaches Duo (user mode, bypass groups), so
    whoever arrives must pass it. Usernames are not normalised by Duo, because the realm's
    mapping may send ``realm:user`` or an email, which Duo's "Simple" policy would cut.
    """
    shown = client.display_name or client.name
    return NewApplication(name=f"Keycloak {shown} ({client.name})"[:100])


def auth_api_application_for(client: Named) -> NewApplication:
    """The Auth API application (Duo Push without a browser, CIBA) a client implies."""
    shown = client.display_name or client.name
    return NewApplication(name=f"Keycloak {shown} ({client.name}) push"[:100], type="authapi")


def ciba_enabled(keycloak: Keycloak, realm: str) -> bool:
    """Whether the realm uses CIBA: one of its applications has the CIBA grant on."""
    return any(
        str((client.get("attributes") or {}).get(CIBA_GRANT, "")).lower() == "true"
        for client in keycloak.get_clients(realm)
    )


@dataclass(frozen=True)
class Holder:
    """Where a client's Duo settings live: its own realm (``organization`` None), or its
    organization inside the partner's realm. Its attributes are as read when it was made."""

    keycloak: Keycloak = field(repr=False)
    name: str
    partner: str
    display_name: str | None
    attributes: Mapping[str, str] = field(repr=False)
    organization: Organization | None = None

    @property
    def realm(self) -> str:
        """The Keycloak realm of the client's users and applications."""
        return self.name if self.organization is None else self.partner

    @property
    def scope(self) -> str:
        """What the client's sealed secrets are bound to: the realm, or the organization."""
        return self.name if self.organization is None else self.organization.scope

    @property
    def address(self) -> str:
        """The client as the ``duo`` commands name it: ``REALM``, or ``PARTNER --org NAME``."""
        return self.name if self.organization is None else f"{self.partner} --org {self.name}"

    @property
    def shown(self) -> str:
        """The client, in words."""
        if self.organization is None:
            return f"realm {self.name}"
        return f"organization {self.name} of realm {self.partner}"

    def store(self, changes: Mapping[str, str | None]) -> bool:
        """Set (``None``: remove) the client's attributes, with the record the extension reads."""
        if self.organization is None:
            return record.store(self.keycloak, self.name, changes)
        return organizations.store(self.keycloak, self.organization, changes)

    def set_credentials(
        self, *, ikey: str, skey: str, api_host: str, ring: KeyRing, health: HealthCheck | None
    ) -> SetResult:
        """Check, then store the client's Web SDK keys, as ``duo set`` does."""
        store = (
            partial(duo_settings.set_credentials, self.keycloak, self.name)
            if self.organization is None
            else partial(organizations.set_credentials, self.keycloak, self.organization)
        )
        return store(ikey=ikey, skey=skey, api_host=api_host, ring=ring, health=health)

    def set_auth_api(
        self, creds: AuthApiCredentials, ring: KeyRing, check: AuthApiCheck | None
    ) -> SetResult:
        """Check, then store the client's Auth API keys, as ``duo auth-api set`` does."""
        if self.organization is None:
            return auth_api_settings.set_auth_api(
                self.keycloak, self.name, creds=creds, ring=ring, check=check
            )
        return organizations.set_auth_api(
            self.keycloak, self.organization, creds=creds, ring=ring, check=check
        )


Client = str | Organization
"""A client realm's name, or a client organization."""


def holder_of(keycloak: Keycloak, client: Client) -> Holder:
    """The client as it is now: a client realm linked to its partner, or a client
    organization (read again) inside a partner realm."""
    if isinstance(client, Organization):
        get_tenant(keycloak, client.partner, TenantKind.PARTNER)
        found = organizations.get_organization(keycloak, client.partner, client.name)
        return Holder(
            keycloak, found.name, found.partner, found.display_name, found.attributes, found
        )
    tenant = get_tenant(keycloak, client, TenantKind.CLIENT)
    partner = get_tenant(keycloak, tenant.partner or "", TenantKind.PARTNER)
    if not is_linked(tenant, partner):
        raise ConfigError(f"client {client!r} is not linked to partner {partner.name!r}")
    return Holder(keycloak, tenant.name, partner.name, tenant.display_name, tenant.attributes)


@dataclass(frozen=True)
class Provisioned:
    """What ``provision`` left in place, and what this run created."""

    realm: str  # the client's name: its realm's, or its organization's
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


def _client_and_link(keycloak: Keycloak, client: Client, ring: KeyRing) -> tuple[Holder, AdminLink]:
    holder = holder_of(keycloak, client)
    return holder, load_link(keycloak, holder.partner, ring)


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
    client: Client,
    *,
    ring: KeyRing,
    options: RestOptions,
    health: HealthCheck | None,
) -> Provisioned:
    """Give ``client`` (a client realm's name, or a client organization) its own Duo
    application, made through its partner's link."""
    holder, link = _client_and_link(keycloak, client, ring)
    before = {name: holder.attributes.get(name) for name in (*_CREDENTIALS, *_RECORD, *_AUTH_API)}
    undo = Undo()
    with contextlib.ExitStack() as clients:
        rest = clients.enter_context(RestClient(link.creds, options))
        try:
            return _provision(holder, link, rest, options, ring, health, undo, clients)
        except BaseException:
            undo.run()  # Duo's objects, newest first
            holder.store(before)  # then the client's attributes as they were
            raise


def _provision(  # noqa: PLR0917 - one run's context
    holder: Holder,
    link: AdminLink,
    rest: RestClient,
    options: RestOptions,
    ring: KeyRing,
    health: HealthCheck | None,
    undo: Undo,
    clients: contextlib.ExitStack,
) -> Provisioned:
    own = holder.attributes
    account: ChildAccount | None = None
    admin = AdminApi(rest)
    api_host = link.creds.api_host
    if link.api is Api.ACCOUNTS:
        accounts = AccountsApi(rest, options)
        account = _child(accounts, own.get(attr.DUO_PROVISIONED_ACCOUNT), holder.name, undo)
        admin = accounts.admin_in(account)
        clients.enter_context(admin.rest)
        api_host = admin.rest.creds.api_host
    app = _application(admin, own.get(attr.DUO_PROVISIONED_IKEY), application_for(holder), undo)
    skey = admin.secret_key(app.integration_key)
    result = holder.set_credentials(
        ikey=app.integration_key, skey=skey, api_host=api_host, ring=ring, health=health
    )
    push = None
    if ciba_enabled(holder.keycloak, holder.realm):
        push = _auth_api(holder, admin, api_host, options, ring, undo, check=health)
    account_id = account.account_id if account else None
    holder.store(
        {
            attr.DUO_PROVISIONED_IKEY: app.integration_key,
            attr.DUO_PROVISIONED_ACCOUNT: account_id,
            attr.DUO_PROVISIONED_AUTH_API: push,
        }
    )
    created = tuple(what for what, _ in undo.steps)
    log.info("provisioned Duo for %s: %s", holder.shown, ", ".join(created) or "nothing new")
    return Provisioned(
        holder.name, app.integration_key, api_host, account_id, created, result.verification, push
    )


def _auth_api(  # noqa: PLR0917 - one run's context
    holder: Holder,
    admin: AdminApi,
    api_host: str,
    options: RestOptions,
    ring: KeyRing,
    undo: Undo,
    *,
    check: HealthCheck | None,
) -> str:
    """The client's Auth API application (CIBA): found by its record or made, its keys stored
    as `duo auth-api set` does (checked with /auth/v2/check when the Web SDK keys were)."""
    recorded = holder.attributes.get(attr.DUO_PROVISIONED_AUTH_API)
    push = _application(admin, recorded, auth_api_application_for(holder), undo)
    live = (
        auth_api_settings.live_check(options.ca_file, allow_any_host=options.allow_any_host)
        if check is not None
        else None
    )
    creds = AuthApiCredentials(
        push.integration_key, admin.secret_key(push.integration_key), api_host
    )
    holder.set_auth_api(creds, ring, live)
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
    client: Client,
    *,
    existed: bool,
    ring: KeyRing,
    options: RestOptions,
    health: HealthCheck | None,
) -> Provisioned:
    """:func:`provision` right after ``client create``: a client realm or organization that
    did not exist before goes again if provisioning fails, so the create leaves nothing
    half-made."""
    try:
        return provision(keycloak, client, ring=ring, options=options, health=health)
    except BaseException:
        if existed:
            raise
        if isinstance(client, Organization):
            organizations.delete(keycloak, client)
        else:
            delete_tenant(keycloak, client)
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
    keycloak: Keycloak, client: Client, *, ring: KeyRing, options: RestOptions
) -> list[str]:
    """Remove what provisioning made for ``client`` in Duo, and the client's record of it."""
    holder = holder_of(keycloak, client)
    own = holder.attributes
    removed = planned_removal(own)
    if not removed:
        return []
    link = load_link(keycloak, holder.partner, ring)
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
            _delete_retiring(AdminApi(rest), holder)
            _delete_auth_api(AdminApi(rest), holder)
    changes: dict[str, str | None] = dict.fromkeys(_RECORD)
    if holder.organization is None:  # only a realm has a retiring application
        changes.update(dict.fromkeys(_RETIRING))
    if own.get(attr.DUO_IKEY) == ikey:  # the client's keys are the removed application's
        changes.update(dict.fromkeys(_CREDENTIALS))
    push = own.get(attr.DUO_PROVISIONED_AUTH_API)
    if push and own.get(attr.AUTH_API_IKEY) == push:
        changes.update(dict.fromkeys(_AUTH_API))
    holder.store(changes)
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
    holder: Holder,
    rest: RestClient,
    options: RestOptions,
    clients: contextlib.ExitStack,
) -> AdminApi:
    """The Admin API where the client's application lives: the partner's, or its child's."""
    if link.api is not Api.ACCOUNTS:
        return AdminApi(rest)
    account_id = holder.attributes.get(attr.DUO_PROVISIONED_ACCOUNT) or ""
    accounts = AccountsApi(rest, options)
    child = next((a for a in accounts.list_accounts() if a.account_id == account_id), None)
    if child is None:
        raise ConfigError(f"the Duo child account of {holder.name!r} is gone; provision again")
    admin = accounts.admin_in(child)
    clients.enter_context(admin.rest)
    return admin


def _delete_recorded(admin: AdminApi, holder: Holder, name: str, what: str) -> None:
    """Delete the application the client's attribute ``name`` records, if any."""
    ikey = holder.attributes.get(name)
    if not ikey:
        return
    try:
        admin.delete_application(ikey)
    except DuoNotFoundError:
        log.warning("the %s %s of %s was already gone", what, ikey, holder.name)


def _delete_auth_api(admin: AdminApi, holder: Holder) -> None:
    _delete_recorded(admin, holder, attr.DUO_PROVISIONED_AUTH_API, "Auth API application")


def _delete_retiring(admin: AdminApi, holder: Holder) -> None:
    _delete_recorded(admin, holder, attr.DUO_RETIRING_IKEY, "retiring Duo application")


def rotate(
    keycloak: Keycloak,
    client: Client,
    *,
    ring: KeyRing,
    options: RestOptions,
    health: HealthCheck | None,
    grace: int = ROTATION_GRACE,
    now: float | None = None,
) -> Rotated:
    """New keys for a provisioned client: a new Web SDK application, stored and proven by the
    health check, and only then the old one retired.

    Duo's own reset (``reset_secret_key``) invalidates the old secret at once, with no overlap,
    so a new application is made instead: until it is stored and proven, the old one works.
    A failure before the switch deletes the new application and leaves the client as it was.

    Retiring: new logins use the new application at once; a login that started with the old
    one (its Duo code is the old application's) finishes with it for ``grace`` seconds,
    recorded as ``kdb.duo.retiring.*``. :func:`retire` then deletes it; so does the next
    rotation. ``grace=0`` deletes it at once. A client organization keeps no retiring
    application (the bridge finishes its members' logins with its current keys only), so
    its rotation takes ``grace=0``: logins in flight then fail closed.
    """
    holder, link = _client_and_link(keycloak, client, ring)
    old = holder.attributes.get(attr.DUO_PROVISIONED_IKEY)
    if not old:
        raise ConfigError(
            f"{holder.shown} was not provisioned through Duo's Admin API; "
            f"rotate its keys in Duo and store them with `duo set {holder.address}`"
        )
    if holder.organization is not None and grace > 0:
        raise ConfigError(
            f"{holder.shown}: an organization keeps no retiring application, so logins in"
            " flight fail when its keys change; rotate with --grace 0 (nothing changed)"
        )
    before = {name: holder.attributes.get(name) for name in (*_CREDENTIALS, *_RECORD)}
    old_host = holder.attributes.get(attr.DUO_API_HOST)
    old_sealed = holder.attributes.get(attr.DUO_SKEY)
    undo = Undo()
    with contextlib.ExitStack() as clients:
        rest = clients.enter_context(RestClient(link.creds, options))
        admin = _admin_for(link, holder, rest, options, clients)
        if holder.attributes.get(attr.DUO_RETIRING_IKEY):  # an earlier rotation's: over now
            _delete_retiring(admin, holder)
            holder.store(dict.fromkeys(_RETIRING))
        try:
            new = _application(admin, None, application_for(holder), undo)
            result = holder.set_credentials(
                ikey=new.integration_key,
                skey=admin.secret_key(new.integration_key),
                api_host=admin.rest.creds.api_host,
                ring=ring,
                health=health,
            )
            holder.store({attr.DUO_PROVISIONED_IKEY: new.integration_key})
        except BaseException:
            undo.run()
            holder.store(before)
            raise
        until = 0
        if grace > 0 and old_host and old_sealed and holder.attributes.get(attr.DUO_IKEY) == old:
            until = int((time.time() if now is None else now) + grace)
            skey = ring.decrypt(old_sealed, realm=holder.scope, attribute=attr.DUO_SKEY)
            retiring = ring.encrypt(skey, realm=holder.scope, attribute=attr.DUO_RETIRING_SKEY)
            holder.store(dict(zip(_RETIRING, (old, old_host, retiring, str(until)), strict=True)))
        else:
            try:
                admin.delete_application(old)
            except DuoNotFoundError:
                log.warning("the old Duo application %s of %s was already gone", old, holder.name)
    log.info("rotated Duo keys of %s: %s replaces %s", holder.shown, new.integration_key, old)
    return Rotated(holder.name, old, new.integration_key, result.verification, until)


def retire(
    keycloak: Keycloak, client: Client, *, ring: KeyRing, options: RestOptions
) -> str | None:
    """Delete the application a rotation left retiring (its logins in flight then fail);
    the ikey deleted, or None when there was none."""
    holder, link = _client_and_link(keycloak, client, ring)
    ikey = holder.attributes.get(attr.DUO_RETIRING_IKEY)
    if not ikey:
        return None
    with contextlib.ExitStack() as clients:
        rest = clients.enter_context(RestClient(link.creds, options))
        _delete_retiring(_admin_for(link, holder, rest, options, clients), holder)
    holder.store(dict.fromkeys(_RETIRING))
    log.info("retired Duo application %s of %s", ikey, holder.shown)
    return ikey
