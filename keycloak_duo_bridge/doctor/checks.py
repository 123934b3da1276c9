"""The doctor's checks as pure functions: facts in, one :class:`Check` (or a few) out.

Each check says what it found and, when something is wrong, how to fix it. ``FAIL`` means
some login would fail (or pass without Duo); ``WARN`` means logins work but something is
off; ``SKIP`` means an earlier failure kept the check from running.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import Any, Final
from urllib.parse import urlsplit

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge import versions
from keycloak_duo_bridge.admin import record
from keycloak_duo_bridge.admin.record import RecordState

# Duo checks its assertions and id_tokens with 60 s of leeway; the bridge checks Keycloak's
# request tokens with 30 s (keycloak_duo_bridge.duo.protocol / bridge.tokens).
DUO_SKEW: Final = 60.0
KEYCLOAK_SKEW: Final = 30.0


class Status(StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "FAIL"
    SKIP = "skip"


@dataclass(frozen=True)
class Check:
    """One line of the report: what was checked, the outcome, what was found, the fix."""

    name: str
    status: Status
    detail: str
    fix: str | None = None

    @property
    def failed(self) -> bool:
        return self.status in {Status.FAIL, Status.SKIP}


def ok(name: str, detail: str) -> Check:
    return Check(name, Status.OK, detail)


def fail(name: str, detail: str, fix: str) -> Check:
    return Check(name, Status.FAIL, detail, fix)


def warn(name: str, detail: str, fix: str) -> Check:
    return Check(name, Status.WARN, detail, fix)


def skipped(name: str, because: str) -> Check:
    return Check(name, Status.SKIP, f"not checked: {because}", "fix the failure above first")


def keycloak_version(serverinfo: Mapping[str, Any]) -> Check:
    """Keycloak's release, inside the extension's supported range."""
    version = str((serverinfo.get("systemInfo") or {}).get("version") or "unknown")
    if versions.is_supported(version):
        return ok(
            "keycloak version", f"Keycloak {version} (supported: {versions.supported_range()})"
        )
    return warn(
        "keycloak version",
        f"Keycloak {version} is outside the supported {versions.supported_range()}",
        "run a supported Keycloak; the extension only starts on one if told to"
        " (--spi-required-action--duo-step-up--allow-unsupported-keycloak=true)",
    )


def extension(serverinfo: Mapping[str, Any]) -> Check:
    """The ``duo-step-up`` required action among Keycloak's loaded providers."""
    spi = (serverinfo.get("providers") or {}).get("required-action") or {}
    if attr.REQUIRED_ACTION in (spi.get("providers") or {}):
        return ok(
            "extension",
            f"provider {attr.REQUIRED_ACTION} loaded (Keycloak's admin API does not show the"
            " jar's version: its startup log line 'keycloak-duo-bridge extension <version> on"
            " Keycloak <version>' does)",
        )
    return fail(
        "extension",
        f"Keycloak has no required action provider {attr.REQUIRED_ACTION}: Duo realms cannot"
        " hand logins to the bridge",
        "copy keycloak-duo-bridge-extension-<version>.jar into providers/ on every Keycloak"
        " node, run `kc.sh build`, restart (docs/deploy.md)",
    )


def _published(
    own: Mapping[str, str], partner: Mapping[str, str] | None, realm: str
) -> tuple[RecordState, str | None, str | None]:
    """The record's state, and the bridge URL and JWKS the realm sends logins to."""
    state = record.state_of(own, partner, realm=realm)
    if state is RecordState.CURRENT:
        body = json.loads(own[attr.RESOLVED])
        return state, body.get("bridge_url"), body.get("bridge_jwks")
    fallback = partner or {}
    url = own.get(attr.BRIDGE_URL) or fallback.get(attr.BRIDGE_URL)
    jwks = own.get(attr.BRIDGE_JWKS) or fallback.get(attr.BRIDGE_JWKS)
    return state, url, jwks


def _holds(jwks: str | None, public: Mapping[str, str]) -> bool:
    try:
        keys = json.loads(jwks or "{}").get("keys") or []
    except (ValueError, AttributeError):
        return False
    wanted = (public["kid"], public["x"], public["y"])
    return any(
        isinstance(k, dict) and (k.get("kid"), k.get("x"), k.get("y")) == wanted for k in keys
    )


def wired_realm(
    realm: str,
    own: Mapping[str, str],
    partner: Mapping[str, str] | None,
    *,
    bridge_url: str,
    public_jwk: Mapping[str, str],
) -> list[Check]:
    """A Duo realm sends its logins to this bridge's URL and trusts this bridge's key."""
    name = f"realm {realm}"
    state, url, jwks = _published(own, partner, realm)
    found: list[Check] = []
    rewire = (
        f"run `keycloak-duo-bridge duo enable {realm}` (or `apply`) with this bridge's settings"
    )
    if (url or "").rstrip("/") != bridge_url.rstrip("/"):
        found.append(
            fail(
                name,
                f"sends logins to {url or 'no bridge'}, not to this bridge ({bridge_url})",
                f"{rewire}, or set KDB_BRIDGE_URL to the URL browsers use for this bridge",
            )
        )
    elif not _holds(jwks, public_jwk):
        found.append(
            fail(
                name,
                f"does not publish this bridge's signing key (kid {public_jwk['kid']}): Keycloak"
                " would refuse its verdicts",
                f"{rewire} and the same KDB_BRIDGE_SIGNING_KEY (a key roll: docs/operations.md)",
            )
        )
    else:
        found.append(
            ok(name, f"sends logins to this bridge and trusts its key {public_jwk['kid']}")
        )
    if state is not RecordState.CURRENT:
        found.append(
            warn(
                f"{name} record",
                f"its {attr.RESOLVED} record is {state.value}: the extension hands every login"
                " to the bridge and accepts no bypass",
                f"run `keycloak-duo-bridge apply` or `duo policy {realm}` to rewrite it",
            )
        )
    return found


