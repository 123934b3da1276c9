"""The admin REST API under ``/admin/api``: the tenants operations, for Keycloak's own admins.

Every request carries a Bearer token from Keycloak (see :mod:`.auth`): it says who calls;
what they may manage is read from Keycloak (their effective roles), never from the token's
claims. The API then acts with the service's admin account, within what the caller may
manage. Every change is
written to the audit log (logger ``keycloak_duo_bridge.audit``): who, which realm, what,
when, never a secret. Bodies are JSON, checked against the models the OpenAPI document at
``/admin/api/openapi.json`` is built from.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from typing import Any, Final

from pydantic import BaseModel, ValidationError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from keycloak_duo_bridge.admin import (
    apps,
    auth_api_settings,
    duo_settings,
    explain,
    idps,
    keys,
    organizations,
    phones,
    provisioning,
    tenants,
    users,
)
from keycloak_duo_bridge.admin.idp_policy import policy_of
from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.admin.organizations import Organization
from keycloak_duo_bridge.admin.tenants import Tenant
from keycloak_duo_bridge.api import ApiServices, auth
from keycloak_duo_bridge.api.models import (
    ActivationBody,
    AppModeBody,
    CredentialsBody,
    DuoPolicy,
    DuoSwitch,
    IdpPolicyBody,
    NewClient,
    NewPartner,
    PhoneBody,
    TenantUpdate,
    TenantView,
    Written,
)
from keycloak_duo_bridge.api.openapi import Operation, document
from keycloak_duo_bridge.attributes import TenantKind
from keycloak_duo_bridge.duo.auth_protocol import AuthApiCredentials
from keycloak_duo_bridge.duo.rest_client import RestOptions
from keycloak_duo_bridge.errors import (
    ConfigError,
    DuoApiError,
    DuoConfigError,
    DuoError,
    KeycloakError,
    NotFoundError,
)
from keycloak_duo_bridge.logs import event
from keycloak_duo_bridge.realm_names import is_realm_name
from keycloak_duo_bridge.settings import Settings

audit_log = logging.getLogger("keycloak_duo_bridge.audit")
MAX_BODY: Final = 16384


class Forbidden(Exception):  # noqa: N818 - an HTTP outcome, not a package error
    """The caller is authenticated but may not manage the realm: 403."""


class Api:
    def __init__(
        self, settings: Settings, services: ApiServices, connect: Callable[[], Keycloak]
    ) -> None:
        self.settings = settings
        self.services = services
        self._connect = connect
        self._keycloak: Keycloak | None = None
        self.identities = auth.Identities(
            lambda realm, subject: auth.caller_from_keycloak(self.keycloak, realm, subject)
        )

    @property
    def keycloak(self) -> Keycloak:
        if self._keycloak is None:
            self._keycloak = self._connect()
        return self._keycloak

    async def caller(self, request: Request) -> auth.Caller:
        """The token's user, with rights as Keycloak holds them (never as the token claims)."""
        token = auth.bearer(request.headers.get("authorization"))
        verified = await auth.authenticate(token, self.services.jwks)
        return await self.identities.caller(verified.realm, verified.subject)

    async def guard(self, request: Request, realm: str) -> tuple[auth.Caller, Tenant]:
        """The caller, if they may manage ``realm``, and the tenant it is."""
        caller = await self.caller(request)
        return caller, await self.authorize(caller, realm)

    async def authorize(self, caller: auth.Caller, realm: str) -> Tenant:
        """The tenant ``realm``, if ``caller`` may manage it: Forbidden or NotFound if not."""
        found = (
            await run_in_threadpool(self.keycloak.find_realm, realm)
            if is_realm_name(realm)
            else None
        )
        tenant = tenants.tenant_of(found) if found is not None else None
        partner = None
        if tenant is not None and tenant.partner == caller.realm != tenant.name:
            owner = await run_in_threadpool(self.keycloak.find_realm, caller.realm)
            partner = tenants.tenant_of(owner) if owner is not None else None
        admin_realm = self.settings.keycloak_admin_realm
        if not auth.may_manage(caller, tenant, admin_realm=admin_realm, partner=partner):
            raise Forbidden
        if tenant is None:
            raise NotFoundError(f"realm {realm!r} is not a partner or client")
        return tenant

    async def organization(self, request: Request) -> tuple[auth.Caller, Organization]:
        """The caller, if they may manage the partner realm ``{realm}``, and its client
        organization ``{org}``: only the partner's admins and master's reach it (a client
        realm's admins manage no partner, and Keycloak has no organization-level admin)."""
        caller = await self.caller(request)
        found = await self.authorize_organization(
            caller, request.path_params["realm"], request.path_params["org"]
        )
        return caller, found

    async def authorize_organization(
        self, caller: auth.Caller, realm: str, name: str
    ) -> Organization:
        """The client organization ``name`` of partner realm ``realm``, if ``caller`` may
        manage that realm (as :meth:`authorize` decides): Forbidden or NotFound if not."""
        tenant = await self.authorize(caller, realm)
        if tenant.kind is not TenantKind.PARTNER:
            raise NotFoundError(f"realm {realm!r} is a client realm: it holds no organizations")
        if not is_realm_name(name):  # a client's name is one (see validate_realm_name)
            raise NotFoundError(f"partner {realm!r} has no client organization {name!r}")
        return await run_in_threadpool(organizations.get_organization, self.keycloak, realm, name)

    def audit(self, caller: auth.Caller, realm: str, action: str, **details: Any) -> None:
        """Record a change: who, which realm, what (``details``: never a secret), when."""
        event(audit_log, "admin change", by=caller.to_json(), realm=realm, action=action, **details)

    def visible_clients(self, caller: auth.Caller) -> list[Tenant | Organization]:
        """The tenants ``caller`` may manage, partners first, each partner's clients (realms
        and organizations) after it: one realm listing, then one organization listing per
        partner realm that has organizations."""
        return self._managed(caller, organizations.tenant_tree(self.keycloak))

    def _managed(
        self, caller: auth.Caller, every: Sequence[Tenant | Organization]
    ) -> list[Tenant | Organization]:
        """Those of ``every`` the caller may manage: an organization is managed by who
        manages its partner realm."""
        admin_realm = self.settings.keycloak_admin_realm
        by_name = {t.name: t for t in every if isinstance(t, Tenant)}

        def manages(t: Tenant | Organization) -> bool:
            if isinstance(t, Organization):
                return auth.may_manage(caller, by_name.get(t.partner), admin_realm=admin_realm)
            partner = by_name.get(t.partner or "")
            return auth.may_manage(caller, t, admin_realm=admin_realm, partner=partner)

        return [t for t in every if manages(t)]


