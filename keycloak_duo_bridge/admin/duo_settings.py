"""A realm's Duo settings: credentials (skey envelope-encrypted), switch and policy.

Credentials are checked before anything is written: the ikey has 20 characters, the skey
40, the host is ``hostname[:port]``; then, unless told otherwise, a live health check runs
with the new credentials. Only the envelope ciphertext of the skey reaches Keycloak; the
plaintext never appears in output, logs, exceptions or reprs.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Protocol

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.admin import record, wiring
from keycloak_duo_bridge.admin.effective import (
    format_bypass_groups,
    format_remember,
    parse_assurance,
    parse_bool,
    parse_brokered_enrollment,
    parse_brokered_username,
    parse_fail_mode,
    parse_group_path,
    parse_remember,
    parse_self_phones,
    parse_user_mode,
    parse_username_mapping,
)
from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.admin.tenants import Tenant, clients_of, get_tenant
from keycloak_duo_bridge.attributes import TenantKind
from keycloak_duo_bridge.duo.protocol import check_api_host
from keycloak_duo_bridge.envelope import DecryptionError, KeyRing, key_id_of
from keycloak_duo_bridge.errors import ConfigError, DuoConfigError, DuoError

log = logging.getLogger(__name__)

IKEY_LENGTH: Final = 20
SKEY_LENGTH: Final = 40
INHERIT: Final = "inherit"
_KEY_CHARS = re.compile(r"^[A-Za-z0-9]+$")
_HOST = re.compile(
    r"^(?=.{1,253}(:|$))[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*(:[0-9]{1,5})?$"
)


class HealthVerdictLike(Protocol):
    @property
    def status(self) -> str: ...
    @property
    def message(self) -> str: ...


HealthCheck = Callable[[str, str, str], HealthVerdictLike]
"""``(ikey, skey, api_host) -> verdict`` with ``status`` ok | invalid_client | unreachable."""


def duo_health_check(
    ca_file: Path | None = None, timeout: float = 5.0, *, allow_any_host: bool = False
) -> HealthCheck:
    """The live check from :mod:`keycloak_duo_bridge.duo.health`."""
    from keycloak_duo_bridge.duo.health import check_credentials  # noqa: PLC0415

    def check(ikey: str, skey: str, api_host: str) -> HealthVerdictLike:
        return check_credentials(
            ikey, skey, api_host, ca_file=ca_file, timeout=timeout, allow_any_host=allow_any_host
        )

    return check


def validate_credentials(ikey: str, skey: str, api_host: str, *, allow_any_host: bool) -> None:
    """Shape checks, and a Duo API hostname unless ``allow_any_host`` (KDB_DUO_ALLOW_ANY_HOST,
    for an emulator); the message never repeats the skey."""
    if len(ikey) != IKEY_LENGTH or not _KEY_CHARS.match(ikey):
        raise ConfigError(f"the ikey must be {IKEY_LENGTH} letters or digits")
    if len(skey) != SKEY_LENGTH or not _KEY_CHARS.match(skey):
        raise ConfigError(f"the skey must be {SKEY_LENGTH} letters or digits")
    port = api_host.rpartition(":")[2] if ":" in api_host else None
    if not _HOST.match(api_host) or (port is not None and not 0 < int(port) < 65536):  # noqa: PLR2004
        raise ConfigError(f"the API host must be hostname[:port], not {api_host!r}")
    try:
        check_api_host(api_host, allow_any_host=allow_any_host)
    except DuoConfigError as exc:
        raise ConfigError(str(exc)) from None


@dataclass(frozen=True)
class SetResult:
    realm: str
    written: bool
    verification: str  # "ok", "skipped" or "unverified: <message>"


def set_credentials(
    keycloak: Keycloak,
    realm: str,
    *,
    ikey: str,
    skey: str,
    api_host: str,
    ring: KeyRing,
    health: HealthCheck | None,
    allow_unverified: bool = False,
) -> SetResult:
    """Check, then store a realm's Duo credentials. ``health=None`` skips the live check."""
    validate_credentials(ikey, skey, api_host, allow_any_host=keycloak.allow_any_duo_host)
    get_tenant(keycloak, realm)
    verification = verify(
        ikey, skey, api_host, health, allow_unverified=allow_unverified, holder=f"realm {realm}"
    )
    current = dict(keycloak.get_realm(realm).get("attributes") or {})
    if (
        current.get(attr.DUO_IKEY) == ikey
        and current.get(attr.DUO_API_HOST) == api_host
        and same_secret(ring, current.get(attr.DUO_SKEY), skey, realm)
    ):
        return SetResult(realm, written=False, verification=verification)
    sealed = ring.encrypt(skey, realm=realm, attribute=attr.DUO_SKEY)
    written = record.store(
        keycloak, realm, {attr.DUO_IKEY: ikey, attr.DUO_API_HOST: api_host, attr.DUO_SKEY: sealed}
    )
    log.info("stored Duo credentials for realm %s (ikey %s, host %s)", realm, ikey, api_host)
    return SetResult(realm, written=written, verification=verification)


