"""The unmodified official ``duo_client.Admin`` against the emulator's Admin API (#17)."""

from __future__ import annotations

from typing import Any

import duo_client
import pytest
from duo_universal.client import Client

from keycloak_duo_bridge.emulator import IntegrationCredentials, RunningEmulator
from keycloak_duo_bridge.emulator.client import ApiCredentials
from tests.emulator.conftest import RestClients
from tests.emulator.helpers import REDIRECT_URI, follow_to_callback, http

# duo_client 5.7's https_wrapper builds ssl.SSLContext(ssl.PROTOCOL_TLS), which Python
# deprecates, and duo_universal's PyJWT warns about Duo's 40-character secrets; both clients
# are used unmodified, so only those two warnings are ignored.
pytestmark = [
    pytest.mark.filterwarnings("ignore:ssl.PROTOCOL_TLS is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning"),
]

PHONE = "+14155550188"


@pytest.fixture
def admin(rest: RestClients, admin_creds: ApiCredentials) -> duo_client.Admin:
    """An official Admin API client with every permission."""
    return rest.make(duo_client.Admin, admin_creds)


@pytest.fixture
def auth(rest: RestClients, auth_creds: ApiCredentials) -> duo_client.Auth:
    """An official Auth API client."""
    return rest.make(duo_client.Auth, auth_creds)


def _paged(client: duo_client.Admin, path: str, limit: int, offset: int) -> tuple[Any, Any]:
    response, data = client.api_call("GET", path, {"limit": str(limit), "offset": str(offset)})
    objects, metadata = client.parse_json_response_and_metadata(response, data)
    return objects, metadata


# integrations ---------------------------------------------------------------------------
def test_web_sdk_integration_made_here_works_in_the_prompt_at_once(
    duo_emulator: RunningEmulator, admin: duo_client.Admin, username: str
) -> None:
    """create_integration(websdk) + get_secret_key give credentials duo_universal can use."""
    app = admin.create_integration(name="Acme portal", integration_type="websdk")
    assert app["type"] == "websdk"
    assert app["name"] == "Acme portal"
    assert "secret_key" not in app
    secret = admin.get_secret_key(app["integration_key"])["secret_key"]
    client = Client(
        app["integration_key"],
        secret,
        duo_emulator.api_host,
        REDIRECT_URI,
        duo_certs=str(duo_emulator.ca_path),
    )
    assert client.health_check()["stat"] == "OK"
    duo_emulator.control.set_user(username, behavior="allow", enrolled=True, phone=PHONE)
    state = client.generate_state()
    callback = follow_to_callback(duo_emulator, client.create_auth_url(username, state))
    claims = client.exchange_authorization_code_for_2fa_result(
        callback.params["duo_code"], username
    )
    assert claims["auth_result"]["status"] == "allow"


def test_integration_read_update_delete(admin: duo_client.Admin) -> None:
    """get, list, update (name, policy, new secret) and delete an integration."""
    app = admin.create_integration(name="One", integration_type="websdk", enroll_policy="deny")
    ikey = app["integration_key"]
    assert admin.get_integration(ikey)["enroll_policy"] == "deny"
    assert ikey in {i["integration_key"] for i in admin.get_integrations()}
    old = admin.get_secret_key(ikey)["secret_key"]
    updated = admin.update_integration(ikey, name="Two", enroll_policy="allow", reset_secret_key=1)
    assert (updated["name"], updated["enroll_policy"]) == ("Two", "allow")
    assert admin.get_secret_key(ikey)["secret_key"] != old
    assert admin.delete_integration(ikey) == ""
    with pytest.raises(RuntimeError, match=r"^Received 404 Resource not found \(integration\)$"):
        admin.get_integration(ikey)


def test_auth_api_integration_made_here_opens_the_auth_api(
    rest: RestClients, admin: duo_client.Admin, admin_creds: ApiCredentials
) -> None:
    """An "authapi" integration created here signs Auth API calls at once."""
    app = admin.create_integration(name="Push", integration_type="authapi")
    secret = admin.get_secret_key(app["integration_key"])["secret_key"]
    creds = ApiCredentials(app["integration_key"], secret, admin_creds.api_host, "authapi")
    assert "time" in rest.make(duo_client.Auth, creds).check()
    renamed = admin.update_integration(app["integration_key"], name="Push 2", reset_secret_key=1)
    assert renamed["name"] == "Push 2"
    with pytest.raises(RuntimeError, match="Invalid signature"):
        rest.make(duo_client.Auth, creds).check()
    admin.delete_integration(app["integration_key"])
    with pytest.raises(RuntimeError, match="Invalid integration key"):
        rest.make(duo_client.Auth, creds).check()


