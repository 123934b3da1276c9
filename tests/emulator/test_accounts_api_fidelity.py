"""The unmodified official ``duo_client.Accounts`` (and ``Admin`` acting in a child account)
against the emulator's Accounts API (#17)."""

from __future__ import annotations

import duo_client
import pytest
from duo_client.admin import AccountAdmin
from duo_universal.client import Client

from keycloak_duo_bridge.emulator import RunningEmulator
from keycloak_duo_bridge.emulator.accounts_api import api_hostname
from keycloak_duo_bridge.emulator.client import ApiCredentials
from tests.emulator.conftest import RestClients
from tests.emulator.helpers import REDIRECT_URI

# duo_client 5.7's https_wrapper builds ssl.SSLContext(ssl.PROTOCOL_TLS), which Python
# deprecates, and duo_universal's PyJWT warns about Duo's 40-character secrets; both clients
# are used unmodified, so only those two warnings are ignored.
pytestmark = [
    pytest.mark.filterwarnings("ignore:ssl.PROTOCOL_TLS is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning"),
]


@pytest.fixture
def accounts(rest: RestClients, accounts_creds: ApiCredentials) -> duo_client.Accounts:
    """An official Accounts API client of a fresh parent."""
    return rest.make(duo_client.Accounts, accounts_creds)


def test_create_list_delete_child_accounts(accounts: duo_client.Accounts) -> None:
    """create_account, get_child_accounts and delete_account, each child with its API host."""
    child = accounts.create_account("Acme Corp")
    assert child["name"] == "Acme Corp"
    assert child["account_id"].startswith("DA")
    assert child["api_hostname"] == "localhost"
    assert child in accounts.get_child_accounts()  # the session emulator has others' too
    assert duo_client.Accounts.child_map[child["account_id"]] == "localhost"
    assert accounts.delete_account(child["account_id"]) == ""
    assert child not in accounts.get_child_accounts()


def test_account_refusals(accounts: duo_client.Accounts) -> None:
    """No name, no or a foreign account_id get Duo's 400 errors."""
    with pytest.raises(RuntimeError, match=r"Missing required request parameters \(name\)"):
        accounts.json_api_call("POST", "/accounts/v1/account/create", {})
    with pytest.raises(RuntimeError, match=r"Missing required request parameters \(account_id\)"):
        accounts.json_api_call("POST", "/accounts/v1/account/delete", {})
    with pytest.raises(RuntimeError, match=r"Invalid request parameters \(account_id\)"):
        accounts.delete_account("DANOSUCHACCOUNT00000")


def test_official_example_creates_an_integration_in_a_child_account(
    duo_emulator: RunningEmulator, accounts_creds: ApiCredentials, accounts: duo_client.Accounts
) -> None:
    """Duo's create_integration_in_child_account.py runs; its new app works in the prompt."""
    # examples/Accounts/create_integration_in_child_account.py, step by step: the parent's
    # keys, the child's api_hostname, account_id set on the Admin client.
    child = accounts.create_account("Child for the example")
    # As the example: Admin(ikey=parent ikey, skey=parent skey, host=child api-host), then
    # account_client.account_id = child id. The emulator adds only its port and its CA.
    account_client = duo_client.Admin(
        ikey=accounts_creds.ikey,
        skey=accounts_creds.skey,
        host=child["api_hostname"],
        port=accounts_creds.port,
        ca_certs=str(duo_emulator.ca_path),
    )
    account_client.account_id = child["account_id"]
    new_app = account_client.create_integration(name="Acme SSO", integration_type="websdk")
    assert new_app["integration_key"].startswith("DI")

    listed = account_client.get_integrations()
    assert [a["integration_key"] for a in listed] == [new_app["integration_key"]]
    secret = account_client.get_secret_key(new_app["integration_key"])["secret_key"]
    client = Client(
        new_app["integration_key"],
        secret,
        duo_emulator.api_host,
        REDIRECT_URI,
        duo_certs=str(duo_emulator.ca_path),
    )
    assert client.health_check()["stat"] == "OK"

    accounts.delete_account(child["account_id"])
    assert duo_emulator.state.integration(new_app["integration_key"]) is None


def test_account_admin_finds_the_child_host(
    duo_emulator: RunningEmulator, accounts_creds: ApiCredentials, accounts: duo_client.Accounts
) -> None:
    """duo_client's AccountAdmin looks the child's api_hostname up through the Accounts API."""
    child = accounts.create_account("Child for AccountAdmin")
    duo_client.Accounts.child_map.clear()
    admin = AccountAdmin(
        child["account_id"],
        ikey=accounts_creds.ikey,
        skey=accounts_creds.skey,
        host=accounts_creds.host,
        port=accounts_creds.port,
        ca_certs=str(duo_emulator.ca_path),
    )
    made = admin.create_integration(name="Push", integration_type="authapi")
    assert admin.get_integration(made["integration_key"])["type"] == "authapi"
    assert isinstance(admin.get_users(), list)


