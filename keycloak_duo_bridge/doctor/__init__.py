"""``keycloak-duo-bridge doctor``: check a live deployment from the bridge's point of view.

:mod:`.checks` judges facts (pure functions), :mod:`.probe` gathers them over HTTP, and
:func:`~.run.diagnose` puts the two together into the report's lines.
"""
