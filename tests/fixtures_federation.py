"""SSO-federated partners: a second realm in the sandbox acts as the partner's identity
provider, brokered into a Duo tenant's client realm over OIDC or SAML.

Everything is made through Keycloak's admin REST API and deleted after the test: the
partner's IdP realm (with a client for the broker and its users), and, in the client realm,
the identity provider pointing to it. ``broker_login`` walks a brokered login over HTTP the
way a browser does (Keycloak's forms, SAML's self-posting forms, the bridge and Duo).
"""

from __future__ import annotations

import base64
import hashlib
import html
import secrets
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any, Literal
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import httpx2
import pytest
from keycloak import KeycloakAdmin

from keycloak_duo_bridge import jws
from keycloak_duo_bridge.admin import tenants
from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.duo.client import tls_context
from keycloak_duo_bridge.sandbox.provision import oidc_identity_provider
from keycloak_duo_bridge.sandbox.walk import browser_like_client
from tests.fixtures_bridge import APP_ID, PASSWORD, Tenant, TenantFactory

Protocol = Literal["oidc", "saml"]
_MAX_HOPS = 40


class BrokerWalkError(Exception):
    """The brokered login did not reach the application."""


@dataclass
class Form:
    """One HTML form: where it posts, its fields with their values, and its buttons."""

    action: str
    fields: dict[str, str]
    buttons: dict[str, list[str]]
    has_password: bool = False


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self._current: Form | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._current = Form(html.unescape(found.get("action", "")), {}, {})
            self.forms.append(self._current)
            return
        form = self._current
        if form is None or "name" not in found:
            return
        kind = found.get("type", "text" if tag == "input" else "submit").lower()
        if tag == "button" or kind == "submit":
            form.buttons.setdefault(found["name"], []).append(found.get("value", ""))
        elif tag == "input" and kind not in {"checkbox", "radio"}:
            form.fields[found["name"]] = found.get("value", "")
            if kind == "password":
                form.has_password = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._current = None


def forms_of(page: str) -> list[Form]:
    """The forms of a page, in order."""
    parser = _Forms()
    parser.feed(page)
    return parser.forms


Answer = Callable[[str, Form], dict[str, str] | None]
"""Answers a form that is neither a password form nor a self-posting SAML form (for
example "review profile" or "account already exists"): the fields to post, or None."""


@dataclass
class BrokerWalk:
    """Where a brokered login went, and what the application got."""

    urls: list[str] = field(default_factory=list)
    pages: list[str] = field(default_factory=list)  # the titles of the forms filled in
    id_claims: dict[str, Any] = field(default_factory=dict)

    @property
    def duo_hop(self) -> bool:
        """Whether the login went through the bridge's step-up."""
        return any("/step-up?" in url for url in self.urls)


def _title(page: str) -> str:
    start, end = page.find("<title>"), page.find("</title>")
    return html.unescape(page[start + 7 : end]).strip() if 0 <= start < end else ""


def _problem(page: str) -> str:
    for marker in ('kc-feedback-text">', 'id="kc-error-message">', "<h1>"):
        at = page.find(marker)
        if at >= 0:
            rest = page[at + len(marker) :]
            text = rest.split("<", 1)[0].strip() or rest.split(">", 1)[-1].split("<", 1)[0]
            return html.unescape(text).strip()
    return _title(page) or "an unexpected page"


def _self_posting(form: Form) -> bool:
    return "SAMLRequest" in form.fields or "SAMLResponse" in form.fields


def _answer(
    page: str, form: Form, username: str, password: str, answer: Answer | None
) -> dict[str, str]:
    """What to post to a form: a password, SAML's own fields, or the test's answer."""
    if form.has_password:
        data = {**form.fields, "password": password}
        if "username" in form.fields and not form.fields["username"]:
            data["username"] = username  # a re-authentication names its user already
        return data
    if _self_posting(form):
        return dict(form.fields)
    answered = None if answer is None else answer(page, form)
    if answered is None:
        raise BrokerWalkError(f"the login stopped at {_title(page)!r}: {_problem(page)}")
    return answered


