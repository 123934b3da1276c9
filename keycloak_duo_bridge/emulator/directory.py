"""The REST APIs' own state: API credentials, child accounts, phones, push scripts and pushes.

It sits beside :class:`~keycloak_duo_bridge.emulator.state.EmulatorState` (as its ``rest``),
which keeps the users and the Web SDK integrations that the OIDC endpoints and the REST APIs
share.
"""

from __future__ import annotations

import secrets
import string
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import replace

from keycloak_duo_bridge.emulator.rest_model import (
    Account,
    ApiCredential,
    Phone,
    Push,
    PushScript,
)

__all__ = ["Directory", "new_key"]

_KEY_ALPHABET = string.ascii_uppercase + string.digits


def new_key(prefix: str) -> str:
    """A Duo-shaped identifier: ``prefix`` and 18 upper-case letters or digits."""
    return prefix + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(18))


class Directory:
    """Thread-safe store of what the Auth, Admin and Accounts APIs read and change."""

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._credentials: dict[str, ApiCredential] = {}
        self._accounts: dict[str, Account] = {}
        self._phones: dict[str, Phone] = {}
        self._scripts: dict[str, PushScript] = {}
        self._pushes: dict[str, Push] = {}

    # credentials ----------------------------------------------------------------------
    def put_credential(self, credential: ApiCredential) -> None:
        """Register (or replace) an API credential."""
        with self._lock:
            self._credentials[credential.ikey] = credential

    def credential(self, ikey: str) -> ApiCredential | None:
        """The API credential with this ikey, if any."""
        with self._lock:
            return self._credentials.get(ikey)

    def credentials(self) -> list[ApiCredential]:
        """Every API credential, in the order they were added."""
        with self._lock:
            return list(self._credentials.values())

    def remove_credential(self, ikey: str) -> bool:
        """Forget an API credential; whether it existed."""
        with self._lock:
            return self._credentials.pop(ikey, None) is not None

    # accounts -------------------------------------------------------------------------
    def add_account(self, name: str, parent_id: str, api_hostname: str) -> Account:
        """Create a child account of ``parent_id``."""
        account = Account(new_key("DA"), name, parent_id, api_hostname)
        with self._lock:
            self._accounts[account.account_id] = account
        return account

    def account(self, account_id: str) -> Account | None:
        """The child account with this id, if any."""
        with self._lock:
            return self._accounts.get(account_id)

    def children(self, parent_id: str) -> list[Account]:
        """The child accounts of ``parent_id``, oldest first."""
        with self._lock:
            return [a for a in self._accounts.values() if a.parent_id == parent_id]

    def remove_account(self, account_id: str) -> bool:
        """Delete a child account and the API credentials in it; whether it existed."""
        with self._lock:
            if self._accounts.pop(account_id, None) is None:
                return False
            self._credentials = {
                k: c for k, c in self._credentials.items() if c.account_id != account_id
            }
            return True

    # phones ---------------------------------------------------------------------------
    def add_phone(self, number: str, *, name: str, type_: str, platform: str) -> Phone:
        """Create a phone that belongs to nobody yet."""
        phone = Phone(new_key("DP"), number, name, type_, platform)
        with self._lock:
            self._phones[phone.phone_id] = phone
            return replace(phone, users=list(phone.users))

    def phone(self, phone_id: str) -> Phone | None:
        """A copy of the phone with this id, if any."""
        with self._lock:
            phone = self._phones.get(phone_id)
            return None if phone is None else replace(phone, users=list(phone.users))

    def phones(self) -> list[Phone]:
        """Copies of every phone, oldest first."""
        with self._lock:
            return [replace(p, users=list(p.users)) for p in self._phones.values()]

    def attach(self, phone_id: str, user_id: str) -> None:
        """Record that ``user_id`` owns the phone (nothing if it is unknown)."""
        with self._lock:
            phone = self._phones.get(phone_id)
            if phone is not None and user_id not in phone.users:
                phone.users.append(user_id)

    def detach_user(self, user_id: str) -> None:
        """Remove ``user_id`` from every phone (the user was deleted)."""
        with self._lock:
            for phone in self._phones.values():
                if user_id in phone.users:
                    phone.users.remove(user_id)

    def remove_phone(self, phone_id: str) -> Phone | None:
        """Delete a phone; the phone as it was, if it existed."""
        with self._lock:
            return self._phones.pop(phone_id, None)

    def count_sms_activation(self, phone_id: str) -> None:
        """Count one activation SMS sent to the phone."""
        with self._lock:
            phone = self._phones.get(phone_id)
            if phone is not None:
                phone.sms_activations += 1

    # pushes ---------------------------------------------------------------------------
    def script_push(self, username: str, script: PushScript) -> None:
        """How ``username``'s phone answers pushes from now on."""
        with self._lock:
            self._scripts[username.lower()] = script

    def push_script(self, username: str) -> PushScript | None:
        """The user's push script, if one was set."""
        with self._lock:
            return self._scripts.get(username.lower())

    def send_push(self, push: Push) -> Push:
        """Record a push sent; ``txid`` is filled in when empty."""
        if not push.txid:
            push = replace(push, txid=str(uuid.uuid4()))
        with self._lock:
            self._pushes[push.txid] = push
        return push

    def push(self, txid: str) -> Push | None:
        """The push with this transaction id, if any."""
        with self._lock:
            return self._pushes.get(txid)

    def pushes(self) -> list[Push]:
        """Every push sent, oldest first."""
        with self._lock:
            return list(self._pushes.values())
