"""The bridge's browser pages: the admin console (``/admin``) and Duo self-service
(``/account/duo``), rendered on the server with Jinja2, without JavaScript.

People sign in through their own Keycloak realm (authorization code + PKCE, confidential
client ``kdb-console``; see :mod:`keycloak_duo_bridge.admin.console_client`). What an
administrator may manage follows the admin REST API's rules (:mod:`keycloak_duo_bridge.api.auth`).

:mod:`.app` holds the plumbing both parts share and :func:`.app.create_mounts`, which the
composition root (:mod:`keycloak_duo_bridge.app`) mounts; :mod:`.admin` and :mod:`.account`
are the two parts' pages, :mod:`.oidc` the sign-in, :mod:`.state` the sealed cookies.
"""
