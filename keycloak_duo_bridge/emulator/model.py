"""The emulator's records: integrations, users, faults, prompt transactions, codes, events."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from keycloak_duo_bridge.emulator.rest_model import MAIN_ACCOUNT_ID

__all__ = [
    "AuthResult",
    "Behavior",
    "Event",
    "FaultMode",
    "Faults",
    "Grant",
    "Integration",
    "NewUserPolicy",
    "Step",
    "Transaction",
    "User",
]

NewUserPolicy = Literal["enroll", "allow", "deny"]
Behavior = Literal["prompt", "allow", "deny", "timeout"]
FaultMode = Literal["ok", "fail", "error_500", "timeout"]
Step = Literal["enroll", "choose", "pushed", "denied"]

NEW_USER_POLICIES: tuple[str, ...] = get_args(NewUserPolicy)
BEHAVIORS: tuple[str, ...] = get_args(Behavior)
FAULT_MODES: tuple[str, ...] = get_args(FaultMode)


@dataclass(frozen=True)
class Integration:
    """A Duo "Web SDK" application: client id (ikey), secret (skey) and new-user policy."""

    client_id: str
    client_secret: str = field(repr=False)
    new_user_policy: NewUserPolicy = "enroll"
    name: str = "Web SDK"
    account_id: str = MAIN_ACCOUNT_ID  # a child account's, when made there via the Admin API

    def public(self) -> dict[str, str]:
        """What the control API shows: never the secret."""
        return {
            "client_id": self.client_id,
            "new_user_policy": self.new_user_policy,
            "name": self.name,
        }


@dataclass
class User:
    """A Duo user: how the stand-in phone answers, and the phone if enrolled."""

    username: str
    key: str
    behavior: Behavior = "prompt"
    enrolled: bool = False
    phone: str | None = None
    passcode: str = ""
    device_key: str = ""

    def public(self) -> dict[str, Any]:
        """The control API's view, including the current passcode."""
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Faults:
    """Injected trouble for the server-to-server endpoints."""

    health: FaultMode = "ok"
    token: FaultMode = "ok"  # noqa: S105 - the token endpoint's fault, not a secret
    latency_ms: int = 0


@dataclass(frozen=True)
class AuthResult:
    """What Duo decided for one authentication, as the id_token will tell it."""

    allowed: bool
    factor: str
    reason: str
    status_msg: str
    event_type: str = "authentication"


@dataclass
class Transaction:
    """One authorization request while its prompt is open."""

    txn_id: str
    client_id: str
    redirect_uri: str
    state: str
    nonce: str | None
    username: str
    use_duo_code: bool
    created: float
    access_ip: str
    user_agent: str
    step: Step = "choose"
    message: str = ""
    outcome: AuthResult | None = None


@dataclass(frozen=True)
class Grant:
    """An authorization code and what it will be exchanged for."""

    code: str = field(repr=False)
    client_id: str
    redirect_uri: str
    username: str
    nonce: str | None
    issued_at: float
    outcome: AuthResult
    txid: str
    access_ip: str
    user_agent: str


@dataclass(frozen=True)
class Event:
    """One protocol call, its outcome and the TCP (TLS) connection it came on."""

    seq: int
    time: float
    kind: str
    outcome: str
    client_id: str | None
    username: str | None
    detail: str
    connection: tuple[str, int] | None

    def public(self) -> dict[str, Any]:
        """The events list's JSON shape."""
        data = dataclasses.asdict(self)
        conn = self.connection
        data["connection"] = None if conn is None else {"host": conn[0], "port": conn[1]}
        return data
