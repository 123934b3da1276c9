"""Reading live Keycloak for a plan, and the bounded worker pool that apply shares.

The declared realms and their partners are read one ``GET`` each (every realm, from one
``GET /admin/realms``, only for ``--prune``); those that exist then get their applications
(when the file sets app modes) and their wiring read, in parallel, one admin connection per
worker thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.admin.apps import stored_modes as apps_of
from keycloak_duo_bridge.admin.keycloak import Json, Keycloak
from keycloak_duo_bridge.admin.record import ORGANIZATIONS_ENABLED
from keycloak_duo_bridge.fleet.plan import PARTIAL, UNWIRED, WIRED, Live, LiveRealm
from keycloak_duo_bridge.fleet.spec import FleetSpec, TenantSpec

T = TypeVar("T")
R = TypeVar("R")
Connect = Callable[[], Keycloak]
"""Makes an admin connection; each worker thread calls it once."""
Progress = Callable[[int, int, str], None]
"""``(done, total, realm)`` after each realm."""


def each(
    items: Sequence[T],
    work: Callable[[Keycloak, T], R],
    *,
    connect: Connect,
    parallel: int,
    name: Callable[[T], str],
    progress: Progress | None = None,
) -> list[R]:
    """``work(keycloak, item)`` for every item, at most ``parallel`` at a time, in order."""
    local = threading.local()
    done = 0
    lock = threading.Lock()

    def run(item: T) -> R:
        nonlocal done
        keycloak = getattr(local, "keycloak", None)
        if keycloak is None:
            keycloak = local.keycloak = connect()
        result = work(keycloak, item)
        with lock:
            done += 1
            if progress is not None:
                progress(done, len(items), name(item))
        return result

    with ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
        return list(pool.map(run, items))


def wiring_state(keycloak: Keycloak, realm: str, representation: Json) -> str:
    """``on`` when fully wired, ``off`` when nothing of the wiring is there, else ``partial``."""
    actions = [
        a for a in keycloak.get_required_actions(realm) if a["alias"] == attr.REQUIRED_ACTION
    ]
    scope = any(s.get("name") == attr.CLIENT_SCOPE for s in keycloak.get_client_scopes(realm))
    attributes = dict(representation.get("attributes") or {})
    published = attr.BRIDGE_URL in attributes or attr.BRIDGE_JWKS in attributes
    if actions and actions[0].get("enabled") and scope and published:
        return WIRED
    if not (actions or scope or published):
        return UNWIRED
    return PARTIAL


def _declared(connect: Connect, spec: FleetSpec, parallel: int) -> dict[str, Json]:
    """The declared realms and their partners that exist, one ``GET`` each.

    Not Keycloak's ``GET /admin/realms``, which builds and checks every realm in one call:
    at 500 realms it alone took 300 s, and a no-op plan with it 318 s; with these reads
    212 s (``make bench-scale``, docs/scale.md). Each read still costs more as realms grow.
    """
    names = sorted({t.name for t in spec.tenants} | {t.partner for t in spec.tenants if t.partner})
    found = each(
        names, lambda kc, name: kc.find_realm(name), connect=connect, parallel=parallel, name=str
    )
    return {name: r for name, r in zip(names, found, strict=True) if r is not None}


def read_live(
    connect: Connect,
    spec: FleetSpec,
    *,
    wiring: bool,
    parallel: int = 4,
    progress: Progress | None = None,
    every_realm: bool = False,
) -> Live:
    """The declared realms' representations (with every realm's when ``every_realm``, which
    ``--prune`` needs), and the declared realms' apps and wiring."""
    if every_realm:
        representations = {str(r["realm"]): r for r in connect().get_realms()}
    else:
        representations = _declared(connect, spec, parallel)
    present = [t for t in spec.tenants if t.name in representations]

    def read(keycloak: Keycloak, tenant: TenantSpec) -> LiveRealm:
        representation = representations[tenant.name]
        apps = None
        if tenant.apps:
            modes = apps_of(dict(representation.get("attributes") or {}))
            apps = {
                str(c["clientId"]): modes[str(c["clientId"])].value
                if str(c["clientId"]) in modes
                else None
                for c in keycloak.get_clients(tenant.name)
            }
        state = wiring_state(keycloak, tenant.name, representation) if wiring else None
        return LiveRealm(representation, apps, state)

    detailed = each(
        present, read, connect=connect, parallel=parallel, name=lambda t: t.name, progress=progress
    )
    realms = {name: LiveRealm(r) for name, r in representations.items()}
    realms.update({t.name: found for t, found in zip(present, detailed, strict=True)})
    organizations, applications = _organizations(connect, spec, representations, parallel)
    return Live(realms, organizations, applications)


def _organizations(
    connect: Connect, spec: FleetSpec, representations: Mapping[str, Json], parallel: int
) -> tuple[dict[str, dict[str, Json]], dict[str, frozenset[str]]]:
    """The organizations of each declared partner that has them switched on, one listing
    (paged by the client, every page) per partner and never a read per organization; and
    the applications of the partners whose client organizations set app modes."""
    partners = [
        p.name
        for p in spec.partners
        if p.name in representations and representations[p.name].get(ORGANIZATIONS_ENABLED)
    ]
    listed = each(
        partners,
        lambda kc, name: kc.get_organizations(name),
        connect=connect,
        parallel=parallel,
        name=str,
    )
    organizations = {
        partner: {str(o["name"]): o for o in found}
        for partner, found in zip(partners, listed, strict=True)
    }
    with_apps = sorted(
        {
            str(t.partner)
            for t in spec.clients
            if t.is_organization and t.apps and str(t.partner) in representations
        }
    )
    clients = each(
        with_apps,
        lambda kc, name: frozenset(str(c["clientId"]) for c in kc.get_clients(name)),
        connect=connect,
        parallel=parallel,
        name=str,
    )
    return organizations, dict(zip(with_apps, clients, strict=True))