def required_action(realm: str, actions: list[dict[str, Any]] | None) -> Check:
    """The realm has the ``duo-step-up`` required action registered and enabled (None: the
    bridge may not read the list)."""
    name = f"realm {realm} action"
    if actions is None:
        return warn(
            name,
            "the bridge may not read the realm's required actions",
            "check Authentication > Required actions in the realm as an administrator",
        )
    found = next((a for a in actions if a.get("alias") == attr.REQUIRED_ACTION), None)
    if found is not None and found.get("enabled") is True:
        return ok(name, f"required action {attr.REQUIRED_ACTION} registered and enabled")
    state = "disabled" if found is not None else "not registered"
    return fail(
        name,
        f"required action {attr.REQUIRED_ACTION} is {state}: logins in this realm skip Duo",
        f"run `keycloak-duo-bridge duo enable {realm}` (or `apply`)",
    )


def duo_health(owner: str, api_host: str, status: str, message: str) -> Check:
    """Duo's health check with one integration's credentials (``owner``: the realm holding them)."""
    name = f"duo {owner}"
    if status == "ok":
        return ok(name, f"Duo at {api_host} accepted the credentials")
    if status == "untrusted":
        return fail(
            name,
            f"the certificate of {api_host} is not trusted by the bridge",
            "update the machine's CA certificates, or set KDB_DUO_CA_FILE to the PEM file of"
            " the private CA (a TLS-inspecting proxy, the Duo emulator's ca.pem)",
        )
    if status == "invalid_client":
        return fail(
            name,
            f"Duo at {api_host} refused the credentials: {message}",
            f"set the Web SDK application's client id and secret again: `keycloak-duo-bridge duo"
            f" set {owner} ...`",
        )
    return fail(
        name,
        message,
        f"let the bridge reach https://{api_host} (firewall, proxy, DNS); logins fail closed,"
        " or bypass Duo in fail-open realms, until then",
    )


def undecryptable(owner: str, message: str) -> Check:
    return fail(
        f"duo {owner}",
        message,
        "give the bridge the KDB_KEYRING that holds the key the skey was stored under"
        " (`keycloak-duo-bridge keys check`)",
    )


def clock(name: str, remote: float | None, local: float, tolerance: float) -> Check:
    """``remote`` (seconds since the epoch, None: not known) within ``tolerance`` of ``local``."""
    check = f"clock vs {name}"
    if remote is None:
        return warn(check, f"{name} sent no Date header to compare", "compare the clocks by hand")
    skew = remote - local
    if abs(skew) <= tolerance:
        return ok(check, f"within {abs(skew):.0f} s (tolerance {tolerance:.0f} s)")
    return fail(
        check,
        f"{name}'s clock is {skew:+.0f} s from this host's (tolerance {tolerance:.0f} s):"
        " tokens would be refused as expired or not yet valid",
        "synchronise both clocks with NTP (chrony, systemd-timesyncd)",
    )


def http_date(value: str | None) -> float | None:
    """Seconds since the epoch of an HTTP ``Date`` header; None if absent or unreadable."""
    if not value:
        return None
    try:
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def public_url_scheme(bridge_url: str) -> Check:
    """Browsers reach the bridge over https, unless it is on this machine's loopback."""
    parts = urlsplit(bridge_url)
    if parts.scheme == "https" or (parts.scheme == "http" and _loopback(parts.hostname or "")):
        return ok("bridge url", f"{bridge_url}")
    return fail(
        "bridge url",
        f"{bridge_url} is not https: cookies of the step-up and the console need https",
        "serve the bridge over https (KDB_BRIDGE_TLS_CERT_FILE/_KEY_FILE, or a TLS proxy with"
        " KDB_FORWARDED_ALLOW_IPS) and set KDB_BRIDGE_URL to its https URL",
    )


def public_url_answer(bridge_url: str, status: int | None, error: str | None) -> Check:
    """``<bridge_url>/healthz`` answered 200 (from this host: a browser's view may differ)."""
    if status == 200:  # noqa: PLR2004
        return ok("bridge reachable", f"{bridge_url}/healthz answers 200")
    found = error or f"answered HTTP {status}"
    return fail(
        "bridge reachable",
        f"{bridge_url}/healthz {found}",
        "KDB_BRIDGE_URL must be the URL browsers use for this bridge: check DNS, the proxy's"
        " route and that `keycloak-duo-bridge serve` is running",
    )