def test_admin_api_integration_carries_its_permission_flags(
    rest: RestClients, admin: duo_client.Admin, admin_creds: ApiCredentials
) -> None:
    """An "adminapi" integration gets the flags it was made with; update changes them."""
    app = admin.create_integration(
        name="Reader", integration_type="adminapi", adminapi_read_resource=True
    )
    assert app["adminapi_read_resource"] == 1
    assert app["adminapi_write_resource"] == 0
    secret = admin.get_secret_key(app["integration_key"])["secret_key"]
    reader = rest.make(
        duo_client.Admin,
        ApiCredentials(app["integration_key"], secret, admin_creds.api_host, "adminapi"),
    )
    assert isinstance(reader.get_users(limit=1), list)
    with pytest.raises(RuntimeError, match="adminapi_write_resource"):
        reader.add_user("never-made")
    app = admin.update_integration(app["integration_key"], adminapi_write_resource=True)
    assert app["adminapi_write_resource"] == 1
    app = admin.update_integration(app["integration_key"], adminapi_read_resource=False)
    assert app["adminapi_read_resource"] == 0


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"type": "websdk"}, r"Missing required request parameters \(name\)"),
        ({"name": "x"}, r"Missing required request parameters \(type\)"),
        ({"name": "x", "type": "rdp"}, r"Invalid request parameters \(type\)"),
        (
            {"name": "x", "type": "websdk", "enroll_policy": "maybe"},
            r"Invalid request parameters \(enroll_policy\)",
        ),
        (
            {"name": "x", "type": "adminapi", "adminapi_read_resource": "yes"},
            r"Invalid request parameters \(adminapi_read_resource\)",
        ),
    ],
)
def test_create_integration_refuses_bad_parameters(
    admin: duo_client.Admin, params: dict[str, str], message: str
) -> None:
    """Missing or invalid integration parameters get Duo's 400 errors."""
    with pytest.raises(RuntimeError, match=message):
        admin.json_api_call("POST", "/admin/v3/integrations", params)


def test_integrations_page(duo_emulator: RunningEmulator, admin: duo_client.Admin) -> None:
    """limit/offset page the list with total_objects and next_offset/prev_offset."""
    for n in range(3):
        admin.create_integration(name=f"paged {n}", integration_type="websdk")
    everything = admin.get_integrations()
    total = len(everything)
    first, meta = _paged(admin, "/admin/v3/integrations", 2, 0)
    assert len(first) == 2
    assert meta == {"total_objects": total, "next_offset": 2}
    last, meta = _paged(admin, "/admin/v3/integrations", 2, total - 1)
    assert len(last) == 1
    assert meta == {"total_objects": total, "prev_offset": total - 3}
    assert first + last != []
    with pytest.raises(RuntimeError, match=r"Invalid request parameters \(limit\)"):
        _paged(admin, "/admin/v3/integrations", 0, 0)
    with pytest.raises(RuntimeError, match=r"Invalid request parameters \(offset\)"):
        _paged(admin, "/admin/v3/integrations", 1, -1)
    for bad in ("limit", "offset"):
        with pytest.raises(RuntimeError, match=rf"Invalid request parameters \({bad}\)"):
            admin.json_api_call("GET", "/admin/v3/integrations", {bad: "many"})
    assert duo_emulator.control.events()


# users and phones -----------------------------------------------------------------------
def test_users(admin: duo_client.Admin, username: str) -> None:
    """add_user, get_users_by_name, get_user_by_id, paged get_users and delete_user."""
    user = admin.add_user(username)
    assert user["username"] == username
    assert user["user_id"].startswith("DU")
    assert user["is_enrolled"] is False
    assert admin.get_users_by_name(username) == [user]
    assert admin.get_users_by_name(f"{username}-nobody") == []
    assert admin.get_user_by_id(user["user_id"]) == user
    assert user in admin.get_users()
    with pytest.raises(RuntimeError, match=r"^Received 400 Duplicate resource \(username\)$"):
        admin.add_user(username)
    with pytest.raises(RuntimeError, match=r"Missing required request parameters \(username\)"):
        admin.json_api_call("POST", "/admin/v1/users", {})
    assert admin.delete_user(user["user_id"]) == ""
    assert admin.delete_user(user["user_id"]) == ""  # already gone: does nothing
    with pytest.raises(RuntimeError, match=r"^Received 404 Resource not found \(user\)$"):
        admin.get_user_by_id(user["user_id"])


