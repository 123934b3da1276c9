"""Duo Security two-factor for Keycloak, per tenant."""

__version__ = "0.1.0"
