"""The one adapter over python-keycloak: realm-explicit calls, errors from our tree.

Nothing else in the package imports ``keycloak``. Every call names its realm, and every
python-keycloak exception is translated here, once, into
:mod:`keycloak_duo_bridge.errors`; messages are one line and name what is wrong, never a
secret. Payloads stay Keycloak's JSON dicts; the modules above give them meaning.

The admin logs in to its own realm (``master`` usually) and manages other realms, so the
connection is built with ``user_realm_name`` (the number-one python-keycloak pitfall), and
the current realm is switched per call under a lock.

Keycloak semantics the callers rely on (its admin REST API, 26.x): a realm PUT that
carries ``attributes`` replaces them all, so realm writes go through
:func:`keycloak_duo_bridge.admin.record.store` (read, merge, write, with the record); client and
user calls take internal ids, which the ``find_*`` methods look up by clientId / username.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any, Final, TypeVar

from keycloak import KeycloakAdmin
from keycloak.exceptions import (
    KeycloakAuthenticationError,
    KeycloakConnectionError,
)
from keycloak.exceptions import (
    KeycloakError as PythonKeycloakError,
)

from keycloak_duo_bridge.errors import (
    KeycloakAuthError,
    KeycloakError,
    KeycloakForbiddenError,
    KeycloakUnreachableError,
    NotFoundError,
)
from keycloak_duo_bridge.settings import Settings

T = TypeVar("T")
Json = dict[str, Any]

HTTP_FORBIDDEN: Final = 403
HTTP_NOT_FOUND: Final = 404
HTTP_CONFLICT: Final = 409
# How long a timed-out realm delete is awaited, and how often it is checked.
DELETE_SETTLE_SECONDS: Final = 180.0
DELETE_POLL_SECONDS: Final = 2.0


class Keycloak:
    """Admin access to every realm of one Keycloak, through python-keycloak.

    Reads are named ``get_*`` and ``find_*``; every other public method writes (tests count
    calls to the writes to prove a re-run writes nothing).
    """

    def __init__(
        self,
        admin: KeycloakAdmin,
        *,
        url: str,
        username: str,
        console_url: str | None = None,
        allow_any_duo_host: bool = False,
        admin_realm: str = "master",
        bridge_reader: str | None = None,
    ) -> None:
        self._admin = admin
        self._lock = threading.RLock()
        self.url = url
        self.username = username
        self.console_url = console_url
        """The bridge whose console client realms get when created or wired (None: none)."""
        # KDB_DUO_ALLOW_ANY_HOST: what this admin service may write as a Duo API host
        self.allow_any_duo_host = allow_any_duo_host
        self.admin_realm = admin_realm
        # KDB_BRIDGE_CLIENT_ID: the bridge's service account, granted view-realm on new tenants
        self.bridge_reader = bridge_reader

    def __repr__(self) -> str:
        return f"Keycloak(url={self.url!r}, username={self.username!r})"

    @classmethod
    def from_settings(cls, settings: Settings, *, timeout: int = 30) -> Keycloak:
        """Log in as the admin service's service account (``KDB_KEYCLOAK_ADMIN_CLIENT_ID`` /
        ``_SECRET``, client credentials) when set, else as ``KDB_KEYCLOAK_ADMIN_USERNAME``."""
        client_id = settings.keycloak_admin_client_id
        secret = settings.keycloak_admin_client_secret
        if client_id and secret is not None:
            who = f"service account {client_id}"
            admin = KeycloakAdmin(
                server_url=settings.keycloak_url,
                client_id=client_id,
                client_secret_key=secret.get_secret_value(),
                grant_type="client_credentials",
                realm_name=settings.keycloak_admin_realm,
                user_realm_name=settings.keycloak_admin_realm,
                timeout=timeout,
            )
        else:
            who = settings.keycloak_admin_username
            admin = KeycloakAdmin(
                server_url=settings.keycloak_url,
                username=settings.keycloak_admin_username,
                password=settings.keycloak_admin_password.get_secret_value(),
                realm_name=settings.keycloak_admin_realm,
                user_realm_name=settings.keycloak_admin_realm,
                timeout=timeout,
            )
        return cls(
            admin,
            url=settings.keycloak_url,
            username=who,
            console_url=settings.bridge_url,
            allow_any_duo_host=settings.duo_allow_any_host,
            admin_realm=settings.keycloak_admin_realm,
            bridge_reader=settings.bridge_client_id,
        )

    # -- plumbing --------------------------------------------------------------------------

    def _call(
        self, what: str, realm: str | None, call: Callable[[KeycloakAdmin], T], *, missing: str
    ) -> T:
        """Run ``call`` with ``realm`` current; translate python-keycloak's errors once."""
        with self._lock:
            try:
                if realm is not None:
                    self._admin.change_current_realm(realm)
                return call(self._admin)
            except KeycloakConnectionError:
                raise KeycloakUnreachableError(
                    f"Keycloak at {self.url} is unreachable (while trying to {what})"
                ) from None
            except KeycloakAuthenticationError:
                raise self._auth_error() from None
            except PythonKeycloakError as exc:
                if "invalid_grant" in _message(exc):  # a 400 from the token endpoint
                    raise self._auth_error() from None
                raise _translate(exc, what, missing, self.username) from exc
            except TypeError as exc:  # python-keycloak 7 on an unexpected response type
                raise KeycloakError(f"unexpected answer from Keycloak to: {what}") from exc

    def _auth_error(self) -> KeycloakAuthError:
        return KeycloakAuthError(
            f"Keycloak at {self.url} rejected the admin credentials of user "
            f"{self.username!r} (KDB_KEYCLOAK_ADMIN_CLIENT_ID / _CLIENT_SECRET, or"
            " KDB_KEYCLOAK_ADMIN_USERNAME / _PASSWORD; and _REALM)"
        )

    def _raw(self, method: str, path: str, data: Any | None = None) -> Any:
        """A REST call python-keycloak has no method for; raises like its methods do."""
        connection = self._admin.connection
        if method == "GET":
            response = connection.raw_get(path)
        elif method == "POST":
            response = connection.raw_post(path, data=json.dumps(data))
        else:
            response = connection.raw_delete(path)
        if response.status_code >= 400:  # noqa: PLR2004
            raise PythonKeycloakError(response.text, response_code=response.status_code)
        return response.json() if response.content else None

    # -- realms ----------------------------------------------------------------------------

    def get_realms(self) -> list[Json]:
        """Every realm's representation, attributes included, in one call."""
        return self._call("list realms", None, lambda a: a.get_realms(), missing="realms")

    def get_realm(self, realm: str) -> Json:
        return self._call(
            f"read realm {realm!r}", None, lambda a: a.get_realm(realm), missing=f"realm {realm!r}"
        )

    def find_realm(self, realm: str) -> Json | None:
        """The realm's representation, or None if it does not exist."""
        try:
            return self.get_realm(realm)
        except NotFoundError:
            return None

    def create_realm(self, representation: Json) -> None:
        name = str(representation.get("realm"))
        self._call(
            f"create realm {name!r}",
            None,
            lambda a: a.create_realm(representation),
            missing=f"realm {name!r}",
        )
        # Keycloak gives the creator the new realm's admin roles, but a token issued before
        # carries only the old ones: the next call (a component of the new realm) would be
        # refused. A fresh token carries them.
        self._call("log in again", None, lambda a: a.connection.get_token(), missing="token")

    def update_realm(self, realm: str, representation: Json) -> None:
        self._call(
            f"update realm {realm!r}",
            None,
            lambda a: a.update_realm(realm, representation),
            missing=f"realm {realm!r}",
        )

    def delete_realm(self, realm: str, *, settle_seconds: float = DELETE_SETTLE_SECONDS) -> None:
        """Delete ``realm``, and return once Keycloak no longer has it.

        Keycloak deletes a realm in one request that removes its clients, roles, users and
        its client in the admin realm; on a busy node that outlasts the read timeout, while
        the delete goes on. A timed-out delete is therefore followed by reads until the realm
        is gone (``settle_seconds`` at most), so a cascade does not stop half-way.
        """
        try:
            self._call(
                f"delete realm {realm!r}",
                None,
                lambda a: a.delete_realm(realm),
                missing=f"realm {realm!r}",
            )
        except KeycloakUnreachableError:
            deadline = time.monotonic() + settle_seconds
            while self.find_realm(realm) is not None:
                if time.monotonic() >= deadline:
                    raise KeycloakUnreachableError(
                        f"Keycloak at {self.url} did not finish deleting realm {realm!r}"
                        f" within {settle_seconds:.0f} s; run the command again"
                    ) from None
                time.sleep(DELETE_POLL_SECONDS)

    def get_admin_events(self, realm: str, *, first: int = 0, max_results: int = 100) -> list[Json]:
        """The realm's admin events (who changed what, and when), newest first."""
        return self._call(
            f"read the admin events of realm {realm!r}",
            realm,
            lambda a: a.get_admin_events({"first": first, "max": max_results}),
            missing=f"realm {realm!r}",
        )

    def get_components(self, realm: str, provider_type: str) -> list[Json]:
        """The realm's components of one provider type (client registration policies, say)."""
        return self._call(
            f"list the components of realm {realm!r}",
            realm,
            lambda a: a.get_components({"type": provider_type}),
            missing=f"realm {realm!r}",
        )

    def create_component(self, realm: str, component: Json) -> None:
        self._call(
            f"add a component to realm {realm!r}",
            realm,
            lambda a: a.create_component(component),
            missing=f"realm {realm!r}",
        )

    def grant_realm_view(self, client_id: str, realm: str) -> bool:
        """Give ``client_id``'s service account (a client of the admin realm) ``view-realm`` of
        ``realm``, which is all the bridge's login path reads; True if it was granted now."""

        def grant(a: KeycloakAdmin) -> bool:
            reader = a.get_client_id(client_id)
            realm_client = a.get_client_id(f"{realm}-realm")
            if reader is None or realm_client is None:
                raise PythonKeycloakError("not found", response_code=HTTP_NOT_FOUND)
            account = a.get_client_service_account_user(reader)["id"]
            held = a.get_client_roles_of_user(account, realm_client)
            if any(role.get("name") == "view-realm" for role in held):
                return False
            role = a.get_client_role(realm_client, "view-realm")
            a.assign_client_role(account, realm_client, [role])
            return True

        return self._call(
            f"grant view-realm of realm {realm!r} to {client_id!r}",
            self.admin_realm,
            grant,
            missing=f"client {client_id!r} (KDB_BRIDGE_CLIENT_ID) or realm {realm!r}",
        )

    # -- clients (applications) ----------------------------------------------------------

    def get_clients(self, realm: str) -> list[Json]:
        return self._call(
            f"list the applications of realm {realm!r}",
            realm,
            lambda a: a.get_clients(),
            missing=f"realm {realm!r}",
        )

    def find_client(self, realm: str, client_id: str) -> Json | None:
        """The application whose clientId is ``client_id`` (never a UUID), or None."""
        for client in self.get_clients(realm):
            if client.get("clientId") == client_id:
                return client
        return None

    def update_client(self, realm: str, uuid: str, representation: Json) -> None:
        self._call(
            f"update an application of realm {realm!r}",
            realm,
            lambda a: a.update_client(uuid, representation),
            missing=f"application in realm {realm!r}",
        )

    def create_client(self, realm: str, representation: Json) -> None:
        name = representation.get("clientId")
        self._call(
            f"create application {name!r} in realm {realm!r}",
            realm,
            lambda a: a.create_client(representation),
            missing=f"realm {realm!r}",
        )

    def get_client_secret(self, realm: str, uuid: str) -> str:
        """A confidential application's current secret (never logged, never shown)."""
        answer = self._call(
            f"read an application's secret in realm {realm!r}",
            realm,
            lambda a: a.get_client_secrets(uuid),
            missing=f"application in realm {realm!r}",
        )
        return str(answer.get("value") or "")

    # -- users ---------------------------------------------------------------------------

    def find_user(self, realm: str, username: str) -> Json | None:
        """The user named exactly ``username``, or None."""
        users = self._call(
            f"look up user {username!r} in realm {realm!r}",
            realm,
            lambda a: a.get_users({"username": username, "exact": "true"}),
            missing=f"realm {realm!r}",
        )
        for user in users:
            if str(user.get("username", "")).lower() == username.lower():
                return dict(user)
        return None

    def get_user(self, realm: str, user_id: str) -> Json:
        """The user whose id is ``user_id``; NotFoundError if there is none."""
        return self._call(
            f"read a user of realm {realm!r}",
            realm,
            lambda a: a.get_user(user_id),
            missing=f"user in realm {realm!r}",
        )

    def get_effective_realm_roles(self, realm: str, user_id: str) -> list[str]:
        """The names of the user's effective realm roles (composites and groups expanded)."""
        roles = self._call(
            f"read a user's realm roles in realm {realm!r}",
            realm,
            lambda a: a.get_composite_realm_roles_of_user(user_id),
            missing=f"user in realm {realm!r}",
        )
        return [str(role["name"]) for role in roles]

    def get_effective_client_roles(self, realm: str, user_id: str, client_id: str) -> list[str]:
        """The names of the user's effective roles of application ``client_id`` (a clientId);
        none when the realm has no such application."""

        def read(admin: KeycloakAdmin) -> list[Json]:
            uuid = admin.get_client_id(client_id)
            return admin.get_composite_client_roles_of_user(user_id, uuid) if uuid else []

        roles = self._call(
            f"read a user's {client_id} roles in realm {realm!r}",
            realm,
            read,
            missing=f"user in realm {realm!r}",
        )
        return [str(role["name"]) for role in roles]

    def get_user_group_paths(self, realm: str, user_id: str) -> list[str]:
        groups = self._call(
            f"read a user's groups in realm {realm!r}",
            realm,
            lambda a: a.get_user_groups(user_id, brief_representation=True),
            missing=f"user in realm {realm!r}",
        )
        return [str(group["path"]) for group in groups]

    def get_user_links(self, realm: str, user_id: str) -> list[tuple[str, str]]:
        """The user's identity-provider links: (alias, subject) pairs, sorted by alias."""
        links = self._call(
            f"read a user's identity-provider links in realm {realm!r}",
            realm,
            lambda a: a.get_user_social_logins(user_id),
            missing=f"user in realm {realm!r}",
        )
        return sorted((str(k["identityProvider"]), str(k["userId"])) for k in links)

    def get_idp_aliases(self, realm: str) -> list[str]:
        """The aliases of the realm's identity providers, sorted."""
        found = self._call(
            f"list the identity providers of realm {realm!r}",
            realm,
            lambda a: a.get_idps(),
            missing=f"realm {realm!r}",
        )
        return sorted(str(idp["alias"]) for idp in found)

    def has_password(self, realm: str, user_id: str) -> bool:
        """Whether the user has a password of the realm (its type only; nothing secret)."""
        credentials = self._call(
            f"read a user's credential types in realm {realm!r}",
            realm,
            lambda a: a.get_credentials(user_id),
            missing=f"user in realm {realm!r}",
        )
        return any(c.get("type") == "password" for c in credentials)

    def get_users(self, realm: str) -> list[Json]:
        """Every user of ``realm``, attributes included (never a credential's secret)."""
        return self._call(
            f"list the users of realm {realm!r}",
            realm,
            lambda a: a.get_users({"briefRepresentation": "false"}),
            missing=f"realm {realm!r}",
        )

    def find_users_by_email(self, realm: str, email: str) -> list[Json]:
        """The users of ``realm`` whose email is exactly ``email``."""
        found = self._call(
            f"look up an email in realm {realm!r}",
            realm,
            lambda a: a.get_users({"email": email, "exact": "true"}),
            missing=f"realm {realm!r}",
        )
        return [u for u in found if str(u.get("email", "")).lower() == email.lower()]

    def get_credential_types(self, realm: str, user_id: str) -> list[str]:
        """The types of the user's credentials, sorted (Keycloak never returns their secrets)."""
        credentials = self._call(
            f"read a user's credential types in realm {realm!r}",
            realm,
            lambda a: a.get_credentials(user_id),
            missing=f"user in realm {realm!r}",
        )
        return sorted(str(c.get("type")) for c in credentials)

    def get_group_paths(self, realm: str) -> list[str]:
        """The paths of every group of ``realm``, subgroups included, sorted."""
        groups = self._call(
            f"list the groups of realm {realm!r}",
            realm,
            lambda a: a.get_groups(full_hierarchy=True),
            missing=f"realm {realm!r}",
        )
        paths: list[str] = []
        pending = list(groups)
        while pending:
            group = pending.pop()
            paths.append(str(group["path"]))
            pending.extend(group.get("subGroups") or [])
        return sorted(paths)

    def get_realm_role_names(self, realm: str) -> list[str]:
        """The names of the realm's roles, sorted."""
        roles = self._call(
            f"list the roles of realm {realm!r}",
            realm,
            lambda a: a.get_realm_roles(),
            missing=f"realm {realm!r}",
        )
        return sorted(str(role["name"]) for role in roles)

    def create_user(self, realm: str, representation: Json) -> str:
        """Make a user (with the groups and credentials its representation names); its id."""
        return self._call(
            f"create a user in realm {realm!r}",
            realm,
            lambda a: a.create_user(representation),
            missing=f"realm {realm!r}",
        )

    def delete_user(self, realm: str, user_id: str) -> None:
        self._call(
            f"delete a user of realm {realm!r}",
            realm,
            lambda a: a.delete_user(user_id),
            missing=f"user in realm {realm!r}",
        )

    def update_user(self, realm: str, user_id: str, representation: Json) -> None:
        self._call(
            f"update a user of realm {realm!r}",
            realm,
            lambda a: a.update_user(user_id, representation),
            missing=f"user in realm {realm!r}",
        )

    def get_user_profile(self, realm: str) -> Json:
        return self._call(
            f"read the user profile of realm {realm!r}",
            realm,
            lambda a: a.get_realm_users_profile(),
            missing=f"realm {realm!r}",
        )

    def update_user_profile(self, realm: str, profile: Json) -> None:
        self._call(
            f"update the user profile of realm {realm!r}",
            realm,
            lambda a: a.update_realm_users_profile(profile),
            missing=f"realm {realm!r}",
        )

    # -- required actions ------------------------------------------------------------------

    def get_required_actions(self, realm: str) -> list[Json]:
        return self._call(
            f"list the required actions of realm {realm!r}",
            realm,
            lambda a: a.get_required_actions(),
            missing=f"realm {realm!r}",
        )

    def register_required_action(self, realm: str, provider_id: str, name: str) -> None:
        path = f"admin/realms/{realm}/authentication/register-required-action"
        self._call(
            f"register required action {provider_id!r} in realm {realm!r}",
            realm,
            lambda _: self._raw("POST", path, {"providerId": provider_id, "name": name}),
            missing=f"required action {provider_id!r} (is the extension deployed?)",
        )

    def update_required_action(self, realm: str, alias: str, representation: Json) -> None:
        self._call(
            f"update required action {alias!r} in realm {realm!r}",
            realm,
            lambda a: a.update_required_action(alias, representation),
            missing=f"required action {alias!r} in realm {realm!r}",
        )

    def delete_required_action(self, realm: str, alias: str) -> None:
        path = f"admin/realms/{realm}/authentication/required-actions/{alias}"
        self._call(
            f"remove required action {alias!r} from realm {realm!r}",
            realm,
            lambda _: self._raw("DELETE", path),
            missing=f"required action {alias!r} in realm {realm!r}",
        )

    # -- client scopes -------------------------------------------------------------------

    def get_client_scopes(self, realm: str) -> list[Json]:
        return self._call(
            f"list the client scopes of realm {realm!r}",
            realm,
            lambda a: a.get_client_scopes(),
            missing=f"realm {realm!r}",
        )

    def create_client_scope(self, realm: str, representation: Json) -> str:
        name = representation.get("name")
        return self._call(
            f"create client scope {name!r} in realm {realm!r}",
            realm,
            lambda a: a.create_client_scope(representation),
            missing=f"realm {realm!r}",
        )

    def delete_client_scope(self, realm: str, scope_id: str) -> None:
        self._call(
            f"delete a client scope of realm {realm!r}",
            realm,
            lambda a: a.delete_client_scope(scope_id),
            missing=f"client scope in realm {realm!r}",
        )

    def get_default_client_scopes(self, realm: str) -> list[Json]:
        return self._call(
            f"list the default client scopes of realm {realm!r}",
            realm,
            lambda a: a.get_default_default_client_scopes(),
            missing=f"realm {realm!r}",
        )

    def add_default_client_scope(self, realm: str, scope_id: str) -> None:
        self._call(
            f"add a default client scope to realm {realm!r}",
            realm,
            lambda a: a.add_default_default_client_scope(scope_id),
            missing=f"client scope in realm {realm!r}",
        )

    def remove_default_client_scope(self, realm: str, scope_id: str) -> None:
        self._call(
            f"remove a default client scope from realm {realm!r}",
            realm,
            lambda a: a.delete_default_default_client_scope(scope_id),
            missing=f"client scope in realm {realm!r}",
        )

    def get_client_default_scopes(self, realm: str, uuid: str) -> list[Json]:
        return self._call(
            f"list an application's default client scopes in realm {realm!r}",
            realm,
            lambda a: a.get_client_default_client_scopes(uuid),
            missing=f"application in realm {realm!r}",
        )

    def add_client_default_scope(self, realm: str, uuid: str, scope_id: str) -> None:
        self._call(
            f"add a client scope to an application of realm {realm!r}",
            realm,
            lambda a: a.add_client_default_client_scope(uuid, scope_id, {}),
            missing=f"application in realm {realm!r}",
        )

    def remove_client_default_scope(self, realm: str, uuid: str, scope_id: str) -> None:
        self._call(
            f"remove a client scope from an application of realm {realm!r}",
            realm,
            lambda a: a.delete_client_default_client_scope(uuid, scope_id),
            missing=f"application in realm {realm!r}",
        )

    def get_client_scope_mappers(self, realm: str, scope_id: str) -> list[Json]:
        return self._call(
            f"list the mappers of a client scope of realm {realm!r}",
            realm,
            lambda a: a.get_mappers_from_client_scope(scope_id),
            missing=f"client scope in realm {realm!r}",
        )

    def add_client_scope_mapper(self, realm: str, scope_id: str, mapper: Json) -> None:
        self._call(
            f"add mapper {mapper.get('name')!r} to a client scope of realm {realm!r}",
            realm,
            lambda a: a.add_mapper_to_client_scope(scope_id, mapper),
            missing=f"client scope in realm {realm!r}",
        )

    # -- authentication flows ------------------------------------------------------------

    def get_flows(self, realm: str) -> list[Json]:
        return self._call(
            f"list the authentication flows of realm {realm!r}",
            realm,
            lambda a: a.get_authentication_flows(),
            missing=f"realm {realm!r}",
        )

    def create_flow(self, realm: str, alias: str, description: str) -> None:
        payload = {
            "alias": alias,
            "description": description,
            "providerId": "basic-flow",
            "topLevel": True,
            "builtIn": False,
        }
        self._call(
            f"create flow {alias!r} in realm {realm!r}",
            realm,
            lambda a: a.create_authentication_flow(payload, skip_exists=False),
            missing=f"realm {realm!r}",
        )

    def delete_flow(self, realm: str, flow_id: str) -> None:
        self._call(
            f"delete a flow of realm {realm!r}",
            realm,
            lambda a: a.delete_authentication_flow(flow_id),
            missing=f"flow in realm {realm!r}",
        )

    def get_flow_executions(self, realm: str, alias: str) -> list[Json]:
        """The flow's executions, sub-flows' included, in order (each with ``level``)."""
        return self._call(
            f"list the executions of flow {alias!r} in realm {realm!r}",
            realm,
            lambda a: a.get_authentication_flow_executions(alias),
            missing=f"flow {alias!r} in realm {realm!r}",
        )

    def add_flow_execution(self, realm: str, alias: str, provider: str) -> None:
        self._call(
            f"add {provider!r} to flow {alias!r} in realm {realm!r}",
            realm,
            lambda a: a.create_authentication_flow_execution({"provider": provider}, alias),
            missing=f"flow {alias!r} in realm {realm!r}",
        )

    def add_subflow(self, realm: str, alias: str, subflow: str) -> None:
        payload = {"alias": subflow, "type": "basic-flow", "provider": "registration-page-form"}
        self._call(
            f"add sub-flow {subflow!r} to flow {alias!r} in realm {realm!r}",
            realm,
            lambda a: a.create_authentication_flow_subflow(payload, alias, skip_exists=False),
            missing=f"flow {alias!r} in realm {realm!r}",
        )

    def update_flow_execution(self, realm: str, alias: str, execution: Json) -> None:
        self._call(
            f"update an execution of flow {alias!r} in realm {realm!r}",
            realm,
            lambda a: a.update_authentication_flow_executions(execution, alias),
            missing=f"flow {alias!r} in realm {realm!r}",
        )

    def get_authenticator_config(self, realm: str, config_id: str) -> Json:
        return self._call(
            f"read an execution's configuration in realm {realm!r}",
            realm,
            lambda a: a.get_authenticator_config(config_id),
            missing=f"execution configuration in realm {realm!r}",
        )

    def update_authenticator_config(self, realm: str, config_id: str, config: Json) -> None:
        self._call(
            f"update an execution's configuration in realm {realm!r}",
            realm,
            lambda a: a.update_authenticator_config(config, config_id),
            missing=f"execution configuration in realm {realm!r}",
        )

    def add_execution_config(self, realm: str, execution_id: str, config: Json) -> None:
        self._call(
            f"configure an execution in realm {realm!r}",
            realm,
            lambda _: self._raw(
                "POST",
                f"admin/realms/{realm}/authentication/executions/{execution_id}/config",
                config,
            ),
            missing=f"execution in realm {realm!r}",
        )

    # -- organizations (a partner's clients kept inside its realm) -------------------------

    def find_organization(self, realm: str, name: str) -> Json | None:
        """The organization named ``name`` in ``realm``, attributes included, or None."""
        found = self._call(
            f"find organization {name!r} in realm {realm!r}",
            realm,
            lambda a: a.get_organizations(
                {"search": name, "exact": "true", "briefRepresentation": "false"}
            ),
            missing=f"realm {realm!r}",
        )
        return next((o for o in found if o.get("name") == name), None)

    def get_organizations(self, realm: str) -> list[Json]:
        """Every organization of ``realm``, attributes included: python-keycloak reads them
        in pages (``first``/``max``, 100 a page) until a page comes back short."""
        return self._call(
            f"list the organizations of realm {realm!r}",
            realm,
            lambda a: a.get_organizations({"briefRepresentation": "false"}),
            missing=f"realm {realm!r}",
        )

    def get_organization(self, realm: str, organization_id: str) -> Json:
        return self._call(
            f"read an organization of realm {realm!r}",
            realm,
            lambda a: a.get_organization(organization_id),
            missing=f"organization {organization_id!r} of realm {realm!r}",
        )

    def create_organization(self, realm: str, representation: Json) -> str:
        """Make an organization; its id."""
        name = str(representation.get("name"))
        made = self._call(
            f"create organization {name!r} in realm {realm!r}",
            realm,
            lambda a: a.create_organization(representation),
            missing=f"realm {realm!r}",
        )
        return str(made)

    def update_organization(self, realm: str, organization_id: str, representation: Json) -> None:
        self._call(
            f"update an organization of realm {realm!r}",
            realm,
            lambda a: a.update_organization(organization_id, representation),
            missing=f"organization {organization_id!r} of realm {realm!r}",
        )

    def delete_organization(self, realm: str, organization_id: str) -> None:
        """Delete an organization; Keycloak keeps its member users in the realm."""
        self._call(
            f"delete an organization of realm {realm!r}",
            realm,
            lambda a: a.delete_organization(organization_id),
            missing=f"organization {organization_id!r} of realm {realm!r}",
        )

    def get_organization_members_count(self, realm: str, organization_id: str) -> int:
        return self._call(
            f"count the members of an organization of realm {realm!r}",
            realm,
            lambda a: a.get_organization_members_count(organization_id),
            missing=f"organization {organization_id!r} of realm {realm!r}",
        )

    def get_user_organizations(self, realm: str, user_id: str) -> list[Json]:
        """The organizations the user is a member of (Keycloak's membership)."""
        return self._call(
            f"read a user's organizations in realm {realm!r}",
            realm,
            lambda a: a.get_user_organizations(user_id),
            missing=f"user {user_id!r} of realm {realm!r}",
        )

    def get_organization_members(self, realm: str, organization_id: str) -> list[Json]:
        """The users who are members of the organization, attributes included."""
        return self._call(
            f"list the members of an organization of realm {realm!r}",
            realm,
            lambda a: a.get_organization_members(organization_id),
            missing=f"organization {organization_id!r} of realm {realm!r}",
        )

    def add_organization_member(self, realm: str, organization_id: str, user_id: str) -> None:
        self._call(
            f"add a member to an organization of realm {realm!r}",
            realm,
            lambda a: a.organization_user_add(user_id, organization_id),
            missing=f"organization {organization_id!r} of realm {realm!r}",
        )


def _translate(exc: PythonKeycloakError, what: str, missing: str, username: str) -> KeycloakError:
    code = exc.response_code
    if code == HTTP_FORBIDDEN:
        return KeycloakForbiddenError(f"admin user {username!r} lacks the rights to {what}")
    if code == HTTP_NOT_FOUND:
        return NotFoundError(f"{missing} does not exist")
    if code == HTTP_CONFLICT:
        return KeycloakError(f"conflict: cannot {what}, it already exists")
    return KeycloakError(f"Keycloak refused to {what} (HTTP {code}): {_message(exc)}")


def _message(exc: PythonKeycloakError) -> str:
    text = exc.error_message
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    return " ".join(str(text).split())[:200]