async def _body(request: Request, model: type[BaseModel]) -> Any:
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise HTTPException(413, "the body is too large")
    try:
        return model.model_validate(json.loads(raw or b"null"))
    except ValueError as exc:
        errors = (
            exc.errors(include_input=False, include_url=False)
            if isinstance(exc, ValidationError)
            else [{"msg": "not valid JSON"}]
        )
        raise _Invalid(errors) from None


class _Invalid(Exception):  # noqa: N818
    def __init__(self, errors: Any) -> None:
        self.errors = errors


def _api(request: Request) -> Api:
    api: Api = request.app.state.api
    return api


async def list_tenants(request: Request) -> Response:
    api = _api(request)
    caller = await api.caller(request)
    visible = await run_in_threadpool(api.visible_clients, caller)
    return JSONResponse([_view(t) for t in visible])


def _view(tenant: Tenant | Organization) -> dict[str, Any]:
    return tenant.describe() if isinstance(tenant, Organization) else tenant.to_json()


async def show_tenant(request: Request) -> Response:
    api = _api(request)
    realm = request.path_params["realm"]
    _, tenant = await api.guard(request, realm)
    duo = await run_in_threadpool(duo_settings.show, api.keycloak, realm)
    return JSONResponse({**tenant.to_json(), "duo": duo})


async def create_partner(request: Request) -> Response:
    api = _api(request)
    caller = await api.caller(request)
    if not auth.is_super(caller, api.settings.keycloak_admin_realm):
        raise Forbidden
    body: NewPartner = await _body(request, NewPartner)
    tenant = await run_in_threadpool(
        lambda: tenants.create_partner(
            api.keycloak,
            body.name,
            branding_url=body.branding_url,
            display_name=body.display_name,
            template_dir=api.settings.template_dir,
        )
    )
    api.audit(caller, body.name, "create partner")
    return JSONResponse(tenant.to_json(), status_code=201)


