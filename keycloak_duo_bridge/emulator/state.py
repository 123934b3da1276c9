"""The emulator's in-memory state, safe to share between the server thread and its owner."""

from __future__ import annotations

import secrets
import string
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from keycloak_duo_bridge.emulator.assertions import AuthorizationRequest, ClientAssertion
from keycloak_duo_bridge.emulator.directory import Directory
from keycloak_duo_bridge.emulator.errors import InvalidClientError, InvalidGrantError
from keycloak_duo_bridge.emulator.model import (
    AuthResult,
    Behavior,
    Event,
    Faults,
    Grant,
    Integration,
    Step,
    Transaction,
    User,
)

__all__ = ["CODE_LIFETIME", "TRANSACTION_LIFETIME", "EmulatorState"]

CODE_LIFETIME = 60  # seconds a code stays exchangeable (Duo's real value is not documented)
TRANSACTION_LIFETIME = 600  # seconds a prompt stays usable (not documented either)
_KEY_ALPHABET = string.ascii_uppercase + string.digits


def _key(prefix: str) -> str:
    return prefix + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(18))


def _passcode() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


class EmulatorState:
    """Integrations, users, faults, open prompts, codes, seen ``jti`` values and events."""

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._integrations: dict[str, Integration] = {}
        self._users: dict[str, User] = {}
        self._faults = Faults()
        self._jtis: dict[tuple[str, str], float] = {}
        self._transactions: dict[str, Transaction] = {}
        self._finished: dict[str, float] = {}  # prompt id: when it ended, for a later Back
        self._grants: dict[str, Grant] = {}
        self._events: list[Event] = []
        self.rest = Directory(clock=clock)  # the REST APIs' credentials, accounts, phones, pushes

    # integrations ---------------------------------------------------------------------
    def add_integration(self, integration: Integration) -> None:
        """Register (or replace) an integration."""
        with self._lock:
            self._integrations[integration.client_id] = integration

    def integration(self, client_id: str) -> Integration | None:
        """The integration with this client id, if any."""
        with self._lock:
            return self._integrations.get(client_id)

    def integrations(self) -> list[Integration]:
        """Every integration, in the order they were added."""
        with self._lock:
            return list(self._integrations.values())

    def remove_integration(self, client_id: str) -> bool:
        """Forget an integration; whether it existed."""
        with self._lock:
            return self._integrations.pop(client_id, None) is not None

    # users ----------------------------------------------------------------------------
    def put_user(
        self, username: str, *, behavior: Behavior, enrolled: bool, phone: str | None
    ) -> User:
        """Create or update a user; keys and passcode survive updates."""
        with self._lock:
            old = self._users.get(username.lower())
            user = User(
                username=username,
                key=old.key if old else _key("DU"),
                behavior=behavior,
                enrolled=enrolled,
                phone=phone,
                passcode=old.passcode if old else _passcode(),
                device_key=old.device_key if old else _key("DP"),
            )
            self._users[username.lower()] = user
            return replace(user)

    def user(self, username: str) -> User | None:
        """A copy of the user, looked up case-insensitively as Duo does."""
        with self._lock:
            user = self._users.get(username.lower())
            return None if user is None else replace(user)

    def users(self) -> list[User]:
        """Copies of every user, in the order they were created."""
        with self._lock:
            return [replace(user) for user in self._users.values()]

    def user_by_key(self, key: str) -> User | None:
        """A copy of the user with this Duo user id (``DU...``)."""
        with self._lock:
            found = [u for u in self._users.values() if u.key == key]
            return replace(found[0]) if found else None

    def delete_user(self, key: str) -> bool:
        """Forget the user with this Duo user id; whether one existed."""
        with self._lock:
            for name, user in list(self._users.items()):
                if user.key == key:
                    del self._users[name]
                    return True
            return False

    def set_device(self, key: str, phone: str | None, device_key: str | None) -> User | None:
        """Give the user with this id ``phone`` as its device (``None``: remove it)."""
        with self._lock:
            found = [u for u in self._users.values() if u.key == key]
            if not found:
                return None
            user = found[0]
            user.phone = phone
            user.enrolled = phone is not None
            if device_key is not None:
                user.device_key = device_key
            return replace(user)

    def enroll(self, username: str, phone: str) -> User:
        """Register ``phone`` for ``username`` (creating the user), as the prompt's wizard does."""
        with self._lock:
            user = self._users.get(username.lower())
            if user is None:
                user = User(username, _key("DU"), passcode=_passcode(), device_key=_key("DP"))
                self._users[username.lower()] = user
            user.enrolled = True
            user.phone = phone
            return replace(user)

    def use_passcode(self, username: str, passcode: str) -> bool:
        """Whether ``passcode`` is the user's current one; a used passcode is replaced."""
        with self._lock:
            user = self._users.get(username.lower())
            if user is None or not secrets.compare_digest(user.passcode, passcode):
                return False
            user.passcode = _passcode()
            return True

    # faults ---------------------------------------------------------------------------
    @property
    def faults(self) -> Faults:
        """The faults currently injected."""
        with self._lock:
            return self._faults

    @faults.setter
    def faults(self, faults: Faults) -> None:
        with self._lock:
            self._faults = faults

    # client assertions ----------------------------------------------------------------
    def consume_jti(self, assertion: ClientAssertion) -> None:
        """Remember an assertion's ``jti`` until it expires; raise on a replay."""
        now = self.clock()
        with self._lock:
            self._jtis = {k: exp for k, exp in self._jtis.items() if exp > now - 120}
            key = (assertion.client_id, assertion.jti)
            if key in self._jtis:
                raise InvalidClientError("client_assertion jti was already used")
            self._jtis[key] = assertion.exp

    # prompts --------------------------------------------------------------------------
    def open_transaction(
        self, request: AuthorizationRequest, *, access_ip: str, user_agent: str, step: Step
    ) -> Transaction:
        """Start a prompt for an authorization request."""
        txn = Transaction(
            txn_id=secrets.token_urlsafe(24),
            client_id=request.client_id,
            redirect_uri=request.redirect_uri,
            state=request.state,
            nonce=request.nonce,
            username=request.username,
            use_duo_code=request.use_duo_code,
            created=self.clock(),
            access_ip=access_ip,
            user_agent=user_agent,
            step=step,
        )
        with self._lock:
            self._transactions[txn.txn_id] = txn
        return txn

    def transaction(self, txn_id: str) -> Transaction | None:
        """The open prompt with this id, unless it has expired or finished."""
        with self._lock:
            txn = self._transactions.get(txn_id)
            if txn is None or txn.created + TRANSACTION_LIFETIME < self.clock():
                self._transactions.pop(txn_id, None)
                return None
            return txn

    # codes ----------------------------------------------------------------------------
    def issue_code(self, txn: Transaction, outcome: AuthResult) -> str:
        """Finish a prompt with ``outcome``: a single-use code for the client to exchange."""
        code = secrets.token_hex(16)
        grant = Grant(
            code=code,
            client_id=txn.client_id,
            redirect_uri=txn.redirect_uri,
            username=txn.username,
            nonce=txn.nonce,
            issued_at=self.clock(),
            outcome=outcome,
            txid=str(uuid.uuid4()),
            access_ip=txn.access_ip,
            user_agent=txn.user_agent,
        )
        with self._lock:
            self._grants[code] = grant
            self._transactions.pop(txn.txn_id, None)
            now = self.clock()
            self._finished = {
                k: t for k, t in self._finished.items() if t + TRANSACTION_LIFETIME >= now
            }
            self._finished[txn.txn_id] = now
        return code

    def finished(self, txn_id: str) -> bool:
        """Whether this prompt ended lately (the browser went Back to it)."""
        with self._lock:
            ended = self._finished.get(txn_id)
            return ended is not None and ended + TRANSACTION_LIFETIME >= self.clock()

    def redeem(self, code: str, *, client_id: str, redirect_uri: str | None) -> Grant:
        """Exchange a code once; any attempt uses it up. Raise :class:`InvalidGrantError`."""
        now = self.clock()
        with self._lock:
            grant = self._grants.pop(code, None)
        if grant is None:
            raise InvalidGrantError("the code is unknown or was already used")
        if grant.issued_at + CODE_LIFETIME < now:
            raise InvalidGrantError("the code has expired")
        if grant.client_id != client_id:
            raise InvalidGrantError("the code was issued to another client")
        if grant.redirect_uri != redirect_uri:
            raise InvalidGrantError("redirect_uri differs from the authorization request's")
        return grant

    # events ---------------------------------------------------------------------------
    def record(
        self,
        kind: str,
        outcome: str,
        *,
        client_id: str | None = None,
        username: str | None = None,
        detail: str = "",
        connection: tuple[str, int] | None = None,
    ) -> Event:
        """Append an event to the list."""
        with self._lock:
            event = Event(
                seq=len(self._events) + 1,
                time=self.clock(),
                kind=kind,
                outcome=outcome,
                client_id=client_id,
                username=username,
                detail=detail,
                connection=connection,
            )
            self._events.append(event)
            return event

    def events(self) -> list[dict[str, Any]]:
        """Every event so far, oldest first."""
        with self._lock:
            return [event.public() for event in self._events]