def test_integrations_stay_in_their_account(
    rest: RestClients,
    accounts: duo_client.Accounts,
    accounts_creds: ApiCredentials,
    admin_creds: ApiCredentials,
) -> None:
    """A child's integrations are invisible from the parent's own Admin API, and back."""
    child = accounts.create_account("Sealed child")
    in_child = rest.make(duo_client.Admin, accounts_creds, host=child["api_hostname"])
    in_child.account_id = child["account_id"]
    made = in_child.create_integration(name="Child app", integration_type="websdk")
    parent_admin = rest.make(duo_client.Admin, admin_creds)
    with pytest.raises(RuntimeError, match=r"Resource not found \(integration\)"):
        parent_admin.get_integration(made["integration_key"])
    with pytest.raises(RuntimeError, match=r"Resource not found \(integration\)"):
        in_child.get_integration(admin_creds.ikey)
    assert accounts_creds.ikey not in {i["integration_key"] for i in in_child.get_integrations()}


def test_accounts_keys_need_a_child_account_for_the_admin_api(
    duo_emulator: RunningEmulator, rest: RestClients, accounts_creds: ApiCredentials
) -> None:
    """Without account_id, or with another parent's child, the Admin API refuses (400)."""
    admin = rest.make(duo_client.Admin, accounts_creds)
    with pytest.raises(RuntimeError, match=r"Invalid request parameters \(account_id"):
        admin.get_users()
    child = rest.make(duo_client.Accounts, accounts_creds).create_account("Reseller")
    reseller = duo_emulator.control.add_api_credentials(
        "accountsapi", account_id=child["account_id"]
    )
    foreign = rest.make(duo_client.Accounts, reseller).create_account("Reseller's client")
    admin.account_id = foreign["account_id"]
    with pytest.raises(RuntimeError, match=r"Invalid request parameters \(account_id\)"):
        admin.get_users()


def test_accounts_api_not_enabled_is_refused(
    duo_emulator: RunningEmulator, rest: RestClients
) -> None:
    """Scripted refusal: the Accounts API is not enabled for the account (403 40301)."""
    creds = duo_emulator.control.add_api_credentials(
        "accountsapi", refusal="accounts_api_not_enabled"
    )
    with pytest.raises(RuntimeError) as caught:
        rest.make(duo_client.Accounts, creds).get_child_accounts()
    assert str(caught.value) == (
        "Received 403 Access forbidden (The Accounts API is not enabled for this account.)"
    )


def test_child_methods_on_request_are_refused_in_child_accounts_only(
    duo_emulator: RunningEmulator, rest: RestClients
) -> None:
    """Scripted refusal: the parent's own Accounts API works, Admin API methods in a child
    account are refused (403 40301) until Duo enables them on request."""
    creds = duo_emulator.control.add_api_credentials(
        "accountsapi", refusal="child_methods_on_request"
    )
    child = rest.make(duo_client.Accounts, creds).create_account("Not yet enabled")
    in_child = rest.make(duo_client.Admin, creds, host=child["api_hostname"])
    in_child.account_id = child["account_id"]
    with pytest.raises(RuntimeError) as caught:
        in_child.create_integration(name="Refused", integration_type="websdk")
    assert str(caught.value) == (
        "Received 403 Access forbidden (This Admin API method is available for child"
        " accounts only on request to Duo.)"
    )


def test_admin_keys_do_not_open_the_accounts_api(
    rest: RestClients, admin_creds: ApiCredentials
) -> None:
    """Admin API keys on the Accounts API get 401 40102."""
    with pytest.raises(RuntimeError, match="Received 401 Invalid integration key"):
        rest.make(duo_client.Accounts, admin_creds).create_account("x")


@pytest.mark.parametrize(
    ("header", "host"),
    [
        ("localhost:8443", "localhost"),
        ("API-X.Example:443", "api-x.example"),
        ("api-x.example", "api-x.example"),
        ("[::1]:8443", "[::1]"),
        ("[::1]", "[::1]"),
    ],
)
def test_api_hostname_drops_the_port(header: str, host: str) -> None:
    """A child's api_hostname is the Host header's name, lower-cased, without the port."""
    assert api_hostname(header) == host
