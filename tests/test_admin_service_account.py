"""The admin service logs in with its own service account when one is configured."""

from __future__ import annotations

from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.settings import load_settings


def test_client_credentials_take_precedence_over_a_password() -> None:
    """With KDB_KEYCLOAK_ADMIN_CLIENT_ID/_SECRET set, the adapter uses the client-credentials
    grant as that client, and names it (never the secret) in its repr and errors."""
    settings = load_settings(
        keycloak_url="http://127.0.0.1:9",
        keycloak_admin_client_id="kdb-admin-service",
        keycloak_admin_client_secret="s3cret-value",
        keycloak_admin_password="unused-password",
    )
    keycloak = Keycloak.from_settings(settings)
    assert keycloak.username == "service account kdb-admin-service"
    assert "s3cret-value" not in repr(keycloak)
    connection = keycloak._admin.connection
    assert (connection.client_id, connection.grant_type) == (
        "kdb-admin-service",
        "client_credentials",
    )
    assert "KDB_KEYCLOAK_ADMIN_CLIENT_ID" in str(keycloak._auth_error())
