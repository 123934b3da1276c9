"""Converge Keycloak to a plan with the admin service's own (idempotent) functions.

Partners go first, then clients (which need their partner), then pruned clients, then
pruned partners; within each phase realms run in parallel, bounded. Only what the plan
lists is touched, so a no-op plan makes no call at all. Each step checks before it writes,
so an apply that was interrupted is completed by running it again.

A realm the plan creates is made from what the plan already knows, with no read first: its
create call carries every declared attribute (the skey sealed) and, when the plan wires it,
the bridge's; then come only the calls Keycloak's realm import cannot replace (see
:func:`keycloak_duo_bridge.admin.tenants.new_tenant`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.admin import (
    apps,
    auth_api_settings,
    duo_settings,
    provisioning,
    record,
    tenants,
    wiring,
)
from keycloak_duo_bridge.admin.auth_api_settings import AuthApiCheck
from keycloak_duo_bridge.admin.idp_policy import format_idps
from keycloak_duo_bridge.admin.keycloak import Json, Keycloak
from keycloak_duo_bridge.admin.tenants import FRONTEND_URL
from keycloak_duo_bridge.attributes import Assurance, TenantKind
from keycloak_duo_bridge.duo.rest_client import RestOptions
from keycloak_duo_bridge.envelope import KeyRing
from keycloak_duo_bridge.errors import BridgeError, ConfigError
from keycloak_duo_bridge.fleet import organization_apply
from keycloak_duo_bridge.fleet.live import Connect, Progress, each
from keycloak_duo_bridge.fleet.plan import (
    AUTH_API_KEYS,
    PROVISION_KEY,
    Action,
    Plan,
    RealmPlan,
    declared_attributes,
)
from keycloak_duo_bridge.fleet.spec import ORGANIZATION, DeclaredCredentials, TenantSpec

_CREDENTIALS = ("duo.ikey", "duo.api_host", "duo.skey")
_POLICY = (
    "duo.user_mode",
    "duo.fail_mode",
    "duo.bypass_groups",
    "duo.remember",
    "duo.duo_username",
    "duo.brokered_username",
    "duo.brokered_enrollment",
)


@dataclass(frozen=True)
class AppliedRealm:
    realm: str
    action: Action
    error: str | None = None


@dataclass(frozen=True)
class Context:
    ring: KeyRing | None
    wires: wiring.Wiring | None
    template_dir: Path | None
    declared: frozenset[str]
    auth_api_check: AuthApiCheck | None = None  # Duo's /auth/v2/check before Auth API keys
    duo_options: RestOptions | None = None  # for `duo: provision` (Duo's Admin API)
    health: duo_settings.HealthCheck | None = None  # proves provisioned keys
    # the partner realms of client organizations, read once before the organizations
    partners: Mapping[str, Json] = field(default_factory=dict)


def apply_plan(
    plan: Plan,
    connect: Connect,
    *,
    ring: KeyRing | None,
    wires: wiring.Wiring | None,
    template_dir: Path | None = None,
    parallel: int = 4,
    progress: Progress | None = None,
    auth_api_check: AuthApiCheck | None = None,
    duo_options: RestOptions | None = None,
    health: duo_settings.HealthCheck | None = None,
) -> list[AppliedRealm]:
    """Carry ``plan`` out; a realm that fails is reported, and the others go on. Auth API
    keys are written only once ``auth_api_check`` (when given) accepts them.

    ``duo_options`` and ``health``: how ``duo: provision`` calls Duo and checks the keys."""
    if plan.problems:
        raise ConfigError(f"the plan has problems, nothing applied: {'; '.join(plan.problems)}")
    context = Context(
        ring,
        wires,
        template_dir,
        frozenset(r.realm for r in plan.realms if r.spec is not None),
        auth_api_check,
        duo_options,
        health,
    )
    todo = [r for r in plan.realms if r.action is not Action.NONE]
    created = [r for r in todo if _is(r, TenantKind.CLIENT, deleted=False)]
    phases: list[tuple[list[RealmPlan], Callable[[Keycloak, RealmPlan, Context], None]]] = [
        ([r for r in todo if _is(r, TenantKind.PARTNER, deleted=False)], _converge),
        ([r for r in created if r.mapping != ORGANIZATION], _converge),
        ([r for r in created if r.mapping == ORGANIZATION], _converge_organization),
        ([r for r in todo if _is(r, TenantKind.CLIENT, deleted=True)], _delete),
        ([r for r in todo if _is(r, TenantKind.PARTNER, deleted=True)], _delete),
    ]
    total = len(todo)
    done = 0
    outcomes: list[AppliedRealm] = []

    def counted(finished: int, _total: int, realm: str) -> None:
        if progress is not None:
            progress(done + finished, total, realm)

    for realms, step in phases:
        if realms and step is _converge_organization:  # after their partners are made
            partners = {str(r.spec.partner) for r in realms if r.spec is not None}
            context = replace(context, partners=organization_apply.prepare(connect(), partners))

        def work(
            keycloak: Keycloak,
            realm: RealmPlan,
            step: Callable[[Keycloak, RealmPlan, Context], None] = step,
            context: Context = context,
        ) -> AppliedRealm:
            try:
                step(keycloak, realm, context)
            except BridgeError as exc:
                return AppliedRealm(realm.realm, realm.action, str(exc))
            return AppliedRealm(realm.realm, realm.action)

        outcomes += each(
            realms,
            work,
            connect=connect,
            parallel=parallel,
            name=lambda r: r.realm,
            progress=counted,
        )
        done += len(realms)
    return outcomes


def _is(realm: RealmPlan, kind: TenantKind, *, deleted: bool) -> bool:
    return realm.kind is kind and (realm.action is Action.DELETE) is deleted


def _delete(keycloak: Keycloak, realm: RealmPlan, _context: Context) -> None:
    if realm.mapping == ORGANIZATION:
        organization_apply.delete(keycloak, realm)
    else:
        tenants.delete_tenant(keycloak, realm.realm)


def _converge(keycloak: Keycloak, realm: RealmPlan, context: Context) -> None:
    spec = realm.spec
    assert spec is not None  # noqa: S101 - only deletions have no spec
    if realm.action is Action.CREATE:
        _create(keycloak, realm, spec, context)
        _provision(keycloak, realm, spec.name, context)
    else:
        _provision(keycloak, realm, spec.name, context)
        _converge_tenant(keycloak, realm, spec)
        _converge_duo(keycloak, realm, spec, context)
        wired = None
        if context.wires is not None and realm.changed("duo.wiring"):
            wired = wiring.reconcile(keycloak, spec.name, context.wires)
        if realm.changed("duo.assurance"):
            _converge_assurance(keycloak, spec, wired=wired)
        if realm.changed("idps") and spec.idps is not None:
            record.store(keycloak, spec.name, {attr.DUO_IDPS: format_idps(spec.idps)})
        for client_id, mode in _app_modes(realm).items():
            apps.set_mode(keycloak, spec.name, client_id, mode)
    if context.wires is not None:
        _rewire_followers(keycloak, realm, spec, context.wires, context.declared)


def _converge_organization(keycloak: Keycloak, realm: RealmPlan, context: Context) -> None:
    partner = context.partners[str(realm.spec.partner if realm.spec else None)]
    organization = organization_apply.converge(
        keycloak, realm, partner, context.ring, _app_modes(realm), context.auth_api_check
    )
    _provision(keycloak, realm, organization, context)


def _converge_assurance(keycloak: Keycloak, spec: TenantSpec, *, wired: bool | None) -> None:
    """The mode switches with its flow binding where the realm is wired; else it is stored,
    and the wiring binds its flow when Duo goes on."""
    wanted = spec.duo.assurance
    mode = None if wanted in {None, duo_settings.INHERIT} else Assurance(str(wanted))
    if wired is None:
        wired = wiring.is_wired(keycloak, spec.name)
    if wired:
        wiring.set_assurance(keycloak, spec.name, mode)
    else:
        record.store(keycloak, spec.name, {attr.DUO_ASSURANCE: None if mode is None else mode})


def _app_modes(realm: RealmPlan) -> dict[str, str]:
    return {
        change.key.removeprefix("apps."): change.after
        for change in realm.changes
        if change.key.startswith("apps.") and change.after is not None
    }


def _converge_tenant(keycloak: Keycloak, realm: RealmPlan, spec: TenantSpec) -> None:
    name = spec.name
    if spec.kind is TenantKind.PARTNER:
        if realm.changed("display_name") or realm.changed("branding_url"):
            tenants.update_partner(
                keycloak, name, branding_url=spec.branding_url, display_name=spec.display_name
            )
    elif realm.changed("display_name") or realm.changed("partner"):
        tenants.update_client(
            keycloak,
            name,
            partner=spec.partner if realm.changed("partner") else None,
            display_name=spec.display_name,
        )
    if realm.changed("partner_link") and not realm.changed("partner"):  # a move links anew
        tenants.ensure_link(keycloak, tenants.get_tenant(keycloak, name, TenantKind.CLIENT))


def _converge_duo(keycloak: Keycloak, realm: RealmPlan, spec: TenantSpec, context: Context) -> None:
    name = spec.name
    credentials = spec.duo.credentials
    if credentials is not None and any(realm.changed(key) for key in _CREDENTIALS):
        duo_settings.set_credentials(
            keycloak,
            name,
            ikey=credentials.ikey,
            skey=credentials.skey.value,
            api_host=credentials.api_host,
            ring=_ring(context),
            health=None,
        )
    auth_api = spec.duo.auth_api
    if auth_api is not None and any(realm.changed(key) for key in AUTH_API_KEYS):
        if isinstance(auth_api, DeclaredCredentials):
            auth_api_settings.set_auth_api(
                keycloak,
                name,
                creds=auth_api.auth_api_credentials(),
                ring=_ring(context),
                check=context.auth_api_check,
            )
        else:
            auth_api_settings.clear_auth_api(keycloak, name)
    if any(realm.changed(key) for key in _POLICY):
        duo_settings.set_policy(keycloak, name, spec.duo.policy)
    if realm.changed("duo.enabled"):
        enabled = None if spec.duo.enabled == duo_settings.INHERIT else spec.duo.enabled
        record.store(keycloak, name, {attr.DUO_ENABLED: enabled})


def _provision(
    keycloak: Keycloak, realm: RealmPlan, client: provisioning.Client, context: Context
) -> None:
    """``duo: provision``: as ``client create --duo-provision``, a failure undoes what it
    made in Duo, and a realm or organization this apply created goes again."""
    if not realm.changed(PROVISION_KEY):
        return
    provisioning.provision_created(
        keycloak,
        client,
        existed=realm.action is not Action.CREATE,
        ring=_ring(context),
        options=context.duo_options or RestOptions(),
        health=context.health,
    )


def _ring(context: Context) -> KeyRing:
    if context.ring is None:
        raise ConfigError("KDB_KEYRING and KDB_ACTIVE_KEY_ID must be set to store skeys")
    return context.ring


def _create(keycloak: Keycloak, realm: RealmPlan, spec: TenantSpec, context: Context) -> None:
    """Make the realm from the plan alone: one create call with every declared attribute."""
    attributes = {
        name: value
        for name, value in declared_attributes(spec).items()
        if value is not None and name != FRONTEND_URL  # the template places the branding URL
    }
    credentials = spec.duo.credentials
    if credentials is not None:
        skey = credentials.skey.value
        duo_settings.validate_credentials(
            credentials.ikey,
            skey,
            credentials.api_host,
            allow_any_host=keycloak.allow_any_duo_host,
        )
        attributes[attr.DUO_SKEY] = _ring(context).encrypt(
            skey, realm=spec.name, attribute=attr.DUO_SKEY
        )
    if isinstance(spec.duo.auth_api, DeclaredCredentials):
        creds = spec.duo.auth_api.auth_api_credentials()
        auth_api_settings.verify(
            creds, context.auth_api_check, allow_any_host=keycloak.allow_any_duo_host
        )  # before the realm exists: a refused key makes nothing
        attributes[attr.AUTH_API_SKEY] = _ring(context).encrypt(
            creds.skey, realm=spec.name, attribute=attr.AUTH_API_SKEY
        )
    new = tenants.NewTenant(
        spec.kind,
        spec.name,
        partner=spec.partner,
        display_name=spec.display_name,
        branding_url=spec.branding_url,
        template_dir=context.template_dir,
        attributes=attributes,
        wires=context.wires if realm.changed("duo.wiring") else None,
        apps=_app_modes(realm),
    )
    tenants.new_tenant(keycloak, new)


def _rewire_followers(
    keycloak: Keycloak,
    realm: RealmPlan,
    spec: TenantSpec,
    wires: wiring.Wiring,
    declared: frozenset[str],
) -> None:
    """A partner whose switch moved: wire or unwire its clients the file does not declare."""
    if spec.kind is TenantKind.PARTNER and realm.changed("duo.enabled"):
        for client in tenants.clients_of(keycloak, spec.name):
            if client.name not in declared:
                wiring.reconcile(keycloak, client.name, wires)
