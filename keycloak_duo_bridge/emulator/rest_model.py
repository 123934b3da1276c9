"""The REST APIs' records: API credentials, accounts, phones, scripted and sent pushes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, get_args

__all__ = [
    "ADMIN_PERMISSIONS",
    "CONSOLE_NAMES",
    "GRANT_ALIASES",
    "MAIN_ACCOUNT_ID",
    "REFUSALS",
    "Account",
    "ApiCredential",
    "ApiKind",
    "Phone",
    "Push",
    "PushAnswer",
    "PushScript",
    "Refusal",
]

ApiKind = Literal["authapi", "adminapi", "accountsapi"]
PushAnswer = Literal["approve", "deny", "fraud", "timeout"]
# Duo's plan and feature gates: no Admin API on the plan; no Accounts API for the account;
# Admin API methods in child accounts that Duo enables only on request (refused there only)
Refusal = Literal["admin_api_not_in_plan", "accounts_api_not_enabled", "child_methods_on_request"]

API_KINDS: tuple[str, ...] = get_args(ApiKind)
PUSH_ANSWERS: tuple[str, ...] = get_args(PushAnswer)
REFUSALS: tuple[str, ...] = get_args(Refusal)

# The Admin API integration's permission flags, named as duo_client's create_integration
# sends them (Duo's console calls them "Grant read resource", "Grant applications", ...).
ADMIN_PERMISSIONS: tuple[str, ...] = (
    "adminapi_read_resource",
    "adminapi_write_resource",
    "adminapi_settings",
    "adminapi_integrations",
    "adminapi_admins",
    "adminapi_info",
    "adminapi_read_log",
)

# The Duo console's names for the Admin API permissions ("Grant read resource", ...), accepted
# beside the adminapi_* names that duo_client's create_integration sends.
GRANT_ALIASES = {
    "grant_read_resource": "adminapi_read_resource",
    "grant_write_resource": "adminapi_write_resource",
    "grant_settings": "adminapi_settings",
    "grant_applications": "adminapi_integrations",
    "grant_administrators": "adminapi_admins",
    "grant_read_information": "adminapi_info",
    "grant_read_log": "adminapi_read_log",
}
CONSOLE_NAMES = {flag: grant for grant, flag in GRANT_ALIASES.items()}

MAIN_ACCOUNT_ID = "DAEMULATORMAIN000000"  # the account every integration lives in by default


@dataclass(frozen=True)
class ApiCredential:
    """An Auth API, Admin API or Accounts API integration: its own ikey, skey and account."""

    ikey: str
    skey: str = field(repr=False)
    kind: ApiKind
    name: str
    account_id: str = MAIN_ACCOUNT_ID
    permissions: frozenset[str] = frozenset()
    refusal: Refusal | None = None
    enroll_policy: str = "enroll"

    def public(self) -> dict[str, Any]:
        """The control API's view: never the secret."""
        return {
            "ikey": self.ikey,
            "kind": self.kind,
            "name": self.name,
            "account_id": self.account_id,
            "permissions": sorted(self.permissions),
            "refusal": self.refusal,
        }


@dataclass(frozen=True)
class Account:
    """A child account made through the Accounts API."""

    account_id: str
    name: str
    parent_id: str
    api_hostname: str


@dataclass
class Phone:
    """A phone made through the Admin API, and the users it belongs to."""

    phone_id: str
    number: str
    name: str = ""
    type: str = "mobile"
    platform: str = "generic smartphone"
    users: list[str] = field(default_factory=list)  # user ids
    sms_activations: int = 0


@dataclass(frozen=True)
class PushScript:
    """How a user's phone answers the next pushes, after ``delay`` seconds."""

    answer: PushAnswer = "approve"
    delay: float = 0.0


@dataclass(frozen=True)
class Push:
    """A push the Auth API sent, with the text it carried and how it was (to be) answered."""

    txid: str
    username: str
    device: str
    sent_at: float
    answer: PushAnswer
    delay: float
    pushinfo: str = ""
    type: str = ""
    display_username: str = ""
    ipaddr: str = ""

    def public(self) -> dict[str, Any]:
        """The control API's view of a sent push."""
        return {
            "txid": self.txid,
            "username": self.username,
            "device": self.device,
            "sent_at": self.sent_at,
            "answer": self.answer,
            "delay": self.delay,
            "pushinfo": self.pushinfo,
            "type": self.type,
            "display_username": self.display_username,
            "ipaddr": self.ipaddr,
        }
