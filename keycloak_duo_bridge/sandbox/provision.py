"""Sandbox-only provisioning: demo applications and users, through python-keycloak.

Production tenants are made by the admin service (:mod:`keycloak_duo_bridge.admin`); the
sandbox also needs an OIDC application and users with passwords to log in with.
"""

from __future__ import annotations

from typing import Any

import httpx2
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from keycloak import KeycloakAdmin
from keycloak.exceptions import KeycloakError as PythonKeycloakError

from keycloak_duo_bridge.errors import KeycloakError
from keycloak_duo_bridge.settings import Settings


def _admin(settings: Settings, realm: str) -> KeycloakAdmin:
    return KeycloakAdmin(
        server_url=settings.keycloak_url,
        username=settings.keycloak_admin_username,
        password=settings.keycloak_admin_password.get_secret_value(),
        realm_name=realm,
        user_realm_name=settings.keycloak_admin_realm,
    )


def ensure_app(
    settings: Settings,
    realm: str,
    client_id: str,
    redirect_uri: str,
    *,
    post_logout_redirect_uri: str | None = None,
) -> None:
    """A public OIDC application with the code flow (and direct grants, to prove they fail).

    An existing one is brought to ``redirect_uri`` (and ``post_logout_redirect_uri``, where
    Keycloak may send the browser after sign-out), since the demo's port may change.
    """
    attributes = (
        {}
        if post_logout_redirect_uri is None
        else {"post.logout.redirect.uris": post_logout_redirect_uri}
    )
    try:
        admin = _admin(settings, realm)
        uuid = admin.get_client_id(client_id)
        if uuid is None:
            admin.create_client(
                {
                    "clientId": client_id,
                    "publicClient": True,
                    "standardFlowEnabled": True,
                    "directAccessGrantsEnabled": True,
                    "redirectUris": [redirect_uri],
                    "webOrigins": ["+"],
                    "attributes": attributes,
                }
            )
            return
        client = admin.get_client(uuid)
        known = client.get("attributes") or {}
        if client.get("redirectUris") != [redirect_uri] or any(
            known.get(k) != v for k, v in attributes.items()
        ):  # the app moved port
            update = {"redirectUris": [redirect_uri], "attributes": {**known, **attributes}}
            admin.update_client(uuid, update)
    except PythonKeycloakError as exc:
        raise KeycloakError(f"could not create application {client_id!r} in {realm!r}") from exc


def ensure_user(settings: Settings, realm: str, username: str, password: str) -> str:
    """A user with a password and a verified e-mail; returns its id."""
    try:
        admin = _admin(settings, realm)
        user_id = admin.get_user_id(username)
        if user_id is None:
            user_id = admin.create_user(
                {
                    "username": username,
                    "email": f"{username}@example.com",
                    "emailVerified": True,
                    "firstName": username.capitalize(),
                    "lastName": "Example",
                    "enabled": True,
                    "credentials": [{"type": "password", "value": password, "temporary": False}],
                }
            )
    except PythonKeycloakError as exc:
        raise KeycloakError(f"could not create user {username!r} in {realm!r}") from exc
    return str(user_id)


def ensure_realm_admin(settings: Settings, realm: str, username: str, password: str) -> str:
    """A user of ``realm`` who administers it: realm-management's ``manage-realm`` role."""
    user_id = ensure_user(settings, realm, username, password)
    try:
        admin = _admin(settings, realm)
        management = admin.get_client_id("realm-management")
        role = admin.get_client_role(str(management), "manage-realm")
        admin.assign_client_role(user_id, str(management), [role])
    except PythonKeycloakError as exc:
        raise KeycloakError(f"could not make {username!r} an admin of {realm!r}") from exc
    return user_id


def import_rsa_key(settings: Settings, realm: str, name: str) -> tuple[rsa.RSAPrivateKey, str]:
    """Make an RSA key the caller knows ``realm``'s active signing key; return it and its kid.

    Benchmarks and tests sign request tokens as the realm's extension would, without a browser.
    """
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    try:
        admin = _admin(settings, realm)
        admin.create_component(
            {
                "name": name,
                "providerId": "rsa",
                "providerType": "org.keycloak.keys.KeyProvider",
                "parentId": admin.get_realm(realm)["id"],
                "config": {
                    "priority": ["1000"],
                    "enabled": ["true"],
                    "active": ["true"],
                    "algorithm": ["RS256"],
                    "privateKey": [pem],
                },
            }
        )
    except PythonKeycloakError as exc:
        raise KeycloakError(f"could not import a signing key into {realm!r}") from exc
    certs = httpx2.get(f"{settings.keycloak_url}/realms/{realm}/protocol/openid-connect/certs")
    n = jwt.utils.to_base64url_uint(private.public_key().public_numbers().n).decode()
    for jwk in certs.json()["keys"]:
        if jwk.get("n") == n:
            return private, str(jwk["kid"])
    raise KeycloakError(f"realm {realm!r} does not publish the imported key")