def verify(
    ikey: str,
    skey: str,
    api_host: str,
    health: HealthCheck | None,
    *,
    allow_unverified: bool,
    holder: str,
) -> str:
    """Duo's live health check of new credentials: ``ok``, ``skipped`` (``health=None``) or
    ``unverified: ...`` (allowed only with ``allow_unverified``); refuses the rest."""
    if health is None:
        return "skipped"
    verdict = health(ikey, skey, api_host)
    if verdict.status == "invalid_client":
        raise ConfigError(f"Duo rejected the credentials, nothing saved: {verdict.message}")
    if verdict.status == "untrusted" and not allow_unverified:
        raise ConfigError(f"nothing saved: {verdict.message}")
    if verdict.status == "ok":
        return "ok"
    if not allow_unverified:
        raise DuoError(f"{verdict.message}; nothing saved (pass --allow-unverified to save anyway)")
    log.warning("saving unverified Duo credentials for %s: %s", holder, verdict.message)
    return f"unverified: {verdict.message}"


def same_secret(ring: KeyRing, stored: str | None, skey: str, realm: str) -> bool:
    if not stored or ring.needs_rotation(stored):
        return False
    try:
        return ring.decrypt(stored, realm=realm, attribute=attr.DUO_SKEY) == skey
    except DecryptionError:
        return False


def clear_credentials(keycloak: Keycloak, realm: str) -> bool:
    """Remove a realm's own credentials, so a client realm uses its partner's again."""
    get_tenant(keycloak, realm)
    return record.store(
        keycloak, realm, {attr.DUO_IKEY: None, attr.DUO_API_HOST: None, attr.DUO_SKEY: None}
    )


@dataclass(frozen=True)
class Policy:
    """Per-realm policy changes: a value sets, ``"inherit"`` unsets, None leaves alone."""

    user_mode: str | None = None
    fail_mode: str | None = None
    remember: str | None = None
    bypass_groups: Sequence[str] | None = field(default=None)
    self_deactivate: str | None = None  # "true" | "false": users may deactivate Duo themselves
    self_phones: str | None = None  # off | add | manage: users' own phones at /account/duo
    duo_username: str | None = None  # username | realm-qualified | email: how Duo names users
    # idp-subject | account: how users an identity provider made are named to Duo
    brokered_username: str | None = None
    # allow | known-only: whether users an identity provider made may enrol with Duo at login
    brokered_enrollment: str | None = None

    def changes(self) -> dict[str, str | None]:
        out: dict[str, str | None] = {}
        if self.user_mode is not None:
            out[attr.DUO_USER_MODE] = _or_inherit(
                self.user_mode, lambda v: parse_user_mode(v).value
            )
        if self.fail_mode is not None:
            out[attr.DUO_FAIL_MODE] = _or_inherit(
                self.fail_mode, lambda v: parse_fail_mode(v).value
            )
        if self.remember is not None:
            out[attr.DUO_REMEMBER] = _or_inherit(
                self.remember, lambda v: format_remember(parse_remember(v))
            )
        if self.self_deactivate is not None:
            out[attr.DUO_SELF_DEACTIVATE] = _or_inherit(
                self.self_deactivate, lambda v: str(parse_bool(v)).lower()
            )
        if self.self_phones is not None:
            out[attr.DUO_SELF_PHONES] = _or_inherit(
                self.self_phones, lambda v: parse_self_phones(v).value
            )
        if self.duo_username is not None:
            out[attr.DUO_USERNAME] = _or_inherit(
                self.duo_username, lambda v: parse_username_mapping(v).value
            )
        if self.brokered_username is not None:
            out[attr.DUO_BROKERED_USERNAME] = _or_inherit(
                self.brokered_username, lambda v: parse_brokered_username(v).value
            )
        if self.brokered_enrollment is not None:
            out[attr.DUO_BROKERED_ENROLLMENT] = _or_inherit(
                self.brokered_enrollment, lambda v: parse_brokered_enrollment(v).value
            )
        if self.bypass_groups is not None:
            groups = list(self.bypass_groups)
            out[attr.DUO_BYPASS_GROUPS] = (
                None
                if groups == [INHERIT]
                else format_bypass_groups(parse_group_path(g) for g in groups)
            )
        return out


