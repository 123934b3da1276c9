"""Where the bridge learns a realm's Duo settings: Keycloak's admin API, cached.

Once warm, the login path makes no admin call: each request token carries a fingerprint of
the realm's ``kdb.*`` attributes (computed by the extension), and the cache is reused while
the fingerprint matches and the TTL has not run out. Any change to the attributes changes
the fingerprint, so the next login reloads them; no coordination between replicas needed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx2
from cachetools import TTLCache

from keycloak_duo_bridge.admin.effective import (
    EffectiveSettings,
    resolve_effective,
    resolve_organization,
    single_values,
)
from keycloak_duo_bridge.attributes import TENANT_KIND, TENANT_PARTNER, TenantKind
from keycloak_duo_bridge.errors import (
    KeycloakAuthError,
    KeycloakError,
    KeycloakForbiddenError,
    KeycloakUnreachableError,
    NotFoundError,
)
from keycloak_duo_bridge.settings import Settings

logger = logging.getLogger("keycloak_duo_bridge.bridge")
_UNAUTHORIZED = 401
_NOT_FOUND = 404


@dataclass
class _Entry:
    fingerprint: str
    expires: float
    effective: EffectiveSettings
    frontend_url: str | None
    attributes: dict[str, str] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class Member:
    """What a member of a client organization gets: the partner realm's settings and the
    organization's (resolved over the partner's)."""

    partner: EffectiveSettings
    organization: EffectiveSettings


class RealmSource:
    """Reads realm attributes with the bridge's service account (or, failing that, the admin
    password); caches effective settings per realm."""

    def __init__(
        self,
        settings: Settings,
        http: httpx2.AsyncClient,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._settings = settings
        self._http = http
        self._clock = clock
        self._cache: dict[str, _Entry] = {}
        self._members: dict[str, tuple[str, float, EffectiveSettings]] = {}
        self._token: str | None = None
        self._token_expires = 0.0
        self._warned = False

    async def effective(self, realm: str, fingerprint: str) -> EffectiveSettings:
        return (await self._entry(realm, fingerprint)).effective

    async def member(
        self, realm: str, fingerprint: str, organization: str, org_fingerprint: str
    ) -> Member:
        """The settings of a member of ``organization`` (an id) in ``realm``, cached per
        organization while both fingerprints hold, so a warm login makes no admin call."""
        entry = await self._entry(realm, fingerprint)
        key = f"{realm}/{organization}"
        both = f"{fingerprint}/{org_fingerprint}"
        cached = self._members.get(key)
        now = self._clock()
        if cached is not None and cached[0] == both and cached[1] > now:
            return Member(entry.effective, cached[2])
        representation = await self.admin_json(f"{realm}/organizations/{organization}")
        attributes = single_values(representation)
        if attributes.get(TENANT_KIND) != TenantKind.CLIENT:
            raise NotFoundError(f"organization {organization!r} of {realm!r} is no client")
        settings = resolve_organization(
            attributes,
            entry.effective,
            entry.attributes,
            organization=str(representation.get("name") or organization),
            organization_id=organization,
        )
        self._members[key] = (both, now + self._settings.bridge_settings_ttl, settings)
        return Member(entry.effective, settings)

    async def frontend_url(self, realm: str, fingerprint: str) -> str | None:
        """The realm's branding URL (``frontendUrl``), which becomes its token issuer's base."""
        return (await self._entry(realm, fingerprint)).frontend_url

    async def _entry(self, realm: str, fingerprint: str) -> _Entry:
        entry = self._cache.get(realm)
        now = self._clock()
        if entry is not None and entry.fingerprint == fingerprint and entry.expires > now:
            return entry
        attributes, realm_id = await self._attributes(realm)
        partner_name = attributes.get(TENANT_PARTNER)
        partner = None
        if partner_name and partner_name != realm:
            try:
                partner, _ = await self._attributes(partner_name)
            except NotFoundError:
                partner = None
        entry = _Entry(
            fingerprint,
            now + self._settings.bridge_settings_ttl,
            resolve_effective(attributes, partner, realm=realm, realm_id=realm_id),
            (attributes.get("frontendUrl") or "").rstrip("/") or None,
            attributes,
        )
        self._cache[realm] = entry
        return entry

    async def admin_json(self, path: str) -> Any:
        """GET ``/admin/realms/<path>`` with the bridge's account (CIBA reads the user)."""
        url = f"{self._settings.keycloak_url.rstrip('/')}/admin/realms/{path}"
        response = await self._admin_get(url)
        if response.status_code == _NOT_FOUND:
            raise NotFoundError(f"Keycloak has no {path.split('?', maxsplit=1)[0]!r}")
        if response.status_code != httpx2.codes.OK:
            raise KeycloakError(
                f"reading {path.split('?', maxsplit=1)[0]!r} failed: HTTP {response.status_code}"
            )
        return response.json()

    async def _attributes(self, realm: str) -> tuple[dict[str, str], str]:
        """A realm's attributes and its id (the partner link names the id)."""
        url = f"{self._settings.keycloak_url.rstrip('/')}/admin/realms/{realm}"
        response = await self._admin_get(url)
        if response.status_code == _NOT_FOUND:
            raise NotFoundError(f"realm {realm!r} does not exist")
        if response.status_code != httpx2.codes.OK:
            raise KeycloakError(f"reading realm {realm!r} failed with HTTP {response.status_code}")
        representation: dict[str, Any] = response.json()
        if "id" not in representation:
            # Keycloak answers a reader without view-realm of this realm with a brief
            # representation (its name only). Read as "no attributes", that would be "Duo off"
            # for the realm: refuse instead, so the login fails closed.
            raise KeycloakForbiddenError(
                f"the bridge may not view realm {realm!r}: grant its account view-realm there"
            )
        attributes = representation.get("attributes") or {}
        return {str(k): str(v) for k, v in attributes.items()}, str(representation.get("id") or "")

    async def _admin_get(self, url: str) -> httpx2.Response:
        for attempt in range(2):
            token = await self._admin_token(refresh=attempt > 0)
            try:
                response = await self._http.get(url, headers={"Authorization": f"Bearer {token}"})
            except httpx2.HTTPError as exc:
                raise KeycloakUnreachableError(
                    f"Keycloak is unreachable: {type(exc).__name__}"
                ) from exc
            if response.status_code != _UNAUTHORIZED:
                return response
        raise KeycloakAuthError("Keycloak rejected the bridge's admin token")

    def _grant(self) -> dict[str, str]:
        """The bridge's own service account (client credentials) when configured; otherwise,
        with a warning once, the admin service's master admin password."""
        settings = self._settings
        if settings.bridge_client_id and settings.bridge_client_secret is not None:
            return {
                "grant_type": "client_credentials",
                "client_id": settings.bridge_client_id,
                "client_secret": settings.bridge_client_secret.get_secret_value(),
            }
        if not self._warned:
            self._warned = True
            logger.warning(
                "the bridge reads realms with the Keycloak admin's password: set "
                "KDB_BRIDGE_CLIENT_ID and KDB_BRIDGE_CLIENT_SECRET to a service account with "
                "only view-realm (docs/operations.md, Least privilege)"
            )
        return {
            "grant_type": "password",
            "client_id": "admin-cli",
            "username": settings.keycloak_admin_username,
            "password": settings.keycloak_admin_password.get_secret_value(),
        }

    async def _admin_token(self, *, refresh: bool) -> str:
        if self._token is not None and not refresh and self._token_expires > self._clock():
            return self._token
        settings = self._settings
        url = (
            f"{settings.keycloak_url.rstrip('/')}/realms/{settings.keycloak_admin_realm}"
            "/protocol/openid-connect/token"
        )
        try:
            response = await self._http.post(url, data=self._grant())
        except httpx2.HTTPError as exc:
            raise KeycloakUnreachableError(
                f"Keycloak is unreachable: {type(exc).__name__}"
            ) from exc
        if response.status_code != httpx2.codes.OK:
            raise KeycloakAuthError("Keycloak rejected the bridge's admin credentials")
        body: dict[str, Any] = response.json()
        self._token = str(body["access_token"])
        self._token_expires = self._clock() + max(float(body.get("expires_in", 60)) - 10, 1)
        return self._token


