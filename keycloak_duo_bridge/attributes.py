"""Every Keycloak attribute this project reads or writes, under one prefix.

Keycloak is the single source of truth; the bridge has no database. The Java extension reads
the same names (``keycloak_extension/.../Attributes.java``: every constant there is one here,
by the same name and value, as ``tests/test_shared_names.py`` checks). ``docs/attributes.md``
lists them for administrators.

Realm attributes are replaced wholesale by Keycloak on PUT, so writers must read, merge and
write the whole representation (see :mod:`keycloak_duo_bridge.admin`).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

PREFIX: Final = "kdb."

# -- realm attributes --------------------------------------------------------------------
TENANT_KIND: Final = "kdb.tenant.kind"  # "partner" | "client"
TENANT_PARTNER: Final = "kdb.tenant.partner"  # client realms: the partner realm's name
# Partner realms: one attribute per linked client realm, ``kdb.tenant.client.<name>``, whose
# value is that realm's id. Written only by the admin service; a client realm inherits from
# its partner only when the partner's side names it (see admin/effective.py, the link rule).
TENANT_CLIENT_PREFIX: Final = "kdb.tenant.client."
DUO_ENABLED: Final = "kdb.duo.enabled"  # "true" | "false"
DUO_IKEY: Final = "kdb.duo.ikey"  # plain
DUO_API_HOST: Final = "kdb.duo.api_host"  # plain, hostname[:port]
DUO_SKEY: Final = "kdb.duo.skey"  # envelope ciphertext, never plaintext
DUO_USER_MODE: Final = "kdb.duo.user_mode"  # "required" | "opt-in"
DUO_FAIL_MODE: Final = "kdb.duo.fail_mode"  # "closed" | "open"
DUO_BYPASS_GROUPS: Final = "kdb.duo.bypass_groups"  # JSON list of group paths
DUO_REMEMBER: Final = "kdb.duo.remember"  # "session" | "every-login" | minutes as digits
DUO_SELF_DEACTIVATE: Final = "kdb.duo.self_deactivate"  # "true": users may deactivate Duo
# What users may do with their phones at /account/duo (see SelfPhones); realm admins set it
DUO_SELF_PHONES: Final = "kdb.duo.self_phones"
DUO_APPS: Final = "kdb.duo.apps"  # JSON object: clientId -> "required" | "off" (per application)
DUO_USERNAME: Final = "kdb.duo.username"  # how a user is named to Duo (see UsernameMapping)
# How a brokered user (one linked to an identity provider) is named to Duo: see BrokeredUsername
DUO_BROKERED_USERNAME: Final = "kdb.duo.brokered_username"
# Whether a brokered user Duo does not know yet may enrol at login: see BrokeredEnrollment
DUO_BROKERED_ENROLLMENT: Final = "kdb.duo.brokered_enrollment"
# JSON object: identity-provider alias -> its Duo policy (see IdpMode), the realm's own
DUO_IDPS: Final = "kdb.duo.idps"
DUO_ASSURANCE: Final = "kdb.duo.assurance"  # "enforce" | "step-up" (the realm's own, see Assurance)
# Duo's separate "Auth API" application, for Duo Push without a browser (CIBA, issue #16)
AUTH_API_IKEY: Final = "kdb.duo.authapi.ikey"  # plain
AUTH_API_HOST: Final = "kdb.duo.authapi.api_host"  # plain, hostname[:port]
AUTH_API_SKEY: Final = "kdb.duo.authapi.skey"  # envelope ciphertext, never plaintext
# Partner realms: the partner's Duo admin link (issue 17), Admin API or Accounts API
# credentials the admin service provisions clients with. Never inherited by client realms.
DUO_ADMIN_IKEY: Final = "kdb.duo.admin.ikey"  # plain
DUO_ADMIN_API_HOST: Final = "kdb.duo.admin.api_host"  # plain, hostname[:port]
DUO_ADMIN_SKEY: Final = "kdb.duo.admin.skey"  # envelope ciphertext, bound to the realm
DUO_ADMIN_API: Final = "kdb.duo.admin.api"  # "admin" | "accounts" (a provider's parent)
# Client realms: what `client create --duo-provision` made in Duo, so a re-run finds it.
DUO_PROVISIONED_IKEY: Final = "kdb.duo.provisioned.ikey"  # the Web SDK application's ikey
DUO_PROVISIONED_ACCOUNT: Final = "kdb.duo.provisioned.account"  # the child account's id
# ... and its Auth API application (made when the realm has a CIBA client), by ikey
DUO_PROVISIONED_AUTH_API: Final = "kdb.duo.provisioned.authapi"
# The record a client realm or client organization keeps of what provisioning made
PROVISIONED_NAMES: Final = (DUO_PROVISIONED_IKEY, DUO_PROVISIONED_ACCOUNT, DUO_PROVISIONED_AUTH_API)
# Client realms, after `duo rotate`: the replaced application, still accepted for the
# callback of a login started with it until ``until`` (epoch seconds), then deleted.
DUO_RETIRING_IKEY: Final = "kdb.duo.retiring.ikey"  # plain
DUO_RETIRING_API_HOST: Final = "kdb.duo.retiring.api_host"  # plain
DUO_RETIRING_SKEY: Final = "kdb.duo.retiring.skey"  # envelope ciphertext, bound to the realm
DUO_RETIRING_UNTIL: Final = "kdb.duo.retiring.until"  # epoch seconds, digits
BRIDGE_URL: Final = "kdb.bridge.url"  # the bridge's public base URL
BRIDGE_JWKS: Final = "kdb.bridge.jwks"  # JSON Web Key Set: public keys only
# What the extension reads: the settings resolved by Python (admin/record.py), as JSON, bound
# to a fingerprint of the attributes they were resolved from. Java parses nothing else.
RESOLVED: Final = "kdb.resolved"

# -- client (application) attributes -----------------------------------------------------
# No longer read: an application's mode lives in the realm attribute kdb.duo.apps, which only
# realm administrators can write. Client registration refuses kdb.* client attributes.
LEGACY_APP_MODE: Final = "kdb.duo.mode"

# -- user attributes (declared in the realm's user profile) -------------------------------
USER_ACTIVATED: Final = "kdb.duo.activated"  # "true" once the user activated Duo (opt-in)

# -- user-session notes written by the extension ----------------------------------------
NOTE_TIME: Final = "kdb.duo.time"
NOTE_RESULT: Final = "kdb.duo.result"
NOTE_FACTOR: Final = "kdb.duo.factor"
NOTE_TXID: Final = "kdb.duo.txid"
NOTE_REASON: Final = "kdb.duo.reason"
NOTE_AMR: Final = "kdb.duo.amr"  # RFC 8176 methods of the last pass, space-separated
NOTE_IDP: Final = "kdb.duo.idp"  # an "upstream" pass: the identity provider whose MFA counted
NOTE_PROOF: Final = "kdb.duo.proof"  # an "upstream" pass: what proved it (amr:mfa, acr:..)
NOTE_ORGANIZATION: Final = "kdb.duo.org"  # the client organization whose Duo the pass used
SESSION_NOTES: Final = (
    NOTE_RESULT,
    NOTE_TIME,
    NOTE_FACTOR,
    NOTE_TXID,
    NOTE_REASON,
    NOTE_AMR,
    NOTE_IDP,
    NOTE_PROOF,
)

# -- authentication-session notes, the extension's own (named here so nothing else takes them)
AUTH_NONCE: Final = "kdb.duo.nonce"  # the pending step-up's nonce, single use
AUTH_DONE: Final = "kdb.duo.done"  # the loop guard once the step-up is done
AUTH_ORGANIZATION: Final = "kdb.duo.selected_org"  # an SSO session's organization, copied

# -- Keycloak objects that "duo enable" adds to a realm (and "duo disable" removes) -------
REQUIRED_ACTION: Final = "duo-step-up"  # the extension's required action provider id
REQUIRED_ACTION_NAME: Final = "Duo two-factor step-up"
CLIENT_SCOPE: Final = "kdb-duo"  # holds the mappers that put the session notes into tokens
AUTHENTICATOR: Final = "duo-step-up-authenticator"  # the extension's authenticator provider id
ASSURANCE_MAPPER: Final = "kdb-assurance-mapper"  # the extension's acr/amr protocol mapper
CIBA_MAPPER: Final = "kdb-ciba-outcome-mapper"  # the extension's: a CIBA login's Duo outcome
STEP_UP_FLOW: Final = "kdb-step-up-browser"  # the browser flow "step-up" binds (its alias)
# Keycloak's own realm attribute: acr value -> level of authentication (JSON object).
ACR_LOA_MAP: Final = "acr.loa.map"
# Tokens carry {"duo": {"result": ..., "time": ..., ...}}.
TOKEN_CLAIM: Final = "duo"  # noqa: S105 - a claim name, not a password


class TenantKind(StrEnum):
    PARTNER = "partner"
    CLIENT = "client"


class UserMode(StrEnum):
    REQUIRED = "required"
    OPT_IN = "opt-in"


class SelfPhones(StrEnum):
    """What users may do with their phones at ``/account/duo`` (``kdb.duo.self_phones``)."""

    OFF = "off"  # nothing: the helpdesk registers phones (`user phone add`)
    ADD = "add"  # register a mobile number
    MANAGE = "manage"  # register, and remove their own phones

    @property
    def may_add(self) -> bool:
        return self is not SelfPhones.OFF

    @property
    def may_remove(self) -> bool:
        return self is SelfPhones.MANAGE


class FailMode(StrEnum):
    CLOSED = "closed"
    OPEN = "open"


class RememberMode(StrEnum):
    SESSION = "session"  # once per SSO session
    EVERY_LOGIN = "every-login"
    # or a number of minutes, stored as digits


class UsernameMapping(StrEnum):
    """How a Keycloak user is named to Duo."""

    USERNAME = "username"  # the Keycloak username (default with the realm's own credentials)
    REALM_QUALIFIED = "realm-qualified"  # "<realm>:<username>" (default when inherited)
    EMAIL = "email"  # the user's verified email


class BrokeredUsername(StrEnum):
    """How a user whose account came from an identity provider is named to Duo."""

    # ``idp:<alias>:<subject>``: the IdP's own subject, never what the user typed at first
    # login (a user with a password of the realm keeps the account's name)
    IDP_SUBJECT = "idp-subject"
    ACCOUNT = "account"  # the account's name under the realm's mapping, like local users


class BrokeredEnrollment(StrEnum):
    """Whether a user an identity provider made may enrol with Duo at a login."""

    ALLOW = "allow"  # Duo's own new-user policy decides (the default)
    # Duo must know them already (Auth API preauth); an unknown one is denied, not enrolled
    KNOWN_ONLY = "known-only"


class Assurance(StrEnum):
    """Where Duo runs in a realm's logins, and how applications ask for it."""

    ENFORCE = "enforce"  # the required action: every login to an app that requires Duo
    STEP_UP = "step-up"  # the flow's authenticator: where a level of authentication asks