def test_phone_attached_here_is_the_users_device_everywhere(
    duo_emulator: RunningEmulator,
    admin: duo_client.Admin,
    auth: duo_client.Auth,
    duo_integration: IntegrationCredentials,
    username: str,
) -> None:
    """A phone made and attached through the Admin API is listed by preauth and the prompt."""
    user = admin.add_user(username)
    phone = admin.add_phone(number="+1 (415) 555-0188", type="mobile", platform="Apple iOS")
    assert phone["number"] == PHONE
    assert admin.get_phone_by_id(phone["phone_id"]) == phone
    assert admin.add_user_phone(user["user_id"], phone["phone_id"]) == ""
    assert [p["phone_id"] for p in admin.get_user_phones(user["user_id"])] == [phone["phone_id"]]
    assert admin.get_user_by_id(user["user_id"])["is_enrolled"] is True
    assert admin.get_phones_by_number(PHONE)[0]["users"] == [user["user_id"]]

    [device] = auth.preauth(username=username)["devices"]
    assert device["device"] == phone["phone_id"]
    assert device["number"] == "XXX-XXX-0188"

    client = Client(
        duo_integration.client_id,
        duo_integration.client_secret,
        duo_emulator.api_host,
        REDIRECT_URI,
        duo_certs=str(duo_emulator.ca_path),
    )
    url = client.create_auth_url(username, client.generate_state())
    with http(duo_emulator.ca_path) as browser:
        prompt = browser.get(url, follow_redirects=True)
    assert "XXX-XXX-0188" in prompt.text

    assert admin.delete_phone(phone["phone_id"]) == ""
    assert admin.delete_phone(phone["phone_id"]) == ""  # already gone: does nothing
    assert admin.get_user_by_id(user["user_id"])["is_enrolled"] is False
    assert admin.get_user_phones(user["user_id"]) == []


def test_phones_list_and_refusals(admin: duo_client.Admin, username: str) -> None:
    """get_phones pages; bad numbers, unknown phones and users get Duo's errors."""
    made = [admin.add_phone(number=f"+1415555{n:04d}") for n in range(3)]
    listed = admin.get_phones()
    assert all(p in listed for p in made)
    page, meta = _paged(admin, "/admin/v1/phones", 1, 0)
    assert len(page) == 1
    assert meta["total_objects"] == len(listed)
    with pytest.raises(RuntimeError, match=r"Invalid request parameters \(number\)"):
        admin.add_phone(number="0612345678")
    with pytest.raises(RuntimeError, match=r"Resource not found \(phone\)"):
        admin.get_phone_by_id("DPNOSUCHPHONE0000000")
    user = admin.add_user(username)
    with pytest.raises(RuntimeError, match=r"Invalid request parameters \(phone_id\)"):
        admin.add_user_phone(user["user_id"], "DPNOSUCHPHONE0000000")
    with pytest.raises(RuntimeError, match=r"Missing required request parameters \(phone_id\)"):
        admin.json_api_call("POST", f"/admin/v1/users/{user['user_id']}/phones", {})
    with pytest.raises(RuntimeError, match=r"Resource not found \(user\)"):
        admin.add_user_phone("DUNOSUCHUSER00000000", made[0]["phone_id"])
    paged_phones, _ = _paged(admin, f"/admin/v1/users/{user['user_id']}/phones", 5, 0)
    assert paged_phones == []


def test_prompt_enrolled_phone_shows_in_the_user(
    duo_emulator: RunningEmulator, admin: duo_client.Admin, username: str
) -> None:
    """A phone enrolled in the prompt (or by the control API) is the user's phone here."""
    made = duo_emulator.control.set_user(username, enrolled=True, phone=PHONE)
    [user] = admin.get_users_by_name(username)
    assert user["phones"][0]["phone_id"] == made["device_key"]
    assert user["phones"][0]["number"] == PHONE