def rest_options(settings: Settings) -> RestOptions:
    """Our Duo TLS settings for the Admin and Accounts APIs."""
    return RestOptions(ca_file=settings.duo_ca_file, allow_any_host=settings.duo_allow_any_host)


async def create_client(request: Request) -> Response:
    api = _api(request)
    body: NewClient = await _body(request, NewClient)
    caller, _ = await api.guard(request, body.partner)
    if body.mapping == "organization":
        return await _create_organization(api, caller, body)
    existed = body.duo_provision and await run_in_threadpool(
        provisioning.exists, api.keycloak, body.name
    )
    tenant = await run_in_threadpool(
        lambda: tenants.create_client(
            api.keycloak,
            body.name,
            partner=body.partner,
            display_name=body.display_name,
            template_dir=api.settings.template_dir,
            wires=api.services.wires,
        )
    )
    if not body.duo_provision:
        api.audit(caller, body.name, "create client", partner=body.partner)
        return JSONResponse(tenant.to_json(), status_code=201)
    done = await _provisioned(api, body.name, existed=existed)
    api.audit(caller, body.name, "create client", partner=body.partner)  # once it stays
    api.audit(caller, body.name, "provision duo", ikey=done.ikey, created=list(done.created))
    return JSONResponse({**tenant.to_json(), "duo_provisioned": done.to_json()}, status_code=201)


async def _provisioned(
    api: Api, client: str | organizations.Organization, *, existed: bool
) -> provisioning.Provisioned:
    """The new client's own Duo application, made through its partner's link; a client this
    request made goes again if that fails."""
    settings = api.settings
    return await run_in_threadpool(
        lambda: provisioning.provision_created(
            api.keycloak,
            client,
            existed=existed,
            ring=api.services.keyring,
            options=rest_options(settings),
            health=duo_settings.duo_health_check(
                settings.duo_ca_file, allow_any_host=settings.duo_allow_any_host
            ),
        )
    )


async def _create_organization(api: Api, caller: auth.Caller, body: NewClient) -> Response:
    found = (
        await run_in_threadpool(organizations.find_client, api.keycloak, body.name)
        if body.duo_provision
        else None
    )
    made = await run_in_threadpool(
        lambda: organizations.create_organization(
            api.keycloak, body.name, partner=body.partner, display_name=body.display_name
        )
    )
    if not body.duo_provision:
        api.audit(caller, body.partner, "create client organization", organization=body.name)
        return JSONResponse(made.describe(), status_code=201)
    existed = found is not None and found.partner == made.partner
    done = await _provisioned(api, made, existed=existed)
    api.audit(caller, body.partner, "create client organization", organization=body.name)
    api.audit(
        caller,
        body.partner,
        "provision duo",
        organization=body.name,
        ikey=done.ikey,
        created=list(done.created),
    )
    body_json = {**made.describe(), "duo_provisioned": done.to_json()}
    return JSONResponse(body_json, status_code=201)


async def delete_tenant(request: Request) -> Response:
    api = _api(request)
    realm = request.path_params["realm"]
    caller, tenant = await api.guard(request, realm)
    if tenant.name == caller.realm and not auth.is_super(caller, api.settings.keycloak_admin_realm):
        raise Forbidden  # a realm's own admins cannot delete it
    deleted = await run_in_threadpool(tenants.delete_tenant, api.keycloak, realm)
    api.audit(caller, realm, "delete tenant")
    return JSONResponse({"deleted": deleted})


async def set_credentials(request: Request) -> Response:
    api = _api(request)
    realm = request.path_params["realm"]
    caller, _ = await api.guard(request, realm)
    body: CredentialsBody = await _body(request, CredentialsBody)
    result = await run_in_threadpool(
        lambda: duo_settings.set_credentials(
            api.keycloak,
            realm,
            ikey=body.ikey,
            skey=body.skey,
            api_host=body.api_host,
            ring=api.services.keyring,
            health=None,
        )
    )
    api.audit(caller, realm, "set duo credentials", ikey=body.ikey, api_host=body.api_host)
    return JSONResponse({"realm": realm, "written": result.written})


