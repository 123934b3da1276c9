"""The admin API's authentication on its own: token checks, and rights read from Keycloak."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.admin.tenants import Tenant
from keycloak_duo_bridge.api import auth
from keycloak_duo_bridge.attributes import TenantKind
from keycloak_duo_bridge.errors import KeycloakUnreachableError, NotFoundError
from tests.aio import run

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
JWK = {**json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(KEY.public_key())), "kid": "k"}
ISSUER = "https://kc.example/realms/acme"


async def keys(realm: str, kid: str | None) -> dict[str, Any]:
    if realm == "broken":
        raise KeycloakUnreachableError("Keycloak is unreachable")
    return {"keys": [JWK]}


def token(kid: str = "k", **changes: Any) -> str:
    """A token from realm acme, living an hour."""
    now = int(time.time())
    claims = {"iss": ISSUER, "sub": "u1", "typ": "Bearer", "iat": now, "exp": now + 3600}
    claims = {k: v for k, v in {**claims, **changes}.items() if v is not None}
    return jwt.encode(claims, KEY, algorithm="RS256", headers={"kid": kid})


def test_a_good_token_names_its_realm_and_subject() -> None:
    """A token signed by its realm's key gives the realm, issuer and subject; claims stay out
    of its repr."""
    verified = run(auth.authenticate(token(realm_access={"roles": ["admin"]}), keys))
    assert (verified.realm, verified.issuer, verified.subject) == ("acme", ISSUER, "u1")
    assert "admin" not in repr(verified)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: "x" * (auth.MAX_TOKEN_LENGTH + 1), "too large"),
        (lambda: "a.b", "not a JWT"),
        (lambda: token(iss="https://elsewhere.example/x"), "not a Keycloak token"),
        (
            lambda: token(iss="https://kc.example/realms/broken"),
            "no signing keys for realm 'broken'",
        ),
        (lambda: token(kid="other"), "signing key is unknown"),
        (lambda: token()[:-4] + "AAAA", "does not verify"),
        (lambda: token(exp=int(time.time()) - 60), "has expired"),
        (lambda: token(exp="soon"), "'exp' is missing or not a number"),
        (lambda: token(iat=None), "'iat' is missing or not a number"),
        (lambda: token(iat=True), "'iat' is missing or not a number"),
        (lambda: token(iat=int(time.time()) + 600), "issued in the future"),
        (lambda: token(nbf=int(time.time()) + 600), "not valid yet"),
        (lambda: token(sub=None), "names no user"),
        (lambda: token(sub="../users"), "names no user"),
        (lambda: token(typ="ID"), "only access tokens"),
    ],
    ids=[
        *("too-large", "not-jwt", "issuer", "no-keys", "kid", "signature", "expired"),
        *("exp-text", "no-iat", "iat-bool", "future", "nbf", "no-sub", "sub-path", "typ"),
    ],
)
def test_refused_tokens(make: Callable[[], str], message: str) -> None:
    """Each wrong token is an AuthenticationError that says what is wrong."""
    sent = make()  # minted now: at collection time, the time-bound ones went stale
    with pytest.raises(auth.AuthenticationError, match=message):
        run(auth.authenticate(sent, keys))


class Directory:
    """Keycloak's users and role mappings, in memory, counting the user reads."""

    def __init__(self, users: dict[str, dict[str, Any]]) -> None:
        self.users = users
        self.reads = 0

    def get_user(self, realm: str, user_id: str) -> dict[str, Any]:
        self.reads += 1
        if user_id not in self.users:
            raise NotFoundError(f"user in realm {realm!r} does not exist")
        return self.users[user_id]

    def get_effective_realm_roles(self, realm: str, user_id: str) -> list[str]:
        del realm
        return list(self.users[user_id].get("realm_roles", []))

    def get_effective_client_roles(self, realm: str, user_id: str, client_id: str) -> list[str]:
        del realm
        assert client_id == auth.REALM_MANAGEMENT
        return list(self.users[user_id].get("management", []))


def lookup(directory: Directory) -> auth.Caller:
    return auth.caller_from_keycloak(directory, "acme", "u1")  # type: ignore[arg-type]


