"""The Keycloak adapter's naming rule tells its writes from its reads."""

from __future__ import annotations

from tests.keycloak_writes import write_methods


def test_every_write_of_the_adapter_is_found_by_its_name() -> None:
    """The methods that change Keycloak are the public ones that neither get, find nor ask."""
    assert write_methods() == (
        "add_client_default_scope",
        "add_client_scope_mapper",
        "add_default_client_scope",
        "add_execution_config",
        "add_flow_execution",
        "add_organization_member",
        "add_subflow",
        "create_client",
        "create_client_scope",
        "create_component",
        "create_flow",
        "create_organization",
        "create_realm",
        "create_user",
        "delete_client_scope",
        "delete_flow",
        "delete_organization",
        "delete_realm",
        "delete_required_action",
        "delete_user",
        "grant_realm_view",
        "register_required_action",
        "remove_client_default_scope",
        "remove_default_client_scope",
        "update_authenticator_config",
        "update_client",
        "update_flow_execution",
        "update_organization",
        "update_realm",
        "update_required_action",
        "update_user",
        "update_user_profile",
    )