async def set_auth_api(request: Request) -> Response:
    """Store Duo Auth API credentials (CIBA, #16), checked live with /auth/v2/check first."""
    api = _api(request)
    realm = request.path_params["realm"]
    caller, _ = await api.guard(request, realm)
    body: CredentialsBody = await _body(request, CredentialsBody)
    config = api.settings
    check = auth_api_settings.live_check(
        config.duo_ca_file, config.duo_read_timeout, allow_any_host=config.duo_allow_any_host
    )
    creds = AuthApiCredentials(body.ikey, body.skey, body.api_host)
    try:
        result = await run_in_threadpool(
            lambda: auth_api_settings.set_auth_api(
                api.keycloak, realm, creds=creds, ring=api.services.keyring, check=check
            )
        )
    except DuoError as exc:  # Duo unreachable: nothing saved
        return _error(502, str(exc))
    api.audit(caller, realm, "set duo auth api", ikey=body.ikey, api_host=body.api_host)
    return JSONResponse({"realm": realm, "written": result.written})


async def clear_auth_api(request: Request) -> Response:
    api = _api(request)
    realm = request.path_params["realm"]
    caller, _ = await api.guard(request, realm)
    written = await run_in_threadpool(auth_api_settings.clear_auth_api, api.keycloak, realm)
    api.audit(caller, realm, "clear duo auth api")
    return JSONResponse({"realm": realm, "written": written})


async def set_policy(request: Request) -> Response:
    api = _api(request)
    realm = request.path_params["realm"]
    caller, _ = await api.guard(request, realm)
    body: DuoPolicy = await _body(request, DuoPolicy)
    policy = duo_settings.Policy(**body.model_dump())
    written = await run_in_threadpool(duo_settings.set_policy, api.keycloak, realm, policy)
    api.audit(caller, realm, "set duo policy", **body.model_dump(exclude_none=True))
    return JSONResponse({"realm": realm, "written": written})


async def set_enabled(request: Request) -> Response:
    api = _api(request)
    realm = request.path_params["realm"]
    caller, _ = await api.guard(request, realm)
    body: DuoSwitch = await _body(request, DuoSwitch)
    touched = await run_in_threadpool(
        lambda: duo_settings.set_enabled(
            api.keycloak,
            realm,
            enabled=body.enabled,
            wires=api.services.wires,
            assurance=body.assurance,
        )
    )
    api.audit(caller, realm, "switch duo", enabled=body.enabled, assurance=body.assurance)
    return JSONResponse({"realm": realm, "reconciled": touched})


async def set_app_mode(request: Request) -> Response:
    api = _api(request)
    realm = request.path_params["realm"]
    client_id = request.path_params["client_id"]
    caller, _ = await api.guard(request, realm)
    body: AppModeBody = await _body(request, AppModeBody)
    result = await run_in_threadpool(apps.set_mode, api.keycloak, realm, client_id, body.mode)
    api.audit(caller, realm, "set app mode", app=client_id, mode=body.mode)
    return JSONResponse({"realm": realm, "app": client_id, "written": result.written})


async def set_idp_policy(request: Request) -> Response:
    api = _api(request)
    realm = request.path_params["realm"]
    alias = request.path_params["alias"]
    caller, _ = await api.guard(request, realm)
    body: IdpPolicyBody = await _body(request, IdpPolicyBody)
    policy = policy_of(body.mode, amr=body.amr, acr=body.acr, saml_context=body.saml_context)
    written = await run_in_threadpool(
        lambda: idps.set_idp_policy(
            api.keycloak, realm, alias, policy, confirm_off=body.confirm_off
        )
    )
    api.audit(caller, realm, "set idp policy", idp=alias, **policy.stored())
    return JSONResponse({"realm": realm, "idp": alias, "written": written})


async def list_idp_policies(request: Request) -> Response:
    api = _api(request)
    realm = request.path_params["realm"]
    await api.guard(request, realm)
    found = await run_in_threadpool(idps.show_idp_policies, api.keycloak, realm)
    return JSONResponse([{"alias": alias, **p.stored()} for alias, p in found.items()])