def test_caller_is_read_from_keycloak() -> None:
    """Username and roles are Keycloak's; a user without a username is named by its id."""
    directory = Directory(
        {"u1": {"username": "ada", "enabled": True, "management": ["manage-realm"]}}
    )
    assert lookup(directory) == auth.Caller(
        "acme", "u1", "ada", frozenset(), manages_own_realm=True
    )
    directory.users["u1"] = {"enabled": True, "realm_roles": ["admin"]}
    assert lookup(directory) == auth.Caller(
        "acme", "u1", "u1", frozenset({"admin"}), manages_own_realm=False
    )


@pytest.mark.parametrize(
    ("users", "message"),
    [
        ({}, "no longer exists"),
        ({"u1": {"username": "ada", "enabled": False}}, "is disabled"),
        ({"u1": {"username": "ada"}}, "is disabled"),
    ],
)
def test_gone_or_disabled_users_are_refused(users: dict[str, Any], message: str) -> None:
    """A deleted or disabled user's still-valid token authenticates nobody."""
    with pytest.raises(auth.AuthenticationError, match=message):
        lookup(Directory(users))


def test_identities_are_kept_for_the_ttl_then_read_again() -> None:
    """An answer is reused until its TTL passes; the cache holds at most ``size`` callers."""
    directory = Directory({f"u{n}": {"username": f"n{n}", "enabled": True} for n in range(3)})
    now = [0.0]
    identities = auth.Identities(
        lambda realm, subject: auth.caller_from_keycloak(
            directory,  # type: ignore[arg-type]
            realm,
            subject,
        ),
        ttl=10,
        size=2,
        clock=lambda: now[0],
    )
    assert run(identities.caller("acme", "u0")).username == "n0"
    directory.users["u0"]["username"] = "renamed"
    now[0] = 9.9
    assert run(identities.caller("acme", "u0")).username == "n0"
    assert directory.reads == 1
    now[0] = 10.0
    assert run(identities.caller("acme", "u0")).username == "renamed"
    run(identities.caller("acme", "u1"))
    run(identities.caller("acme", "u2"))  # the oldest (u0) makes room
    reads = directory.reads
    run(identities.caller("acme", "u2"))
    run(identities.caller("acme", "u0"))
    assert directory.reads == reads + 1


def test_keycloak_adapter_reads_roles_by_the_management_client() -> None:
    """The adapter's role reads: none for an application the realm does not have."""

    class Admin:
        def change_current_realm(self, realm: str) -> None:
            del realm

        def get_client_id(self, client_id: str) -> str | None:
            return "mgmt-uuid" if client_id == "realm-management" else None

        def get_composite_client_roles_of_user(self, user_id: str, uuid: str) -> list[Any]:
            assert (user_id, uuid) == ("u1", "mgmt-uuid")
            return [{"name": "manage-realm"}]

        def get_composite_realm_roles_of_user(self, user_id: str) -> list[Any]:
            assert user_id == "u1"
            return [{"name": "admin"}]

        def get_user(self, user_id: str) -> dict[str, Any]:
            return {"id": user_id}

    keycloak = Keycloak(Admin(), url="https://kc.example", username="svc")  # type: ignore[arg-type]
    assert keycloak.get_effective_client_roles("acme", "u1", "realm-management") == ["manage-realm"]
    assert keycloak.get_effective_client_roles("master", "u1", "no-such-app") == []
    assert keycloak.get_effective_realm_roles("acme", "u1") == ["admin"]
    assert keycloak.get_user("acme", "u1") == {"id": "u1"}


def test_a_partner_admin_manages_only_clients_linked_from_both_sides() -> None:
    """A realm naming the partner is not enough: the partner's side must name it (its id)."""
    caller = auth.Caller("acme", "s", "pa", frozenset(), manages_own_realm=True)
    client = Tenant("globex", TenantKind.CLIENT, partner="acme", realm_id="g-id")
    link = {attr.TENANT_CLIENT_PREFIX + "globex": "g-id"}
    partner = Tenant("acme", TenantKind.PARTNER, attributes=link)
    assert auth.may_manage(caller, client, admin_realm="master", partner=partner)
    assert not auth.may_manage(caller, client, admin_realm="master")
    unlinked = Tenant("acme", TenantKind.PARTNER)
    assert not auth.may_manage(caller, client, admin_realm="master", partner=unlinked)
    other_id = Tenant("globex", TenantKind.CLIENT, partner="acme", realm_id="x")
    assert not auth.may_manage(caller, other_id, admin_realm="master", partner=partner)
