"""Duo's request signature (version 5), byte for byte as the official duo_client signs."""

from __future__ import annotations

import base64
import json

import duo_client.client

from keycloak_duo_bridge.duo import signing

IKEY = "DIWJ8X6AEYOR5OMC6TQ1"
SKEY = "Zh5eGmUq9zpfQnyUIu5OL9iWoMMv5ZNmk3zLJ4Ep"
DATE = "Tue, 21 Aug 2012 17:29:18 -0000"


def test_a_post_is_signed_like_duo_client() -> None:
    """A POST's JSON body and header match duo_client's sign() with the same inputs."""
    params = {"name": "Acme SSO", "type": "websdk"}
    call = signing.sign_call(
        ikey=IKEY,
        skey=SKEY,
        host="api-xxxxxxxx.duosecurity.com",
        method="post",
        path="/admin/v3/integrations",
        params=params,
        date=DATE,
    )
    body = json.dumps(params, sort_keys=True, separators=(",", ":"))
    expected = duo_client.client.sign(
        IKEY,
        SKEY,
        "POST",
        "api-xxxxxxxx.duosecurity.com",
        "/admin/v3/integrations",
        DATE,
        5,
        {},
        body=body,
    )
    assert call.headers["Authorization"] == expected
    assert (call.method, call.target, call.body) == ("POST", "/admin/v3/integrations", body)
    assert call.headers["Content-Type"] == "application/json"


def test_a_get_signs_its_query_and_not_the_port() -> None:
    """A GET signs its parameters with an empty body, and the host without its port."""
    params = {"limit": "300", "offset": "0", "q": "a b~c"}
    call = signing.sign_call(
        ikey=IKEY,
        skey=SKEY,
        host="localhost:8443",
        method="GET",
        path="/admin/v1/users",
        params=params,
        date=DATE,
    )
    expected = duo_client.client.sign(
        IKEY,
        SKEY,
        "GET",
        "localhost",
        "/admin/v1/users",
        DATE,
        5,
        duo_client.client.normalize_params(params),
        body="",
    )
    assert call.headers["Authorization"] == expected
    assert call.target == "/admin/v1/users?limit=300&offset=0&q=a+b~c"
    assert call.body == ""
    assert "Content-Type" not in call.headers


def test_no_parameters_and_x_duo_headers() -> None:
    """A bare GET keeps its path; X-Duo-* headers hash like duo_client's, others are ignored."""
    call = signing.sign_call(
        ikey=IKEY, skey=SKEY, host="h.example", method="GET", path="/p", params={}, date=DATE
    )
    assert call.target == "/p"
    headers = {"X-Duo-B": "2", "x-duo-a": "1", "Other": "x"}
    assert signing.canon_x_duo_headers(headers) == duo_client.client.canon_x_duo_headers(
        {"X-Duo-B": "2", "x-duo-a": "1"}
    )


def test_the_secret_stays_out_of_repr() -> None:
    """A signed call's repr shows no Authorization header, and the header decodes to the ikey."""
    call = signing.sign_call(
        ikey=IKEY, skey=SKEY, host="h.example", method="GET", path="/p", params={}, date=DATE
    )
    assert "Basic" not in repr(call)
    decoded = base64.b64decode(call.headers["Authorization"].split()[1]).decode()
    assert decoded.startswith(f"{IKEY}:")
    assert SKEY not in decoded