async def update_tenant(request: Request) -> Response:
    api = _api(request)
    realm = request.path_params["realm"]
    caller, tenant = await api.guard(request, realm)
    body: TenantUpdate = await _body(request, TenantUpdate)
    if tenant.kind is TenantKind.PARTNER:
        if body.partner is not None:
            raise ConfigError("a partner belongs to no partner")
        written = await run_in_threadpool(
            lambda: tenants.update_partner(
                api.keycloak,
                realm,
                branding_url=body.branding_url,
                clear_branding_url=body.clear_branding_url,
                display_name=body.display_name,
            )
        )
    else:
        if body.branding_url is not None or body.clear_branding_url:
            raise ConfigError("a client realm has no branding URL: its partner's applies")
        if body.partner is not None:
            await api.authorize(caller, body.partner)  # moving in needs the new partner too
        written = await run_in_threadpool(
            lambda: tenants.update_client(
                api.keycloak,
                realm,
                partner=body.partner,
                display_name=body.display_name,
                wires=api.services.wires,
            )
        )
    api.audit(caller, realm, "update tenant", **body.model_dump(exclude_defaults=True))
    return JSONResponse({"realm": realm, "written": written})


async def clear_credentials(request: Request) -> Response:
    api = _api(request)
    realm = request.path_params["realm"]
    caller, _ = await api.guard(request, realm)
    written = await run_in_threadpool(duo_settings.clear_credentials, api.keycloak, realm)
    api.audit(caller, realm, "clear duo credentials")
    return JSONResponse({"realm": realm, "written": written})


async def explain_tenant(request: Request) -> Response:
    api = _api(request)
    realm = request.path_params["realm"]
    await api.guard(request, realm)
    query = request.query_params
    found = await run_in_threadpool(
        lambda: explain.explain(
            api.keycloak, realm, app=query.get("app") or None, username=query.get("user") or None
        )
    )
    return JSONResponse(found.to_json())


async def user_status(request: Request) -> Response:
    api = _api(request)
    realm, username = request.path_params["realm"], request.path_params["username"]
    await api.guard(request, realm)
    found = await run_in_threadpool(users.status, api.keycloak, realm, username)
    return JSONResponse(found.to_json())


async def set_activation(request: Request) -> Response:
    api = _api(request)
    realm, username = request.path_params["realm"], request.path_params["username"]
    caller, _ = await api.guard(request, realm)
    body: ActivationBody = await _body(request, ActivationBody)
    written = await run_in_threadpool(
        lambda: users.set_activated(api.keycloak, realm, username, activated=body.activated)
    )
    api.audit(caller, realm, "set duo activation", user=username, activated=body.activated)
    return JSONResponse({"realm": realm, "user": username, "written": written})


async def list_phones(request: Request) -> Response:
    """A user's phones at Duo, masked (helpdesk)."""
    api = _api(request)
    realm, username = request.path_params["realm"], request.path_params["username"]
    await api.guard(request, realm)
    found = await run_in_threadpool(
        lambda: phones.list_devices(
            api.keycloak,
            realm,
            username,
            ring=api.services.keyring,
            options=rest_options(api.settings),
        )
    )
    return JSONResponse([d.to_json() for d in found])


async def add_phone(request: Request) -> Response:
    """Register a mobile number for a user at Duo and text it the activation (helpdesk)."""
    api = _api(request)
    realm, username = request.path_params["realm"], request.path_params["username"]
    caller, _ = await api.guard(request, realm)
    body: PhoneBody = await _body(request, PhoneBody)
    added = await run_in_threadpool(
        lambda: phones.add_phone(
            api.keycloak,
            realm,
            username,
            body.number,
            ring=api.services.keyring,
            options=rest_options(api.settings),
        )
    )
    api.audit(caller, realm, "add duo phone", user=username, phone=added.device.masked)
    return JSONResponse(added.to_json(), status_code=201)


async def remove_phone(request: Request) -> Response:
    """Remove one of a user's phones at Duo (helpdesk)."""
    api = _api(request)
    realm, username = request.path_params["realm"], request.path_params["username"]
    caller, _ = await api.guard(request, realm)
    removed = await run_in_threadpool(
        lambda: phones.remove_phone(
            api.keycloak,
            realm,
            username,
            request.path_params["phone_id"],
            ring=api.services.keyring,
            options=rest_options(api.settings),
        )
    )
    api.audit(caller, realm, "remove duo phone", user=username, phone=removed.masked)
    return JSONResponse({"removed": removed.to_json()})


async def set_app_mode_across(request: Request) -> Response:
    api = _api(request)
    realm, client_id = request.path_params["realm"], request.path_params["client_id"]
    caller, tenant = await api.guard(request, realm)
    if tenant.kind is not TenantKind.PARTNER:
        raise ConfigError(f"realm {realm!r} is no partner: it has no client realms")
    body: AppModeBody = await _body(request, AppModeBody)
    results = await run_in_threadpool(
        apps.set_mode_across, api.keycloak, realm, client_id, body.mode
    )
    api.audit(caller, realm, "set app mode in every client", app=client_id, mode=body.mode)
    return JSONResponse(
        [{"realm": r.realm, "found": r.mode is not None, "written": r.written} for r in results]
    )


