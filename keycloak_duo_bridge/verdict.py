"""The names a verdict carries: its result, and the reasons the bridge gives.

The Java extension matches them in a ``switch`` (``keycloak_extension/.../VerdictNames.java``
holds the same names, and ``tests/test_shared_names.py`` compares the two). A deny may also
carry a reason from Duo itself (``duo_<status>``, or Duo's ``error``), which no side matches.
"""

from __future__ import annotations

from enum import StrEnum


class Result(StrEnum):
    """What Keycloak does with the login."""

    ALLOW = "allow"  # Duo approved
    SKIP = "skip"  # the policy asks no Duo of this login
    BYPASS = "bypass"  # Duo is down and the realm fails open (the extension checks it too)
    DENY = "deny"  # Duo, or the user, said no
    ERROR = "error"  # nothing could be decided; the extension refuses
    # the identity provider proved its own MFA and the realm trusts it for that IdP (the
    # extension checks the realm's record lists the login's IdP as trusted)
    UPSTREAM = "upstream"


class Reason(StrEnum):
    """Why, in the bridge's own words."""

    USER_APPROVED = "user_approved"  # an allow whose Duo answer names no reason
    BYPASS_GROUP = "bypass_group"  # skip: the user is in a bypass group
    NOT_ACTIVATED = "not_activated"  # skip: opt-in realm, user not activated
    APP_OFF = "app_off"  # skip: the application is off
    IDP_OFF = "idp_off"  # skip: the identity provider of this login is off (confirmed)
    UPSTREAM_MFA = "upstream_mfa"  # upstream: the IdP's token proved its MFA
    REALM_OFF = "realm_off"  # skip: Duo is off in the realm
    DUO_UNAVAILABLE = "duo_unavailable"  # bypass or error: Duo did not answer
    SETTINGS_UNAVAILABLE = "settings_unavailable"  # error: Keycloak did not give the settings
    DUO_CONFIG = "duo_config"  # error: the realm's Duo settings are unusable
    DUO_PROTOCOL = "duo_protocol"  # error: Duo's answer did not verify
    NOT_ENROLLED = "not_enrolled"  # deny: a brokered user Duo does not know (known-only)
