"""Our Admin and Accounts API client against the running emulator: calls, paging, refusals."""

from __future__ import annotations

import httpx2
import pytest
from duo_universal.client import Client

from keycloak_duo_bridge.duo.accounts_api import AccountsApi, ChildAccount, child_host
from keycloak_duo_bridge.duo.admin_api import AdminApi, Application, NewApplication
from keycloak_duo_bridge.duo.rest_client import RestClient, RestCredentials, RestOptions
from keycloak_duo_bridge.duo.rest_protocol import Api
from keycloak_duo_bridge.emulator import RunningEmulator
from keycloak_duo_bridge.errors import (
    DuoApiError,
    DuoConfigError,
    DuoNotFoundError,
    DuoPermissionError,
    DuoUnavailableError,
)
from tests.fixtures_provisioning import MakeRestCreds

pytestmark = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")


def test_create_read_list_delete_an_application(
    duo_emulator: RunningEmulator, duo_rest_creds: MakeRestCreds, duo_rest_options: RestOptions
) -> None:
    """A Web SDK application made through our client works in the prompt, then is deleted."""
    creds = duo_rest_creds(Api.ADMIN)
    with RestClient(creds, duo_rest_options) as rest:
        admin = AdminApi(rest)
        made = admin.create_application(NewApplication("Acme SSO"))
        assert made.integration_key.startswith("DI")
        assert admin.get_application(made.integration_key) == made
        assert made in admin.list_applications()
        secret = admin.secret_key(made.integration_key)
        assert secret not in repr(admin)
        duo = Client(
            made.integration_key,
            secret,
            duo_emulator.api_host,
            "https://rp.example/cb",
            duo_certs=str(duo_emulator.ca_path),
        )
        assert duo.health_check()["stat"] == "OK"
        admin.delete_application(made.integration_key)
        with pytest.raises(DuoNotFoundError, match="find the application"):
            admin.get_application(made.integration_key)


def test_paging_follows_next_offset(
    duo_rest_creds: MakeRestCreds, duo_rest_options: RestOptions, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Listing follows Duo's next_offset across pages until the last."""
    monkeypatch.setattr("keycloak_duo_bridge.duo.rest_client.PAGE_LIMIT", 1)
    with RestClient(duo_rest_creds(Api.ADMIN), duo_rest_options) as rest:
        admin = AdminApi(rest)
        made = [admin.create_application(NewApplication(f"app {n}")) for n in range(3)]
        assert set(made) <= set(admin.list_applications())


def test_child_accounts_and_their_applications(
    duo_emulator: RunningEmulator, duo_rest_creds: MakeRestCreds, duo_rest_options: RestOptions
) -> None:
    """A child account is created and listed; the Admin API acts in it; deleting removes all."""
    creds = duo_rest_creds(Api.ACCOUNTS)
    with RestClient(creds, duo_rest_options) as rest:
        accounts = AccountsApi(rest, duo_rest_options)
        assert creds.skey not in repr(accounts)
        child = accounts.create_account("Globex")
        assert child in accounts.list_accounts()  # the main account's children are shared
        with accounts.admin_in(child).rest as in_child:
            app = AdminApi(in_child).create_application(NewApplication("Globex SSO"))
            assert in_child.creds.api_host == child_host(child.api_hostname, creds.api_host)
        assert duo_emulator.state.integration(app.integration_key) is not None
        accounts.delete_account(child.account_id)
        assert child not in accounts.list_accounts()
        assert duo_emulator.state.integration(app.integration_key) is None


def test_child_host_borrows_the_parents_port() -> None:
    """Duo's hosts have no port: a parent host with one lends it; otherwise unchanged."""
    assert child_host("localhost", "localhost:8443") == "localhost:8443"
    assert child_host("api-1.duosecurity.com", "api-0.duosecurity.com") == "api-1.duosecurity.com"
    assert child_host("h:1", "p:2") == "h:1"


def test_missing_permission_is_named(
    duo_rest_creds: MakeRestCreds, duo_rest_options: RestOptions
) -> None:
    """An Admin API application without 'Grant applications' gets a refusal naming it."""
    creds = duo_rest_creds(Api.ADMIN, permissions=["adminapi_read_resource"])
    with (
        RestClient(creds, duo_rest_options) as rest,
        pytest.raises(DuoPermissionError, match="'Grant applications'"),
    ):
        AdminApi(rest).create_application(NewApplication("x"))


def test_plan_without_the_admin_api(
    duo_rest_creds: MakeRestCreds, duo_rest_options: RestOptions
) -> None:
    """A plan without the Admin API is named as such."""
    creds = duo_rest_creds(Api.ADMIN, refusal="admin_api_not_in_plan")
    with (
        RestClient(creds, duo_rest_options) as rest,
        pytest.raises(DuoPermissionError, match="paid editions"),
    ):
        AdminApi(rest).list_applications()


def test_accounts_api_not_enabled(
    duo_rest_creds: MakeRestCreds, duo_rest_options: RestOptions
) -> None:
    """An account without the Accounts API is told it is for providers."""
    creds = duo_rest_creds(Api.ACCOUNTS, refusal="accounts_api_not_enabled")
    with (
        RestClient(creds, duo_rest_options) as rest,
        pytest.raises(DuoPermissionError, match="managed-service providers"),
    ):
        AccountsApi(rest, duo_rest_options).create_account("x")


def test_wrong_secret_and_odd_answers(
    duo_rest_creds: MakeRestCreds, duo_rest_options: RestOptions
) -> None:
    """A wrong skey is a credentials error; answers of the wrong shape are refused."""
    good = duo_rest_creds(Api.ADMIN)
    bad = RestCredentials(good.ikey, "x" * 40, good.api_host, Api.ADMIN)
    with (
        RestClient(bad, duo_rest_options) as rest,
        pytest.raises(DuoConfigError, match="rejected the Admin API credentials"),
    ):
        AdminApi(rest).list_applications()
    with pytest.raises(DuoApiError, match="not an application"):
        Application.of({"name": "no key"})
    with pytest.raises(DuoApiError, match="not a child account"):
        ChildAccount.of([])


def test_secret_key_answer_without_a_key(duo_rest_options: RestOptions) -> None:
    """An answer without secret_key is refused rather than stored."""

    def handler(_request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, json={"stat": "OK", "response": {}})

    creds = RestCredentials("D" * 20, "s" * 40, "api-1.duosecurity.com", Api.ADMIN)
    options = RestOptions(transport=httpx2.MockTransport(handler))
    with RestClient(creds, options) as rest, pytest.raises(DuoApiError, match="has none"):
        AdminApi(rest).secret_key("DI")


@pytest.mark.parametrize(
    ("error", "said"),
    [(httpx2.ReadTimeout("slow"), "in time"), (httpx2.ConnectError("down"), "cannot be reached")],
)
def test_transport_failures_are_outages(error: Exception, said: str) -> None:
    """Timeouts and unreachable hosts become DuoUnavailableError, naming the host."""

    def handler(_request: httpx2.Request) -> httpx2.Response:
        raise error

    creds = RestCredentials("D" * 20, "s" * 40, "api-1.duosecurity.com", Api.ACCOUNTS)
    with RestClient(creds, RestOptions(transport=httpx2.MockTransport(handler))) as rest:
        assert "api-1.duosecurity.com" in repr(rest)
        with pytest.raises(DuoUnavailableError, match=said):
            AccountsApi(rest, RestOptions()).list_accounts()
