"""Duo Security two-factor for Keycloak, per tenant.

:mod:`.app` is the composition root: it alone knows every part (the step-up
:mod:`.bridge`, the admin :mod:`.api`, the :mod:`.console`) and composes the server's
application. The top-level modules are what the parts share; see the README's layout.
"""

__version__ = "0.1.0"
