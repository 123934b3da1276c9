"""The grace after `duo rotate` (pure): the replaced application finishes only logins that
started with it, and only until its deadline."""

from __future__ import annotations

import json
import time

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.admin.effective import resolve_effective
from keycloak_duo_bridge.bridge.app import duo_credentials
from keycloak_duo_bridge.envelope import KeyRing, generate_key

RING = KeyRing.from_json(json.dumps({"k": generate_key()}), "k")
NEW, OLD = "DI" + "N" * 18, "DI" + "O" * 18


def realm(until: str, **extra: str) -> dict[str, str]:
    return {
        attr.TENANT_KIND: "client",
        attr.DUO_IKEY: NEW,
        attr.DUO_API_HOST: "api-new.duosecurity.com",
        attr.DUO_SKEY: RING.encrypt("n" * 40, realm="acme", attribute=attr.DUO_SKEY),
        attr.DUO_RETIRING_IKEY: OLD,
        attr.DUO_RETIRING_API_HOST: "api-old.duosecurity.com",
        attr.DUO_RETIRING_SKEY: RING.encrypt(
            "o" * 40, realm="acme", attribute=attr.DUO_RETIRING_SKEY
        ),
        attr.DUO_RETIRING_UNTIL: until,
        **extra,
    }


def test_a_login_started_with_the_old_application_finishes_with_it_in_the_grace() -> None:
    """Started with the old ikey and before the deadline: the old keys; otherwise the new."""
    later = str(int(time.time()) + 600)
    effective = resolve_effective(realm(later), realm="acme", realm_id=None)
    old = duo_credentials(RING, effective, started_with=OLD)
    assert (old.ikey, old.skey, old.api_host) == (OLD, "o" * 40, "api-old.duosecurity.com")
    assert duo_credentials(RING, effective, started_with=NEW).ikey == NEW
    assert duo_credentials(RING, effective).ikey == NEW
    assert duo_credentials(RING, effective, started_with="DI" + "X" * 18).ikey == NEW


def test_after_the_deadline_or_without_a_record_the_new_keys() -> None:
    """A passed deadline, a broken one or an incomplete record: the old keys are not used."""
    past = str(int(time.time()) - 1)
    for attributes in (
        realm(past),
        realm("soon"),
        realm(past, **{attr.DUO_RETIRING_SKEY: ""}),
    ):
        effective = resolve_effective(attributes, realm="acme", realm_id=None)
        assert duo_credentials(RING, effective, started_with=OLD).ikey == NEW
    effective = resolve_effective(realm(past), realm="acme", realm_id=None)
    assert effective.retiring_for(OLD, now=0) is not None
    assert effective.retiring_for(OLD, now=time.time()) is None