# -- clients kept as organizations of a partner realm: /tenants/{realm}/organizations/{org}


async def list_organizations(request: Request) -> Response:
    api = _api(request)
    realm = request.path_params["realm"]
    await api.guard(request, realm)
    found = await run_in_threadpool(organizations.list_organizations, api.keycloak, realm)
    return JSONResponse([o.describe() for o in found])


async def show_organization(request: Request) -> Response:
    _, organization = await _api(request).organization(request)
    return JSONResponse(organizations.summary(organization))


async def delete_organization(request: Request) -> Response:
    api = _api(request)
    caller, organization = await api.organization(request)
    members = await run_in_threadpool(organizations.member_count, api.keycloak, organization)
    await run_in_threadpool(organizations.delete, api.keycloak, organization)
    api.audit(
        caller, organization.partner, "delete client organization", organization=organization.name
    )
    return JSONResponse({"deleted": [organization.name], "members_kept": members})


def _org_written(organization: Organization, *, written: bool) -> Response:
    return JSONResponse(
        {"realm": organization.partner, "organization": organization.name, "written": written}
    )


async def set_organization_credentials(request: Request) -> Response:
    api = _api(request)
    caller, organization = await api.organization(request)
    body: CredentialsBody = await _body(request, CredentialsBody)
    result = await run_in_threadpool(
        lambda: organizations.set_credentials(
            api.keycloak,
            organization,
            ikey=body.ikey,
            skey=body.skey,
            api_host=body.api_host,
            ring=api.services.keyring,
            health=None,
        )
    )
    api.audit(
        caller,
        organization.partner,
        "set duo credentials",
        organization=organization.name,
        ikey=body.ikey,
        api_host=body.api_host,
    )
    return _org_written(organization, written=result.written)


async def clear_organization_credentials(request: Request) -> Response:
    api = _api(request)
    caller, organization = await api.organization(request)
    written = await run_in_threadpool(organizations.clear_credentials, api.keycloak, organization)
    api.audit(caller, organization.partner, "clear duo credentials", organization=organization.name)
    return _org_written(organization, written=written)


async def set_organization_policy(request: Request) -> Response:
    api = _api(request)
    caller, organization = await api.organization(request)
    body: DuoPolicy = await _body(request, DuoPolicy)
    policy = duo_settings.Policy(**body.model_dump())
    written = await run_in_threadpool(organizations.set_policy, api.keycloak, organization, policy)
    api.audit(
        caller,
        organization.partner,
        "set duo policy",
        organization=organization.name,
        **body.model_dump(exclude_none=True),
    )
    return _org_written(organization, written=written)


async def set_organization_enabled(request: Request) -> Response:
    api = _api(request)
    caller, organization = await api.organization(request)
    body: DuoSwitch = await _body(request, DuoSwitch)
    if body.assurance is not None:
        raise ConfigError("the assurance mode is the partner realm's own, not an organization's")
    written = await run_in_threadpool(
        lambda: organizations.set_enabled(api.keycloak, organization, enabled=body.enabled)
    )
    api.audit(
        caller,
        organization.partner,
        "switch duo",
        organization=organization.name,
        enabled=body.enabled,
    )
    return _org_written(organization, written=written)


async def set_organization_app_mode(request: Request) -> Response:
    api = _api(request)
    client_id = request.path_params["client_id"]
    caller, organization = await api.organization(request)
    body: AppModeBody = await _body(request, AppModeBody)
    written = await run_in_threadpool(
        organizations.set_app_mode, api.keycloak, organization, client_id, body.mode
    )
    api.audit(
        caller,
        organization.partner,
        "set app mode",
        organization=organization.name,
        app=client_id,
        mode=body.mode,
    )
    return _org_written(organization, written=written)


async def explain_organization(request: Request) -> Response:
    api = _api(request)
    _, organization = await api.organization(request)
    query = request.query_params
    found = await run_in_threadpool(
        lambda: explain.explain_organization(
            api.keycloak,
            organization,
            app=query.get("app") or None,
            username=query.get("user") or None,
        )
    )
    return JSONResponse(found.to_json())