def redirect_login(
    client: httpx2.Client,
    *,
    start: str,
    redirect_uri: str,
    username: str,
    password: str,
    answer: Answer | None = None,
) -> tuple[BrokerWalk, str]:
    """Follow a login from ``start`` until the application gets its code; returns the walk
    and the code. Password forms get ``username``/``password``, SAML forms post themselves,
    any other form goes to ``answer``."""
    walk = BrokerWalk()
    response = client.get(start, follow_redirects=False)
    walk.urls.append(start)
    for _ in range(_MAX_HOPS):
        if response.is_redirect:
            location = urljoin(str(response.url), response.headers["location"])
            walk.urls.append(location)
            if location.startswith(redirect_uri):
                returned = parse_qs(urlsplit(location).query)
                if "code" not in returned:
                    raise BrokerWalkError(f"the application got no code: {sorted(returned)}")
                return walk, returned["code"][0]
            response = client.get(location, follow_redirects=False)
            continue
        page = response.text
        forms = [f for f in forms_of(page) if f.action]
        if response.status_code != httpx2.codes.OK or not forms:
            raise BrokerWalkError(f"the login stopped at {_title(page)!r}: {_problem(page)}")
        form = next((f for f in forms if f.has_password), forms[0])
        data = _answer(page, form, username, password, answer)
        if not _self_posting(form):
            walk.pages.append(_title(page))
        target = urljoin(str(response.url), form.action)
        walk.urls.append(target)
        response = client.post(target, data=data, follow_redirects=False)
    raise BrokerWalkError("the login went round in circles")


@dataclass
class Federation:
    """A Duo tenant's client realm that brokers to a partner's IdP realm."""

    tenant: Tenant
    protocol: Protocol
    idp_realm: str
    alias: str
    master: KeycloakAdmin
    sessions: list[httpx2.Client] = field(default_factory=list)

    @property
    def keycloak_url(self) -> str:
        return self.tenant.settings.keycloak_url

    def partner_admin(self) -> KeycloakAdmin:
        """python-keycloak on the partner's IdP realm."""
        return _realm_admin(self.tenant, self.idp_realm)

    def partner_user(self, username: str, *, email: str | None = None) -> str:
        """A user of the partner's IdP with the test password; returns its id there."""
        return str(
            self.partner_admin().create_user(
                {
                    "username": username,
                    "email": email or f"{username}@partner.example",
                    "emailVerified": True,
                    "firstName": username.capitalize(),
                    "lastName": "Partner",
                    "enabled": True,
                    "credentials": [{"type": "password", "value": PASSWORD, "temporary": False}],
                }
            )
        )

    def subject(self, username: str) -> str:
        """The user's subject as the broker gets it: OIDC ``sub`` (the user's id in the
        partner realm), or the SAML NameID (the username)."""
        if self.protocol == "saml":
            return username
        return str(self.partner_admin().get_user_id(username))

    def duo_name(self, username: str) -> str:
        """The Duo name of the partner's user whose account the broker made: the link's
        IdP alias and subject (``idp-subject``), whatever username the account has."""
        return f"idp:{self.alias}:{self.subject(username)}"

    def session(self) -> httpx2.Client:
        """A fresh browser-like cookie jar (one SSO session), closed after the test."""
        client = browser_like_client(tls_context(self.tenant.emulator.ca_path))
        self.sessions.append(client)
        return client

    def auth_url(self, *, client_id: str = APP_ID, hint: bool = True, **extra: str) -> str:
        """The demo application's authorization request, with PKCE kept for the exchange."""
        query = {
            "client_id": client_id,
            "redirect_uri": self.tenant.redirect_uri,
            "response_type": "code",
            "scope": "openid",
            "state": secrets.token_urlsafe(8),
            **extra,
        }
        if hint:
            query["kc_idp_hint"] = self.alias
        realm = self.tenant.realm
        return f"{self.keycloak_url}/realms/{realm}/protocol/openid-connect/auth?{urlencode(query)}"

    def login(
        self,
        username: str,
        *,
        session: httpx2.Client | None = None,
        answer: Answer | None = None,
        hint: bool = True,
        client_id: str = APP_ID,
        **extra: str,
    ) -> BrokerWalk:
        """A login to the demo application: through the partner's IdP (``hint``) or with
        the client realm's own password form; returns the walk with the ID token's claims."""
        client = session or self.session()
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
        start = self.auth_url(
            client_id=client_id,
            hint=hint,
            code_challenge=challenge.rstrip(b"=").decode(),
            code_challenge_method="S256",
            **extra,
        )
        walk, code = redirect_login(
            client,
            start=start,
            redirect_uri=self.tenant.redirect_uri,
            username=username,
            password=PASSWORD,
            answer=answer or review_profile,
        )
        realm = self.tenant.realm
        response = client.post(
            f"{self.keycloak_url}/realms/{realm}/protocol/openid-connect/token",
            data={
                "grant_type": "authorization_code",
                "client_id": client_id,
                "redirect_uri": self.tenant.redirect_uri,
                "code": code,
                "code_verifier": verifier,
            },
        )
        assert response.status_code == httpx2.codes.OK, response.text
        walk.id_claims = jws.parse(response.json()["id_token"]).claims
        return walk

    def local_user(self, username: str, *, email: str | None = None) -> str:
        """A user of the client realm itself, with the test password; returns its id."""
        return str(
            self.tenant.admin().create_user(
                {
                    "username": username,
                    "email": email or f"{username}@client.example",
                    "emailVerified": True,
                    "firstName": username.capitalize(),
                    "lastName": "Local",
                    "enabled": True,
                    "credentials": [{"type": "password", "value": PASSWORD, "temporary": False}],
                }
            )
        )

    def links(self, username: str) -> list[dict[str, Any]]:
        """The client-realm user's identity-provider links."""
        admin = self.tenant.admin()
        user_id = admin.get_user_id(username)
        assert user_id is not None, f"no user {username!r} in {self.tenant.realm}"
        found: list[dict[str, Any]] = admin.get_user_social_logins(user_id)
        return found

    def last_event(self) -> int:
        """The emulator's newest event number."""
        return max((int(e["seq"]) for e in self.tenant.emulator.control.events()), default=0)

    def duo_names(self, since: int) -> list[str]:
        """The usernames this tenant's integration sent to Duo's prompt after ``since``."""
        return [
            str(e["username"])
            for e in self.tenant.emulator.control.events("authorize")
            if int(e["seq"]) > since and e["client_id"] == self.tenant.integration.client_id
        ]

    def upstream_claim(self, name: str, value: str, json_type: str = "String") -> None:
        """The partner's IdP puts a fixed claim in the tokens it gives the broker (OIDC).

        For ``acr``, the client loses Keycloak's own ``acr`` scope first: its mapper has the
        same priority as this one, so either could write the claim last."""
        admin = self.partner_admin()
        uuid_ = admin.get_client_id("federation-broker")
        for scope in admin.get_client_default_client_scopes(str(uuid_)):
            if name == "acr" and scope.get("name") == "acr":
                admin.delete_client_default_client_scope(str(uuid_), scope["id"])
        admin.add_mapper_to_client(
            str(uuid_),
            {
                "name": name,
                "protocol": "openid-connect",
                "protocolMapper": "oidc-hardcoded-claim-mapper",
                "config": {
                    "claim.name": name,
                    "claim.value": value,
                    "jsonType.label": json_type,
                    "id.token.claim": "true",
                    "access.token.claim": "true",
                    "userinfo.token.claim": "true",
                },
            },
        )

    def add_mapper(self, name: str, mapper: str, config: dict[str, str]) -> None:
        """An identity-provider mapper on the broker's side (as a realm admin configures)."""
        self.tenant.admin().add_mapper_to_idp(
            self.alias,
            {
                "name": name,
                "identityProviderAlias": self.alias,
                "identityProviderMapper": mapper,
                "config": {"syncMode": "FORCE", **config},
            },
        )


