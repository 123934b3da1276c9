"""A reference CIBA client (``keycloak-duo-bridge login``): a person's login with Duo Push,
no browser (issue #16). Protocol in :mod:`.protocol`, I/O in :mod:`.client`.

Where it sits: beside the other parts; it talks to Keycloak's public OIDC endpoints only,
and imports nothing of the bridge or the admin service.
"""