async def key_report(request: Request, *, rotate: bool) -> Response:
    api = _api(request)
    caller = await api.caller(request)
    if not auth.is_super(caller, api.settings.keycloak_admin_realm):
        raise Forbidden
    work = keys.rotate if rotate else keys.check
    reports = await run_in_threadpool(work, api.keycloak, api.services.keyring)
    if rotate:
        api.audit(caller, "*", "rotate skey encryption", rotated=sum(r.rotated for r in reports))
    return JSONResponse(
        [
            {
                "realm": r.realm,
                "key_id": r.key_id,
                "state": r.state.value,
                "rotated": r.rotated,
                "attribute": r.attribute,
            }
            for r in reports
        ]
    )


async def check_keys(request: Request) -> Response:
    return await key_report(request, rotate=False)


async def rotate_keys(request: Request) -> Response:
    return await key_report(request, rotate=True)


async def openapi(request: Request) -> Response:
    del request
    return JSONResponse(DOCUMENT)


def _error(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status)


async def _on_error(request: Request, exc: Exception) -> Response:
    del request
    if isinstance(exc, auth.AuthenticationError):
        response = _error(401, str(exc))
        response.headers["WWW-Authenticate"] = 'Bearer realm="keycloak-duo-bridge"'
        return response
    if isinstance(exc, _Invalid):
        return _error(422, "invalid body", details=exc.errors)
    if isinstance(exc, HTTPException):
        return _error(exc.status_code, str(exc.detail))
    status = next(code for kind, code in _STATUS if isinstance(exc, kind))
    message = "you may not manage this realm" if isinstance(exc, Forbidden) else str(exc)
    return _error(status, message)


_STATUS: Final[tuple[tuple[type[Exception], int], ...]] = (
    (Forbidden, 403),
    (NotFoundError, 404),
    (ConfigError, 400),
    (DuoApiError, 400),  # Duo refused: the message names the missing plan or permission
    (DuoConfigError, 400),
    (Exception, 502),  # a KeycloakError, or Duo unreachable
)