def review_profile(page: str, form: Form) -> dict[str, str] | None:
    """Fill the first-login "review profile" form with what is missing, as a person would;
    nothing else (an "account already exists" page is the test's own choice)."""
    if not {"firstName", "lastName", "email"} <= form.fields.keys():
        return None
    del page
    username = form.fields.get("username") or "partner-user"
    return {
        **form.fields,
        "email": form.fields["email"] or f"{username}@partner.example",
        "firstName": form.fields["firstName"] or username.capitalize(),
        "lastName": form.fields["lastName"] or "Partner",
    }


def choose_username(username: str) -> Answer:
    """On "account already exists", review the profile instead, and type ``username``
    (with a matching email) as a new account's: what a partner user may try."""

    def answer(page: str, form: Form) -> dict[str, str] | None:
        if "updateProfile" in form.buttons.get("submitAction", []):
            return {**form.fields, "submitAction": "updateProfile"}
        filled = review_profile(page, form)
        if filled is None:
            return None
        return {**filled, "username": username, "email": f"{username}@partner.example"}

    return answer


def link_account(page: str, form: Form) -> dict[str, str] | None:
    """On "account already exists", choose to link to that account."""
    if "linkAccount" in form.buttons.get("submitAction", []):
        return {**form.fields, "submitAction": "linkAccount"}
    return review_profile(page, form)


