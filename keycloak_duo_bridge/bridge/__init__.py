"""The step-up bridge: verifies Keycloak's request, runs Duo, signs the verdict."""