def test_send_sms_activation(duo_emulator: RunningEmulator, admin: duo_client.Admin) -> None:
    """send_sms_activation_to_phone answers the activation message, URL and validity."""
    phone = admin.add_phone(number=PHONE)
    sent = admin.send_sms_activation_to_phone(phone["phone_id"], valid_secs=3600, install=1)
    assert sent["valid_secs"] == 3600
    assert sent["activation_msg"].startswith("To activate the Duo Mobile app, click this link: ")
    assert sent["activation_barcode"].startswith("https://")
    assert "installation_msg" in sent
    plain = admin.send_sms_activation_to_phone(phone["phone_id"])
    assert plain["valid_secs"] == 86400
    assert "installation_msg" not in plain
    assert duo_emulator.state.rest.phone(phone["phone_id"]).sms_activations == 2  # type: ignore[union-attr]
    with pytest.raises(RuntimeError, match=r"Invalid request parameters \(valid_secs\)"):
        admin.send_sms_activation_to_phone(phone["phone_id"], valid_secs="soon")
    numberless = admin.add_phone(name="landline without a number")
    with pytest.raises(RuntimeError, match="phone has no number"):
        admin.send_sms_activation_to_phone(numberless["phone_id"])
    with pytest.raises(RuntimeError, match=r"Resource not found \(phone\)"):
        admin.send_sms_activation_to_phone("DPNOSUCHPHONE0000000")


# permissions and refusals -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("call", "permission", "grant"),
    [
        (lambda a: a.get_users(), "adminapi_read_resource", "grant_read_resource"),
        (lambda a: a.get_phones(), "adminapi_read_resource", "grant_read_resource"),
        (lambda a: a.add_user("never-made"), "adminapi_write_resource", "grant_write_resource"),
        (lambda a: a.add_phone(number=PHONE), "adminapi_write_resource", "grant_write_resource"),
        (lambda a: a.get_integrations(), "adminapi_integrations", "grant_applications"),
        (
            lambda a: a.create_integration("x", "websdk"),
            "adminapi_integrations",
            "grant_applications",
        ),
    ],
    ids=["get_users", "get_phones", "add_user", "add_phone", "get_integrations", "create"],
)
def test_missing_permission_is_refused_by_name(
    duo_emulator: RunningEmulator, rest: RestClients, call: Any, permission: str, grant: str
) -> None:
    """An Admin API integration without a permission gets 403 40301 naming it."""
    creds = duo_emulator.control.add_api_credentials("adminapi", permissions=[])
    with pytest.raises(RuntimeError) as caught:
        call(rest.make(duo_client.Admin, creds))
    assert str(caught.value) == (
        f"Received 403 Access forbidden (this integration lacks the {permission} permission"
        f" ({grant}))"
    )


def test_plan_without_admin_api_is_refused(
    duo_emulator: RunningEmulator, rest: RestClients
) -> None:
    """Scripted refusal: the plan does not include the Admin API (403 40301)."""
    creds = duo_emulator.control.add_api_credentials("adminapi", refusal="admin_api_not_in_plan")
    with pytest.raises(RuntimeError) as caught:
        rest.make(duo_client.Admin, creds).get_users()
    assert str(caught.value) == (
        "Received 403 Access forbidden (Your Duo plan does not include the Admin API.)"
    )


def test_auth_api_keys_do_not_open_the_admin_api(
    rest: RestClients, auth_creds: ApiCredentials
) -> None:
    """Auth API keys on the Admin API get 401 40102, as Duo answers a wrong-kind ikey."""
    with pytest.raises(RuntimeError, match="Received 401 Invalid integration key"):
        rest.make(duo_client.Admin, auth_creds).get_users()


def test_admin_keys_cannot_act_in_another_account(
    rest: RestClients, admin_creds: ApiCredentials
) -> None:
    """Only Accounts API keys may name an account_id (400 40002 otherwise)."""
    admin = rest.make(duo_client.Admin, admin_creds)
    admin.account_id = "DANOSUCHACCOUNT00000"
    with pytest.raises(RuntimeError, match=r"Invalid request parameters \(account_id\)"):
        admin.get_users()


def test_deleting_an_old_phone_keeps_the_current_device(
    admin: duo_client.Admin, username: str
) -> None:
    """Deleting a user's old phone keeps the new one; a deleted user's phone deletes cleanly."""
    user = admin.add_user(username)
    old = admin.add_phone(number="+14155550101")
    new = admin.add_phone(number="+14155550102")
    admin.add_user_phone(user["user_id"], old["phone_id"])
    admin.add_user_phone(user["user_id"], new["phone_id"])
    admin.delete_phone(old["phone_id"])
    current = admin.get_user_by_id(user["user_id"])
    assert current["is_enrolled"] is True
    assert [p["phone_id"] for p in current["phones"]] == [new["phone_id"]]
    admin.delete_user(user["user_id"])
    assert admin.delete_phone(new["phone_id"]) == ""