BRIDGE_READER = "kdb-bridge-reader"
"""The bridge's own service-account client in the admin realm (least privilege)."""


def ensure_bridge_reader(settings: Settings, realms: list[str]) -> tuple[str, str]:
    """The bridge's service account: a confidential client in the admin realm whose service
    account holds only ``view-realm`` of each realm's ``<realm>-realm`` client there (what
    the login path's realm reads need). Returns its client id and secret."""
    try:
        admin = _admin(settings, settings.keycloak_admin_realm)
        uuid = admin.get_client_id(BRIDGE_READER)
        if uuid is None:
            uuid = admin.create_client(
                {
                    "clientId": BRIDGE_READER,
                    "publicClient": False,
                    "serviceAccountsEnabled": True,
                    "standardFlowEnabled": False,
                    "directAccessGrantsEnabled": False,
                    "description": "keycloak-duo-bridge: reads tenant realms on the login path",
                }
            )
        account = admin.get_client_service_account_user(uuid)["id"]
        for realm in realms:
            realm_client = admin.get_client_id(f"{realm}-realm")
            if realm_client is None:
                raise KeycloakError(
                    f"realm {realm!r} has no {realm}-realm client in the admin realm"
                )
            role = admin.get_client_role(realm_client, "view-realm")
            admin.assign_client_role(account, realm_client, [role])
        secret = str(admin.get_client_secrets(uuid)["value"])
    except PythonKeycloakError as exc:
        raise KeycloakError(
            f"could not provision the bridge's service account {BRIDGE_READER!r}"
        ) from exc
    return BRIDGE_READER, secret


def ensure_partner_idp(
    settings: Settings,
    *,
    idp_realm: str,
    client_realm: str,
    alias: str,
    username: str,
    password: str,
    secret: str,
) -> str:
    """A realm acting as a partner's own identity provider, with one user, brokered into
    ``client_realm`` over OIDC as identity provider ``alias`` (signature checked against the
    partner realm's JWKS). Idempotent; returns the user's id in the partner realm (the
    subject the broker links)."""
    issuer = f"{settings.keycloak_url}/realms/{idp_realm}"
    endpoint = f"{settings.keycloak_url}/realms/{client_realm}/broker/{alias}/endpoint"
    try:
        master = _admin(settings, settings.keycloak_admin_realm)
        if all(realm.get("realm") != idp_realm for realm in master.get_realms()):
            master.create_realm({"realm": idp_realm, "enabled": True})
        partner = _admin(settings, idp_realm)
        broker_id = f"{client_realm}-broker"
        broker = {
            "clientId": broker_id,
            "protocol": "openid-connect",
            "publicClient": False,
            "secret": secret,
            "standardFlowEnabled": True,
            "redirectUris": [endpoint],
        }
        found = partner.get_client_id(broker_id)
        if found is None:
            partner.create_client(broker)
        else:  # the sandbox's port may have moved
            partner.update_client(found, broker)
        user_id = ensure_user(settings, idp_realm, username, password)
        provider = oidc_identity_provider(issuer, alias, broker_id, secret)
        provider["displayName"] = f"{idp_realm} (partner IdP)"
        client = _admin(settings, client_realm)
        if any(idp.get("alias") == alias for idp in client.get_idps()):
            client.update_idp(alias, provider)
        else:
            client.create_idp(provider)
    except PythonKeycloakError as exc:
        raise KeycloakError(f"could not provision the partner IdP realm {idp_realm!r}") from exc
    return user_id


def oidc_identity_provider(issuer: str, alias: str, client_id: str, secret: str) -> dict[str, Any]:
    """An OIDC identity provider for a Keycloak realm ``issuer``, as a client realm brokers
    to it: signature checked against its JWKS, e-mail trusted, users imported once."""
    return {
        "alias": alias,
        "providerId": "oidc",
        "enabled": True,
        "trustEmail": True,
        "config": {
            "issuer": issuer,
            "authorizationUrl": f"{issuer}/protocol/openid-connect/auth",
            "tokenUrl": f"{issuer}/protocol/openid-connect/token",
            "jwksUrl": f"{issuer}/protocol/openid-connect/certs",
            "userInfoUrl": f"{issuer}/protocol/openid-connect/userinfo",
            "useJwksUrl": "true",
            "validateSignature": "true",
            "clientId": client_id,
            "clientSecret": secret,
            "clientAuthMethod": "client_secret_post",
            "defaultScope": "openid email profile",
            "syncMode": "IMPORT",
        },
    }
