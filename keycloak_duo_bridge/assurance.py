"""Duo in Keycloak's own language: levels of authentication, ``acr`` and ``amr``.

Pure functions, shared by the bridge (a verdict's ``amr``) and the admin service (a realm's
levels, and the "step-up" flow it binds). The extension reads what they produce verbatim.

Two levels, named by ``acr`` values in the realm's ``acr.loa.map``:

* :data:`ACR_BASE` (``pwd``, level 1): a password;
* :data:`ACR_DUO` (``mfa``, level 2): a password and Duo with a second factor.

``amr`` (RFC 8176) gets ``mfa`` plus the value the RFC has for Duo's factor, where it has one;
an allow without a live factor (a remembered device, an unenrolled user Duo let through)
gets none, and so never raises ``acr``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Final

from keycloak_duo_bridge.attributes import RememberMode

ACR_BASE: Final = "pwd"
ACR_DUO: Final = "mfa"
LOA_BASE: Final = 1
LOA_DUO: Final = 2
MFA: Final = "mfa"

# Duo's factor names (its authentication log, duo-protocol.md) -> RFC 8176 methods besides "mfa".
_FACTOR_METHODS: Final[Mapping[str, tuple[str, ...]]] = {
    "duo_push": ("swk",),  # approval with a key held by the Duo Mobile app
    "duo_mobile_passcode": ("otp",),
    "passcode": ("otp",),
    "bypass_code": ("otp",),
    "sms_passcode": ("sms", "otp"),
    "sms_refresh": ("sms", "otp"),
    "phone_call": ("tel",),
    "hardware_token": ("hwk", "otp"),
    "yubikey_passcode": ("hwk", "otp"),
    "digipass_go_7_token": ("hwk", "otp"),
    "u2f_token": ("hwk",),
}
# Allows with no second factor in this login: they count for nothing.
_NO_FACTOR: Final = frozenset(
    {"", "not_available", "remembered_device", "trusted_network", "trusted_location"}
)
_WEBAUTHN: Final = "webauthn"
#: The level-2 condition's max age for "once per session": the longest SSO session we expect.
SESSION_MAX_AGE: Final = 365 * 24 * 3600


def amr_for(factor: str) -> tuple[str, ...]:
    """The ``amr`` values a Duo allow with ``factor`` earns (empty: no second factor)."""
    name = factor.strip().lower()
    if name in _NO_FACTOR:
        return ()
    if name.startswith(_WEBAUTHN) or "security key" in name or "touch id" in name:
        return (MFA, "hwk")
    return (MFA, *_FACTOR_METHODS.get(name, ()))


def loa_map(existing: str | None) -> str:
    """The realm's ``acr.loa.map`` with our two levels, its other entries kept (JSON)."""
    try:
        found = json.loads(existing) if existing else {}
    except ValueError:
        found = {}
    merged = {
        k: v
        for k, v in (found if isinstance(found, dict) else {}).items()
        if k not in {ACR_BASE, ACR_DUO} and v not in {LOA_BASE, LOA_DUO}
    }
    merged |= {ACR_BASE: LOA_BASE, ACR_DUO: LOA_DUO}
    return json.dumps(merged, sort_keys=True, separators=(",", ":"))


def duo_level_max_age(remember: RememberMode | int) -> int:
    """Seconds a Duo pass keeps level 2 in a "step-up" realm, from its remember setting."""
    if isinstance(remember, int):
        return remember * 60
    return SESSION_MAX_AGE if remember is RememberMode.SESSION else 0
