"""The plan of moving a client realm to an organization: pure, every refusal with its reason."""

from __future__ import annotations

import json

import pytest

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.admin.move_plan import (
    ClientOrganization,
    ClientRealm,
    NewRealm,
    PartnerRealm,
    SourceUser,
    exported_credentials,
    plan_to_organization,
    plan_to_realm,
    read_export,
)
from keycloak_duo_bridge.attributes import UsernameMapping
from keycloak_duo_bridge.errors import ConfigError

PASSWORD = {"type": "password", "secretData": "{}", "credentialData": "{}", "id": "dropped"}


def user(
    name: str, *types: str, email: str | None = None, groups: tuple[str, ...] = ()
) -> SourceUser:
    representation = {"id": "x", "username": name, "enabled": True, "createdTimestamp": 1}
    if email:
        representation |= {"email": email, "emailVerified": True}
    return SourceUser(representation, groups, types)


def source(**changes: object) -> ClientRealm:
    fields: dict[str, object] = {
        "name": "globex",
        "partner": "acme",
        "attributes": {attr.TENANT_KIND: "client", attr.DUO_IKEY: "DI1", attr.DUO_REMEMBER: "5"},
        "username_mapping": UsernameMapping.USERNAME,
        "users": (user("ann", "password", email="ann@x.test", groups=("/ops",)),),
        "clients": ("account", "kdb-console"),
        "roles": ("offline_access", "default-roles-globex"),
        "groups": ("/ops",),
    }
    return ClientRealm(**{**fields, **changes})  # type: ignore[arg-type]


def partner(**changes: object) -> PartnerRealm:
    fields: dict[str, object] = {
        "name": "acme",
        "username_mapping": UsernameMapping.USERNAME,
        "clients": frozenset({"account", "demo-app"}),
        "groups": frozenset({"/ops"}),
    }
    return PartnerRealm(**{**fields, **changes})  # type: ignore[arg-type]


def test_a_plain_client_realm_moves_with_its_settings_users_and_credentials() -> None:
    """A realm as the template makes it, with an exported password, moves: the Duo settings
    and the user (fields, groups, the exported credential) are carried."""
    export = {"realm": "globex", "users": [{"username": "ann", "credentials": [PASSWORD]}]}
    planned = plan_to_organization(source(), partner(), exported_credentials(export, "globex"))
    assert planned.movable
    assert planned.settings == (attr.DUO_IKEY, attr.DUO_REMEMBER)
    assert planned.to_json() == {
        "client": "globex",
        "from": "realm globex",
        "to": "organization globex of realm acme",
        "settings": [attr.DUO_IKEY, attr.DUO_REMEMBER],
        "users": ["ann"],
        "movable": True,
        "refused": [],
    }
    [body] = planned.new_users
    assert body == {
        "username": "ann",
        "email": "ann@x.test",
        "emailVerified": True,
        "enabled": True,
        "groups": ["/ops"],
        "credentials": [{"type": "password", "secretData": "{}", "credentialData": "{}"}],
    }


def test_every_reason_is_listed() -> None:
    """Each feature an organization cannot carry is refused with its own reason, all of them
    at once."""
    refused = plan_to_organization(
        source(
            attributes={attr.DUO_APPS: '{"gone": "required"}', attr.DUO_ASSURANCE: "step-up"},
            clients=("account", "payroll"),
            identity_providers=("google",),
            custom_flows=("my-browser",),
            federation=("ldap",),
            roles=("auditor", "offline_access"),
            users=(SourceUser({"username": "ann"}, ("/ops",), ("password",), ("manage-realm",)),),
            groups=("/ops", "/finance"),
            problems=("kdb.duo.skey: does not decrypt",),
        ),
        partner(organization_exists=True),
    ).refusals
    texts = "\n".join(refused)
    for reason in (
        "does not decrypt",
        "already has an organization 'globex'",
        "applications of its own (payroll)",
        "identity providers (google)",
        "authentication flows of its own (my-browser)",
        "user federation (ldap)",
        "has realm roles of its own (auditor)",
        "users ann administer realm 'globex'",
        "lacks the groups /finance",
        "sets kdb.duo.assurance",
        "has no application gone",
        "kc.sh export --dir DIR --realm globex --users same_file",
    ):
        assert reason in texts
    assert len(refused) == 12


