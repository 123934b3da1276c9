"""The admin service: tenants (partner and client realms) and their Duo settings in Keycloak.

One concept per module:

* :mod:`.keycloak` - the only adapter over python-keycloak (errors translated once);
* :mod:`.templates` - realm templates with validated placeholders;
* :mod:`.tenants` - partners and clients;
* :mod:`.duo_settings` - credentials (skey envelope-encrypted), switch and policy;
* :mod:`.wiring` - what "Duo on" adds to a realm: required action, bridge keys, token mappers;
* :mod:`.apps` - the per-application switch, by clientId;
* :mod:`.users` - opt-in activation, declared in the user profile;
* :mod:`.keys` - key rotation and checks of the stored secrets;
* :mod:`.effective` - pure inheritance and decision rules, shared with the bridge;
* :mod:`.explain` - effective settings and decision, with origins.

Where it sits: below every part that serves or drives it (the bridge, the API, the console,
fleet, the CLI); it imports none of them, only the shared top-level modules and :mod:`..duo`.
"""
