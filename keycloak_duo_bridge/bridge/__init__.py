"""The step-up bridge: verifies Keycloak's request, runs Duo, signs the verdict.

* :mod:`.app` - the step-up routes and operations' endpoints, on what :class:`.app.StepUpServices`
  names (the composition root, :mod:`keycloak_duo_bridge.app`, provides it);
* :mod:`.tokens` - the request token in, the verdict out;
* :mod:`.cookie` - the pending step-up, sealed in a cookie;
* :mod:`.realms` - realm settings and keys from Keycloak, cached by fingerprint;
* :mod:`.health` - Duo's health check behind a circuit breaker;
* :mod:`.metrics` - the Prometheus metrics;
* :mod:`.pages` - the pages a browser sees when it must start again.
"""
