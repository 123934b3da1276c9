"""Fleet operations: a declarative tenant file, and plan / apply / export against Keycloak.

* :mod:`.spec` reads and validates the tenant file (YAML, line-numbered errors);
* :mod:`.live` reads what Keycloak holds for the declared realms;
* :mod:`.plan` compares the two, purely;
* :mod:`.apply` converges Keycloak with the admin service's own functions, in parallel;
* :mod:`.export` writes live Keycloak out as a tenant file, secrets as references.

Where it sits: above the admin service, whose functions it calls; only the CLI imports it.
"""