def test_users_that_clash_or_would_lose_their_duo_enrolment_are_refused() -> None:
    """A username or email taken in the partner realm, a Duo name the partner's mapping
    would change, and an export that lacks a user's credentials are each refused."""
    users = (
        user("ann", "otp", email="ann@x.test"),
        user("bob", email="bob@x.test"),
        user("cy"),
    )
    refused = plan_to_organization(
        source(users=users, groups=()),
        partner(
            username_mapping=UsernameMapping.EMAIL,
            taken_usernames=frozenset({"ann"}),
            taken_emails=frozenset({"bob@x.test"}),
        ),
        {"ann": (PASSWORD,)},
    ).refusals
    assert refused[0] == "username 'ann' already exists in realm 'acme'"
    assert len(refused) == 6
    texts = "\n".join(refused)
    assert "email 'bob@x.test' already exists in realm 'acme'" in texts
    assert "user 'ann' is 'ann' at Duo and would be 'ann@x.test'" in texts
    assert "user 'cy' is 'cy' at Duo and would be None" in texts
    assert "gives user 'ann' credentials ['password'], realm 'globex' has ['otp']" in texts


def test_an_export_without_the_user_gives_none() -> None:
    """A user missing from the export file is refused, saying the file gives them none."""
    refused = plan_to_organization(source(), partner(), {}).refusals
    assert refused == (
        (
            "the export file gives user 'ann' credentials none, realm 'globex' has"
            " ['password']: export again"
        ),
    )


def test_export_files_of_each_kc_sh_layout_are_read() -> None:
    """A users file, a realm file and a list of realms are read, by lower-cased username;
    another realm's file, one without users and one that is no JSON are refused."""
    users = [{"username": "Ann", "credentials": [PASSWORD]}, {"username": "bob"}]
    for data in (
        {"realm": "globex", "users": users},
        [{"realm": "other"}, {"realm": "globex", "users": users}],
    ):
        assert exported_credentials(data, "globex") == {
            "ann": ({"type": "password", "secretData": "{}", "credentialData": "{}"},),
            "bob": (),
        }
    assert read_export(json.dumps({"realm": "globex", "users": []}), "globex") == {}
    for bad in ({"realm": "other", "users": users}, {"realm": "globex"}, ["x"]):
        with pytest.raises(ConfigError, match="no users of realm 'globex'"):
            exported_credentials(bad, "globex")
    with pytest.raises(ConfigError, match="not JSON"):
        read_export("{", "globex")


def organization(**changes: object) -> ClientOrganization:
    fields: dict[str, object] = {
        "name": "initech",
        "partner": "acme",
        "attributes": {attr.TENANT_KIND: "client", attr.DUO_IKEY: "DI2", attr.RESOLVED: "r"},
        "partner_mapping": UsernameMapping.USERNAME,
        "members": (user("milton", "password"),),
    }
    return ClientOrganization(**{**fields, **changes})  # type: ignore[arg-type]


def test_an_organization_moves_back_to_a_realm_with_its_members() -> None:
    """A plain organization moves to a new client realm: its Duo settings and members, with
    their exported credentials from the partner realm."""
    export = {"realm": "acme", "users": [{"username": "milton", "credentials": [PASSWORD]}]}
    planned = plan_to_realm(
        organization(),
        NewRealm("initech", UsernameMapping.USERNAME),
        exported_credentials(export, "acme"),
    )
    assert planned.movable
    assert planned.source == "organization initech of realm acme"
    assert planned.destination == "realm initech"
    assert planned.settings == (attr.DUO_IKEY,)
    assert [b["credentials"][0]["type"] for b in planned.new_users] == ["password"]


def test_what_a_new_realm_cannot_carry_is_refused() -> None:
    """A realm of that name; members of other organizations, in the partner's groups, its
    administrators or brokered through its identity providers; application modes for the
    partner's applications; a Duo name that would change and a missing export: each refused."""
    refused = plan_to_realm(
        organization(
            attributes={attr.DUO_APPS: '{"demo-app": "off", "account-console": "required"}'},
            members=(
                user("milton", "password", groups=("/ops",)),
                SourceUser({"username": "bob"}, (), (), ("view-users",), ("google",)),
            ),
            elsewhere={"bob": ("globex",)},
            problems=("kdb.duo.skey: does not open",),
        ),
        NewRealm("initech", UsernameMapping.REALM_QUALIFIED, exists=True),
    ).refusals
    texts = "\n".join(refused)
    for reason in (
        "does not open",
        "a realm named 'initech' exists already",
        "user 'bob' is also a member of organization(s) globex",
        "user 'milton' is in groups /ops of realm 'acme'",
        "applications of realm 'acme' (demo-app)",
        "kc.sh export --dir DIR --realm acme --users same_file",
        "user 'milton' is 'milton' at Duo and would be 'initech:milton'",
        "user 'bob' administers realm 'acme'",
        "user 'bob' signs in through identity provider(s) google of realm 'acme'",
    ):
        assert reason in texts
    assert len(refused) == 10
