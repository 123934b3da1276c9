"""The doctor's run: gather the facts (:mod:`.probe`) and judge them (:mod:`.checks`)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx2

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.admin.effective import StoredCredentials, resolve_effective
from keycloak_duo_bridge.doctor import checks, probe
from keycloak_duo_bridge.doctor.checks import Check, fail, ok, skipped, warn
from keycloak_duo_bridge.doctor.keys import secrets
from keycloak_duo_bridge.doctor.probe import ProbeError, Token
from keycloak_duo_bridge.duo.health import check_credentials
from keycloak_duo_bridge.envelope import DecryptionError
from keycloak_duo_bridge.errors import ConfigError
from keycloak_duo_bridge.settings import Settings, key_ring, signing_key

Clock = Callable[[], float]


@dataclass
class _Run:
    settings: Settings
    client: httpx2.Client
    now: Clock
    found: list[Check] = field(default_factory=list)

    def bridge(self) -> None:
        url = self.settings.bridge_url.rstrip("/")
        self.found.append(checks.public_url_scheme(url))
        try:
            answer = probe.get(self.client, f"{url}/healthz", "the bridge")
        except ProbeError as exc:
            self.found.append(checks.public_url_answer(url, None, str(exc)))
        else:
            self.found.append(checks.public_url_answer(url, answer.status, None))

    def keycloak(self) -> Token | None:
        base = self.settings.keycloak_url.rstrip("/")
        realm = self.settings.keycloak_admin_realm
        try:
            answer = probe.get(self.client, f"{base}/realms/{quote(realm, safe='')}", "Keycloak")
        except ProbeError as exc:
            self.found.append(
                fail(
                    "keycloak",
                    f"Keycloak at {base}: {exc}",
                    "check KDB_KEYCLOAK_URL (the URL the bridge uses, not browsers), DNS,"
                    " the firewall, and that Keycloak is up (its /health/ready)",
                )
            )
            return None
        if answer.status != 200:  # noqa: PLR2004
            self.found.append(
                fail(
                    "keycloak",
                    f"Keycloak at {base} answered HTTP {answer.status} for realm {realm!r}",
                    "check KDB_KEYCLOAK_URL (with any path prefix, e.g. /auth) and"
                    " KDB_KEYCLOAK_ADMIN_REALM",
                )
            )
            return None
        self.found.append(ok("keycloak", f"Keycloak at {base} answers"))
        try:
            token = probe.login(self.client, self.settings)
        except ProbeError as exc:
            self.found.append(
                fail(
                    "keycloak login",
                    str(exc),
                    "check KDB_BRIDGE_CLIENT_ID/_SECRET (or KDB_KEYCLOAK_ADMIN_USERNAME/"
                    "_PASSWORD) against the client in Keycloak's admin realm",
                )
            )
            return None
        self.found.append(ok("keycloak login", "the bridge's identity gets a token"))
        remote = token.issued_at or checks.http_date(answer.date)
        self.found.append(checks.clock("Keycloak", remote, self.now(), checks.KEYCLOAK_SKEW))
        return token

    def extension(self, token: Token) -> None:
        try:
            info = probe.admin_get(self.client, self.settings, token, "/serverinfo")
        except ProbeError as exc:
            self.found.append(
                warn(
                    "extension",
                    f"cannot read Keycloak's server info as the bridge ({exc})",
                    "check with an admin account (Realm settings > Provider info: duo-step-up),"
                    " or find 'keycloak-duo-bridge extension' in Keycloak's startup log",
                )
            )
            return
        self.found += [checks.extension(info), checks.keycloak_version(info)]

    def realms(self, token: Token, names: Sequence[str]) -> dict[str, Any]:
        """The representations of the named realms (of every realm the bridge may see, if
        none), by name."""
        if not names:
            listed = probe.admin_get(self.client, self.settings, token, "/realms")
            return {str(r["realm"]): r for r in listed}
        found: dict[str, Any] = {}
        for name in names:
            try:
                rep = probe.admin_get(self.client, self.settings, token, _realm_path(name))
            except ProbeError as exc:
                self.found.append(
                    fail(
                        f"realm {name}",
                        f"the bridge cannot read it: {exc}",
                        "grant the bridge's service account view-realm of the realm's"
                        f" '{name}-realm' client in the admin realm (docs/deploy.md)",
                    )
                )
                continue
            found[name] = rep
        return found

    def partner(self, token: Token, own: dict[str, str], known: dict[str, Any]) -> Any:
        name = own.get(attr.TENANT_PARTNER)
        if not name:
            return None
        if name not in known:
            try:
                rep = probe.admin_get(self.client, self.settings, token, _realm_path(name))
            except ProbeError as exc:
                known[name] = None
                if exc.status != 404:  # noqa: PLR2004 - no such realm: no partner, as the bridge reads it
                    self.found.append(_unreadable_partner(name, str(exc)))
            else:
                if "id" not in rep:  # Keycloak's name-only view: no attributes to resolve from
                    self.found.append(_unreadable_partner(name, "only its name is visible"))
                known[name] = dict(rep.get("attributes") or {})
        return known[name]

    def actions(self, token: Token, realm: str) -> list[dict[str, Any]] | None:
        path = f"{_realm_path(realm)}/authentication/required-actions"
        try:
            found: list[dict[str, Any]] = probe.admin_get(self.client, self.settings, token, path)
        except ProbeError:
            return None
        return found

    def wiring(self, token: Token, names: Sequence[str]) -> list[StoredCredentials]:
        """Every Duo realm wired to this bridge; returns the integrations they use."""
        try:
            public = signing_key(self.settings).public_jwk()
        except ConfigError:
            self.found.append(skipped("realms", "the bridge has no valid signing key"))
            return []
        try:
            realms = self.realms(token, names)
        except ProbeError as exc:
            self.found.append(
                fail("realms", f"cannot list realms: {exc}", "grant the bridge view-realm")
            )
            return []
        known: dict[str, Any] = {n: dict(r.get("attributes") or {}) for n, r in realms.items()}
        integrations: dict[str, StoredCredentials] = {}
        wired = 0
        for realm, representation in realms.items():
            own = known[realm]
            partner = self.partner(token, own, known)
            # the realm's id proves its link to the partner, as the bridge and extension check
            realm_id = str(representation.get("id") or "")
            effective = resolve_effective(own, partner, realm=realm, realm_id=realm_id)
            if not effective.enabled.value:
                if realm in names:
                    self.found.append(
                        warn(f"realm {realm}", "Duo is off in this realm", "`duo enable` it")
                    )
                continue
            wired += 1
            self.found += checks.wired_realm(
                realm, own, partner, bridge_url=self.settings.bridge_url, public_jwk=public
            )
            self.found.append(checks.required_action(realm, self.actions(token, realm)))
            creds = effective.credentials.value
            if creds is None:
                self.found.append(
                    fail(
                        f"duo {realm}",
                        "Duo is on, but neither the realm nor its partner holds Duo credentials",
                        f"`keycloak-duo-bridge duo set {realm} ...` (or on its partner)",
                    )
                )
            else:
                integrations.setdefault(creds.realm, creds)
        if not wired and not names:
            self.found.append(
                warn("realms", "no realm has Duo on", "`keycloak-duo-bridge duo enable REALM`")
            )
        return list(integrations.values())

    def duo(self, integrations: Sequence[StoredCredentials]) -> None:
        try:
            ring = key_ring(self.settings)
        except ConfigError:
            if integrations:
                self.found.append(skipped("duo", "the bridge has no valid key ring"))
            return
        for creds in integrations:
            try:
                skey = ring.decrypt(
                    creds.skey_ciphertext, realm=creds.realm, attribute=attr.DUO_SKEY
                )
            except DecryptionError as exc:
                self.found.append(checks.undecryptable(creds.realm, str(exc)))
                continue
            verdict = check_credentials(
                creds.ikey,
                skey,
                creds.api_host,
                ca_file=self.settings.duo_ca_file,
                timeout=self.settings.duo_read_timeout,
                allow_any_host=self.settings.duo_allow_any_host,
            )
            self.found.append(
                checks.duo_health(creds.realm, creds.api_host, verdict.status, verdict.message)
            )
            if verdict.status not in {"unreachable", "untrusted"}:  # no answer to date
                remote = checks.http_date(verdict.date)
                name = f"Duo {creds.api_host}"
                self.found.append(checks.clock(name, remote, self.now(), checks.DUO_SKEW))


def _unreadable_partner(name: str, why: str) -> Check:
    """A partner realm the bridge's account may not read: the realms naming it cannot
    resolve their Duo settings from it."""
    return fail(
        f"partner {name}",
        f"the bridge cannot read this partner realm ({why}): the realms that name it cannot"
        " inherit its Duo settings, and their logins fail closed",
        "grant the bridge's service account view-realm of the"
        f" '{name}-realm' client in the admin realm (docs/deploy.md)",
    )


def _realm_path(name: str) -> str:
    return f"/realms/{quote(name, safe='')}"


def diagnose(
    settings: Settings,
    *,
    realms: Sequence[str] = (),
    now: Clock = time.time,
    client: httpx2.Client | None = None,
) -> list[Check]:
    """Every check, in report order. ``realms``: only these (default: every Duo realm the
    bridge can see). ``now``: this host's clock."""
    with client or httpx2.Client(timeout=probe.TIMEOUT) as http:
        run = _Run(settings, http, now)
        run.found += secrets(settings)
        run.bridge()
        token = run.keycloak()
        if token is None:
            run.found += [
                skipped(n, "Keycloak is unreachable or refused the login")
                for n in ("extension", "realms", "duo")
            ]
            return run.found
        run.extension(token)
        run.duo(run.wiring(token, realms))
    return run.found