class IdpMode(StrEnum):
    """Whether a login through an identity provider passes Duo (``kdb.duo.idps``)."""

    DUO = "duo"  # always (the default)
    TRUST_UPSTREAM_MFA = "trust-upstream-mfa"  # not when the IdP's token proves its own MFA
    OFF = "off"  # never: only with an explicit confirmation, and flagged by explain


class AppMode(StrEnum):
    INHERIT = "inherit"
    REQUIRED = "required"
    OFF = "off"


REALM_ATTRIBUTES: Final = (
    TENANT_KIND,
    TENANT_PARTNER,
    DUO_ENABLED,
    DUO_IKEY,
    DUO_API_HOST,
    DUO_SKEY,
    DUO_USER_MODE,
    DUO_FAIL_MODE,
    DUO_BYPASS_GROUPS,
    DUO_REMEMBER,
    DUO_SELF_DEACTIVATE,
    DUO_SELF_PHONES,
    DUO_APPS,
    DUO_USERNAME,
    DUO_BROKERED_USERNAME,
    DUO_BROKERED_ENROLLMENT,
    DUO_IDPS,
    DUO_ASSURANCE,
    AUTH_API_IKEY,
    AUTH_API_HOST,
    AUTH_API_SKEY,
    DUO_ADMIN_IKEY,
    DUO_ADMIN_API_HOST,
    DUO_ADMIN_SKEY,
    DUO_ADMIN_API,
    DUO_PROVISIONED_IKEY,
    DUO_PROVISIONED_ACCOUNT,
    DUO_PROVISIONED_AUTH_API,
    DUO_RETIRING_IKEY,
    DUO_RETIRING_API_HOST,
    DUO_RETIRING_SKEY,
    DUO_RETIRING_UNTIL,
    BRIDGE_URL,
    BRIDGE_JWKS,
    RESOLVED,
)
