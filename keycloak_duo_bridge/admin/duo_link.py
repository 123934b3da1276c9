"""A partner's Duo admin link: the Admin API (or a provider's Accounts API) credentials the
admin service provisions the partner's clients with (issue 17).

Stored on the partner realm only: ikey and host plain, the skey envelope-encrypted and bound
to the realm and attribute, like a realm's own Duo skey. It is checked live before anything
is written (a call that provisioning needs), never inherited by client realms (nothing in
:mod:`.effective` reads it), and shown only as "linked".
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.admin import record
from keycloak_duo_bridge.admin.duo_settings import validate_credentials
from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.admin.tenants import get_tenant
from keycloak_duo_bridge.attributes import TenantKind
from keycloak_duo_bridge.duo.accounts_api import AccountsApi
from keycloak_duo_bridge.duo.rest_client import RestClient, RestCredentials, RestOptions
from keycloak_duo_bridge.duo.rest_protocol import Api
from keycloak_duo_bridge.envelope import DecryptionError, KeyRing
from keycloak_duo_bridge.errors import ConfigError, DuoConfigError, DuoError

__all__ = ["LinkCheck", "clear_link", "link_status", "live_check", "load_link", "set_link"]

log = logging.getLogger(__name__)

LinkCheck = Callable[[RestCredentials], None]
_NAMES = (attr.DUO_ADMIN_IKEY, attr.DUO_ADMIN_API_HOST, attr.DUO_ADMIN_SKEY, attr.DUO_ADMIN_API)


def live_check(options: RestOptions) -> LinkCheck:
    """Ask Duo for what provisioning needs: the applications (Admin API) or child accounts."""

    def check(creds: RestCredentials) -> None:
        with RestClient(creds, options) as rest:
            if creds.api is Api.ACCOUNTS:
                AccountsApi(rest, options).list_accounts()
            else:
                rest.call(
                    "GET",
                    "/admin/v3/integrations",
                    {"limit": "1"},
                    what="list applications",
                    permission="adminapi_integrations",
                )

    return check


@dataclass(frozen=True)
class SetLinkResult:
    partner: str
    api: Api
    written: bool
    verification: str  # "ok" or "skipped"


def set_link(
    keycloak: Keycloak,
    partner: str,
    *,
    ikey: str,
    skey: str,
    api_host: str,
    api: Api,
    ring: KeyRing,
    check: LinkCheck | None,
) -> SetLinkResult:
    """Check, then store a partner's admin link; a refusal saves nothing and says why."""
    validate_credentials(ikey, skey, api_host, allow_any_host=keycloak.allow_any_duo_host)
    get_tenant(keycloak, partner, TenantKind.PARTNER)
    verification = "skipped"
    if check is not None:
        try:
            check(RestCredentials(ikey, skey, api_host, api))
        except DuoError as exc:
            raise type(exc)(f"{exc}; nothing saved") from None
        verification = "ok"
    sealed = ring.encrypt(skey, realm=partner, attribute=attr.DUO_ADMIN_SKEY)
    written = record.store(
        keycloak,
        partner,
        {
            attr.DUO_ADMIN_IKEY: ikey,
            attr.DUO_ADMIN_API_HOST: api_host,
            attr.DUO_ADMIN_SKEY: sealed,
            attr.DUO_ADMIN_API: api.value,
        },
    )
    log.info("linked partner %s to Duo's %s (ikey %s, host %s)", partner, api.label, ikey, api_host)
    return SetLinkResult(partner, api, written, verification)


def clear_link(keycloak: Keycloak, partner: str) -> bool:
    """Remove a partner's admin link; provisioned applications stay as they are."""
    get_tenant(keycloak, partner, TenantKind.PARTNER)
    return record.store(keycloak, partner, dict.fromkeys(_NAMES))


@dataclass(frozen=True)
class AdminLink:
    """A partner's link, opened: the credentials to call Duo with."""

    partner: str
    creds: RestCredentials = field(repr=False)

    @property
    def api(self) -> Api:
        return self.creds.api


def load_link(keycloak: Keycloak, partner: str, ring: KeyRing) -> AdminLink:
    """The partner's admin link, its skey opened; ConfigError when it has none."""
    a = get_tenant(keycloak, partner, TenantKind.PARTNER).attributes
    ikey, host, sealed = (a.get(n) for n in _NAMES[:3])
    if not (ikey and host and sealed):
        raise ConfigError(
            f"partner {partner!r} has no Duo admin link; run "
            f"`duo admin-link set {partner} --ikey ... --host ... --skey-file ...` first"
        )
    try:
        skey = ring.decrypt(sealed, realm=partner, attribute=attr.DUO_ADMIN_SKEY)
        api = Api(a.get(attr.DUO_ADMIN_API, Api.ADMIN.value))
    except (DecryptionError, ValueError):
        raise DuoConfigError(
            f"the Duo admin link of {partner!r} cannot be read (its key is not in the key "
            "ring, or it was edited by hand); set it again"
        ) from None
    return AdminLink(partner, RestCredentials(ikey, skey, host, api))


def link_status(attributes: Mapping[str, str]) -> str | None:
    """How a realm's admin link is shown: "linked (Admin API)", or None without one."""
    if not attributes.get(attr.DUO_ADMIN_IKEY):
        return None
    api = Api.ACCOUNTS if attributes.get(attr.DUO_ADMIN_API) == Api.ACCOUNTS.value else Api.ADMIN
    return f"linked ({api.label})"