def _realm_admin(tenant: Tenant, realm: str) -> KeycloakAdmin:
    settings = tenant.settings
    return KeycloakAdmin(
        server_url=settings.keycloak_url,
        username=settings.keycloak_admin_username,
        password=settings.keycloak_admin_password.get_secret_value(),
        realm_name=realm,
        user_realm_name="master",
    )


def _broker_endpoint(tenant: Tenant, alias: str) -> str:
    return f"{tenant.settings.keycloak_url}/realms/{tenant.realm}/broker/{alias}/endpoint"


def _oidc_provider(tenant: Tenant, idp_realm: str, alias: str) -> dict[str, Any]:
    """The partner's IdP realm with a confidential client for the broker; the broker's
    identity provider for it (signature checked against the realm's JWKS)."""
    partner = _realm_admin(tenant, idp_realm)
    secret = secrets.token_urlsafe(24)
    partner.create_client(
        {
            "clientId": "federation-broker",
            "protocol": "openid-connect",
            "publicClient": False,
            "secret": secret,
            "standardFlowEnabled": True,
            "redirectUris": [_broker_endpoint(tenant, alias)],
        }
    )
    issuer = f"{tenant.settings.keycloak_url}/realms/{idp_realm}"
    return oidc_identity_provider(issuer, alias, "federation-broker", secret)


def _saml_provider(tenant: Tenant, idp_realm: str, alias: str) -> dict[str, Any]:
    """The partner's IdP realm with a SAML client for the broker (it signs its responses,
    NameID is the username); the broker's SAML identity provider, checking that signature."""
    partner = _realm_admin(tenant, idp_realm)
    sp_entity = f"{tenant.settings.keycloak_url}/realms/{tenant.realm}"
    endpoint = _broker_endpoint(tenant, alias)
    partner.create_client(
        {
            "clientId": sp_entity,
            "protocol": "saml",
            "enabled": True,
            "redirectUris": [endpoint],
            "attributes": {
                "saml.client.signature": "false",
                "saml.server.signature": "true",
                "saml.assertion.signature": "true",
                "saml_force_name_id_format": "true",
                "saml_name_id_format": "username",
                "saml_assertion_consumer_url_post": endpoint,
            },
        }
    )
    keys = partner.get_keys()["keys"]
    certificate = next(k["certificate"] for k in keys if k.get("algorithm") == "RS256")
    issuer = f"{tenant.settings.keycloak_url}/realms/{idp_realm}"
    return {
        "alias": alias,
        "providerId": "saml",
        "enabled": True,
        "trustEmail": False,
        "config": {
            "entityId": sp_entity,
            "idpEntityId": issuer,
            "singleSignOnServiceUrl": f"{issuer}/protocol/saml",
            "nameIDPolicyFormat": "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified",
            "principalType": "SUBJECT",
            "postBindingResponse": "true",
            "postBindingAuthnRequest": "true",
            "wantAuthnRequestsSigned": "false",
            "wantAssertionsSigned": "true",
            "validateSignature": "true",
            "signingCertificate": certificate,
            "syncMode": "IMPORT",
        },
    }


FederationFactory = Callable[..., Federation]


def broker(tenant: Tenant, keycloak_admin: KeycloakAdmin, protocol: Protocol) -> Federation:
    """A new partner IdP realm on ``keycloak_admin``'s Keycloak, brokered into ``tenant``'s
    realm over ``protocol``; the caller deletes the IdP realm (``keycloak_admin``)."""
    idp_realm = f"idp-{uuid.uuid4().hex[:8]}"
    keycloak_admin.create_realm({"realm": idp_realm, "enabled": True})
    alias = f"partner-{protocol}"
    federation = Federation(tenant, protocol, idp_realm, alias, keycloak_admin)
    build = _oidc_provider if protocol == "oidc" else _saml_provider
    tenant.admin().create_idp(build(tenant, idp_realm, alias))
    return federation


@pytest.fixture
def federation(
    duo_tenant: TenantFactory, keycloak_admin: KeycloakAdmin, admin_keycloak: Keycloak
) -> Iterator[FederationFactory]:
    """Make a Duo tenant (policy as given) that brokers to a new partner IdP realm over
    ``protocol``; every realm made is deleted after the test."""
    made: list[Federation] = []

    def make(protocol: Protocol, **policy: object) -> Federation:
        federation = broker(duo_tenant(**policy), keycloak_admin, protocol)
        made.append(federation)
        return federation

    try:
        yield make
    finally:
        for each in made:
            for client in each.sessions:
                client.close()
            keycloak_admin.delete_realm(each.idp_realm)
            tenants.delete_tenant(admin_keycloak, each.tenant.partner, cascade=True)