def _or_inherit(value: str, parse: Callable[[str], str]) -> str | None:
    return None if value == INHERIT else parse(value)


def set_policy(keycloak: Keycloak, realm: str, policy: Policy) -> bool:
    """Validate all of ``policy`` first, then write it in one read-merge-write."""
    changes = policy.changes()
    tenant = get_tenant(keycloak, realm)
    written = record.store(keycloak, realm, changes) if changes else False
    if written and attr.DUO_REMEMBER in changes:  # a step-up flow's level 2 follows it
        followers = clients_of(keycloak, realm) if tenant.kind is TenantKind.PARTNER else []
        for name in [realm, *(client.name for client in followers)]:
            wiring.refresh_flow(keycloak, name)
    return written


def set_enabled(
    keycloak: Keycloak,
    realm: str,
    *,
    enabled: bool | None,
    wires: wiring.Wiring,
    assurance: str | None = None,
) -> list[str]:
    """Switch Duo on (True), off (False) or back to the partner's (None) for a realm.

    Then wire or unwire the realm, and, for a partner, each of its clients that follows it.
    Switching on refuses when the realm would have no credentials (own or partner's), so a
    misconfiguration shows here rather than at a user's login. ``assurance`` ("enforce" or
    "step-up", the realm's own) says where Duo runs; None keeps it. Returns the realms
    reconciled.
    """
    wanted = None if assurance is None else parse_assurance(assurance)
    tenant = get_tenant(keycloak, realm)
    if enabled:
        _require_credentials(keycloak, tenant)
    record.store(
        keycloak, realm, {attr.DUO_ENABLED: None if enabled is None else str(enabled).lower()}
    )
    touched = [realm]
    if wiring.reconcile(keycloak, realm, wires) and wanted is not None:
        wiring.set_assurance(keycloak, realm, wanted)
    elif wanted is not None:  # not wired: the mode waits for Duo to be switched on
        record.store(keycloak, realm, {attr.DUO_ASSURANCE: wanted.value})
    if tenant.kind is TenantKind.PARTNER:
        for client in clients_of(keycloak, realm):
            wiring.reconcile(keycloak, client.name, wires)
            touched.append(client.name)
    return touched


def _require_credentials(keycloak: Keycloak, tenant: Tenant) -> None:
    effective, _ = record.resolve(keycloak, keycloak.get_realm(tenant.name))
    if effective.credentials.value is None:
        raise ConfigError(
            f"realm {tenant.name!r} has no Duo credentials (nor has its partner); "
            f"run `duo set {tenant.name}` first"
        )


def mask(stored: str | None) -> str | None:
    """How a stored skey is shown: its key id only."""
    if not stored:
        return None
    try:
        return f"******** (encrypted, key {key_id_of(stored)})"
    except DecryptionError:
        return "******** (not in kdb1 format)"


def own_settings(a: Mapping[str, str]) -> dict[str, str | None]:
    """The Duo settings a realm or an organization sets itself, skey masked."""
    return {
        "enabled": a.get(attr.DUO_ENABLED),
        "ikey": a.get(attr.DUO_IKEY),
        "api_host": a.get(attr.DUO_API_HOST),
        "skey": mask(a.get(attr.DUO_SKEY)),
        "user_mode": a.get(attr.DUO_USER_MODE),
        "fail_mode": a.get(attr.DUO_FAIL_MODE),
        "bypass_groups": a.get(attr.DUO_BYPASS_GROUPS),
        "remember": a.get(attr.DUO_REMEMBER),
        "self_deactivate": a.get(attr.DUO_SELF_DEACTIVATE),
        "self_phones": a.get(attr.DUO_SELF_PHONES),
    }


def show(keycloak: Keycloak, realm: str) -> dict[str, Any]:
    """The realm's own Duo attributes, skey masked (``explain`` shows inherited values)."""
    tenant = get_tenant(keycloak, realm)
    a = tenant.attributes
    return {
        "realm": realm,
        "kind": tenant.kind.value,
        "partner": tenant.partner,
        **own_settings(a),
        "brokered_username": a.get(attr.DUO_BROKERED_USERNAME),
        "brokered_enrollment": a.get(attr.DUO_BROKERED_ENROLLMENT),
        "bridge_url": a.get(attr.BRIDGE_URL),
        "wired": wiring.is_wired(keycloak, realm),
        "admin_link": "linked" if a.get(attr.DUO_ADMIN_IKEY) else None,  # never its keys
        "provisioned_ikey": a.get(attr.DUO_PROVISIONED_IKEY),
    }