class JwksCache:
    """Each realm's public signing keys, from the configured Keycloak only.

    A cached set serves every login until ``max_age`` seconds have passed, so a key that
    Keycloak stops publishing stops being accepted within that time, without a read per
    login. An unknown key id re-reads the set at most once per ``min_refresh_interval``. A
    realm Keycloak does not know is remembered as unknown for ``negative_ttl`` seconds (at
    most ``max_unknown`` of them), so made-up realm names cost Keycloak one read each.
    """

    def __init__(
        self,
        keycloak_url: str,
        http: httpx2.AsyncClient,
        *,
        min_refresh_interval: float = 10.0,
        max_age: float = 300.0,
        negative_ttl: float = 60.0,
        max_unknown: int = 4096,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._base = keycloak_url.rstrip("/")
        self._http = http
        self._interval = min_refresh_interval
        self._max_age = max_age
        self._clock = clock
        self._sets: dict[str, dict[str, Any]] = {}
        self._fetched: dict[str, float] = {}
        self._unknown: TTLCache[str, bool] = TTLCache(max_unknown, negative_ttl, timer=clock)

    async def jwks(self, realm: str, kid: str | None) -> dict[str, Any]:
        if realm in self._unknown:
            raise NotFoundError(f"realm {realm!r} publishes no keys")
        cached = self._sets.get(realm)
        if cached is not None:
            age = self._clock() - self._fetched[realm]
            known = any(isinstance(k, dict) and k.get("kid") == kid for k in cached.get("keys", []))
            if age < self._max_age and (known or age < self._interval):
                return cached
        url = f"{self._base}/realms/{realm}/protocol/openid-connect/certs"
        try:
            response = await self._http.get(url)
        except httpx2.HTTPError as exc:
            raise KeycloakUnreachableError(
                f"Keycloak is unreachable: {type(exc).__name__}"
            ) from exc
        if response.status_code == _NOT_FOUND:
            self._sets.pop(realm, None)
            self._unknown[realm] = True
            raise NotFoundError(f"realm {realm!r} publishes no keys")
        if response.status_code != httpx2.codes.OK:
            raise KeycloakError(
                f"reading realm {realm!r}'s keys failed with HTTP {response.status_code}"
            )
        fetched: dict[str, Any] = response.json()
        self._sets[realm] = fetched
        self._fetched[realm] = self._clock()
        return fetched