_REALM: Final = "/tenants/{realm:str}"
_ORG: Final = f"{_REALM}/organizations/{{org:str}}"
OPERATIONS: Final = (
    Operation(
        "/tenants",
        "GET",
        list_tenants,
        "tenants the caller may manage",
        returns=TenantView,
        many=True,
    ),
    Operation(
        "/partners",
        "POST",
        create_partner,
        "create a partner (master admins)",
        201,
        NewPartner,
        TenantView,
    ),
    Operation(
        "/clients",
        "POST",
        create_client,
        "create a client of a partner",
        201,
        NewClient,
        TenantView,
    ),
    Operation(_REALM, "GET", show_tenant, "a tenant and its own Duo settings, skey masked"),
    Operation(_REALM, "DELETE", delete_tenant, "delete a tenant (not one's own realm)"),
    Operation(
        _REALM,
        "PATCH",
        update_tenant,
        "change a tenant's display name, branding URL, or a client's partner",
        body=TenantUpdate,
        returns=Written,
    ),
    Operation(
        f"{_REALM}/duo/credentials",
        "DELETE",
        clear_credentials,
        "remove a realm's own credentials (a client then uses its partner's)",
        returns=Written,
    ),
    Operation(
        f"{_REALM}/explain",
        "GET",
        explain_tenant,
        "effective settings with origins, and the decision for an app and user",
        query=("app", "user"),
    ),
    Operation(
        f"{_REALM}/users/{{username:str}}", "GET", user_status, "a user's Duo activation and groups"
    ),
    Operation(
        f"{_REALM}/users/{{username:str}}/activated",
        "PUT",
        set_activation,
        "activate or deactivate Duo for a user",
        body=ActivationBody,
    ),
    Operation(
        f"{_REALM}/users/{{username:str}}/phones",
        "GET",
        list_phones,
        "a user's phones at Duo: type and last four digits",
        many=True,
    ),
    Operation(
        f"{_REALM}/users/{{username:str}}/phones",
        "POST",
        add_phone,
        "register a mobile number at Duo and send its SMS activation",
        201,
        PhoneBody,
    ),
    Operation(
        f"{_REALM}/users/{{username:str}}/phones/{{phone_id:str}}",
        "DELETE",
        remove_phone,
        "remove one of a user's phones at Duo",
    ),
    Operation(
        f"{_REALM}/clients/apps/{{client_id:str}}",
        "PUT",
        set_app_mode_across,
        "set an application's mode in every client realm of a partner",
        body=AppModeBody,
        many=True,
    ),
    Operation(
        "/keys", "GET", check_keys, "where each stored skey stands (master admins)", many=True
    ),
    Operation(
        "/keys/rotate",
        "POST",
        rotate_keys,
        "re-encrypt every skey under the active key (master admins)",
        many=True,
    ),
    Operation(
        f"{_REALM}/duo/credentials",
        "PUT",
        set_credentials,
        "store Duo credentials",
        body=CredentialsBody,
        returns=Written,
    ),
    Operation(
        f"{_REALM}/duo/policy", "PUT", set_policy, "set Duo policy", body=DuoPolicy, returns=Written
    ),
    Operation(
        f"{_REALM}/duo/auth-api",
        "PUT",
        set_auth_api,
        "store Duo Auth API credentials (CIBA), checked with /auth/v2/check",
        body=CredentialsBody,
        returns=Written,
    ),
    Operation(
        f"{_REALM}/duo/auth-api",
        "DELETE",
        clear_auth_api,
        "remove a realm's own Auth API credentials (a client then uses its partner's)",
        returns=Written,
    ),
    Operation(
        f"{_REALM}/duo/enabled", "PUT", set_enabled, "switch Duo on, off or inherit", body=DuoSwitch
    ),
    Operation(
        f"{_REALM}/apps/{{client_id:str}}",
        "PUT",
        set_app_mode,
        "set an application's mode",
        body=AppModeBody,
    ),
    Operation(
        f"{_REALM}/idps/{{alias:str}}",
        "PUT",
        set_idp_policy,
        "set an identity provider's Duo policy (off needs confirm_off)",
        body=IdpPolicyBody,
    ),
    Operation(
        f"{_REALM}/idps",
        "GET",
        list_idp_policies,
        "the realm's identity providers and their Duo policies",
        many=True,
    ),
    Operation(
        f"{_REALM}/organizations",
        "GET",
        list_organizations,
        "a partner's clients kept as organizations",
        returns=TenantView,
        many=True,
    ),
    Operation(_ORG, "GET", show_organization, "a client organization and its own Duo settings"),
    Operation(_ORG, "DELETE", delete_organization, "delete a client organization (members stay)"),
    Operation(
        f"{_ORG}/duo/credentials",
        "PUT",
        set_organization_credentials,
        "store a client organization's Duo credentials",
        body=CredentialsBody,
        returns=Written,
    ),
    Operation(
        f"{_ORG}/duo/credentials",
        "DELETE",
        clear_organization_credentials,
        "remove a client organization's own credentials (its partner's then apply)",
        returns=Written,
    ),
    Operation(
        f"{_ORG}/duo/policy",
        "PUT",
        set_organization_policy,
        "set a client organization's Duo policy",
        body=DuoPolicy,
        returns=Written,
    ),
    Operation(
        f"{_ORG}/duo/enabled",
        "PUT",
        set_organization_enabled,
        "switch Duo on, off or inherit for a client organization",
        body=DuoSwitch,
        returns=Written,
    ),
    Operation(
        f"{_ORG}/apps/{{client_id:str}}",
        "PUT",
        set_organization_app_mode,
        "set an application's mode for a client organization's members",
        body=AppModeBody,
        returns=Written,
    ),
    Operation(
        f"{_ORG}/explain",
        "GET",
        explain_organization,
        "a client organization's effective settings, and the decision for an app and user",
        query=("app", "user"),
    ),
)
DOCUMENT: Final = document(OPERATIONS)


def create_api(api: Api) -> Starlette:
    """The admin API app, to be mounted at ``/admin/api``: its operations and their document."""
    app = Starlette(
        routes=[
            Route("/openapi.json", openapi),
            *(Route(op.path, op.endpoint, methods=[op.method]) for op in OPERATIONS),
        ],
        exception_handlers={
            auth.AuthenticationError: _on_error,
            Forbidden: _on_error,
            _Invalid: _on_error,
            KeycloakError: _on_error,
            ConfigError: _on_error,
            DuoError: _on_error,
            HTTPException: _on_error,
        },
    )
    app.state.api = api
    return app
