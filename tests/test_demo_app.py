"""The demo application against a stand-in Keycloak token endpoint (no Keycloak needed)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from urllib.parse import parse_qs, urlsplit

import httpx2
import jwt
import pytest
from starlette.testclient import TestClient

from keycloak_duo_bridge.sandbox.demo_app import PKCE_COOKIE, SESSION_COOKIE, create_demo_app

KEYCLOAK = "http://keycloak.test"
OIDC = f"{KEYCLOAK}/realms/globex/protocol/openid-connect"
APP = "http://app.test"
DUO = {"result": "allow", "factor": "duo_push"}

Answer = Callable[[httpx2.Request], httpx2.Response]


def id_token(duo: object = DUO) -> str:
    """An ID token as Keycloak would send it (the app does not verify its signature)."""
    claims = {"preferred_username": "alice", "duo": duo}
    return jwt.encode(claims, "k" * 64, algorithm="HS256")


def granted(duo: object = DUO) -> Answer:
    """A token endpoint that accepts the code."""
    return lambda _request: httpx2.Response(200, json={"id_token": id_token(duo)})


@pytest.fixture
def token_answer() -> list[Answer]:
    """What the stand-in token endpoint answers; a test replaces it."""
    return [granted()]


@pytest.fixture
def demo(token_answer: list[Answer]) -> Iterator[TestClient]:
    """The demo app, its Keycloak token endpoint answered by ``token_answer``."""

    def token_endpoint(request: httpx2.Request) -> httpx2.Response:
        return token_answer[0](request)

    app = create_demo_app(
        keycloak_url=KEYCLOAK,
        realm="globex",
        client_id="demo-app",
        redirect_uri=f"{APP}/callback",
        post_logout_redirect_uri=f"{APP}/signed-out",
        transport=httpx2.MockTransport(token_endpoint),
    )
    with TestClient(app, base_url=APP, follow_redirects=False) as client:
        yield client


def sign_in(demo: TestClient) -> httpx2.Response:
    """Start at /login and come back to /callback with a code."""
    start = demo.get("/login")
    assert start.headers["location"].startswith(f"{OIDC}/auth?")
    assert PKCE_COOKIE in start.cookies
    return demo.get("/callback?code=abc")


def test_sign_in_shows_the_duo_claims_after_a_redirect(demo: TestClient) -> None:
    """The callback exchanges the code, then redirects to a page with the user's Duo claims."""
    callback = sign_in(demo)
    assert (callback.status_code, callback.headers["location"]) == (303, "/")
    home = demo.get("/")
    assert "Signed in as <strong>alice</strong>" in home.text
    assert "&quot;result&quot;: &quot;allow&quot;" in home.text
    assert 'id="sign-out"' in home.text


def test_reloading_the_callback_is_a_friendly_page(
    demo: TestClient, token_answer: list[Answer]
) -> None:
    """A used code (reload, Back) explains itself and links to sign in again, no raw JSON."""
    token_answer[0] = lambda _request: httpx2.Response(
        400, json={"error": "invalid_grant", "error_description": "Code not valid"}
    )
    page = demo.get("/callback?code=used")
    assert page.status_code == 200
    assert "already used" in page.text
    assert 'href="/login">Sign in again' in page.text
    assert "invalid_grant" not in page.text


def test_reload_while_signed_in_offers_the_way_back(
    demo: TestClient, token_answer: list[Answer]
) -> None:
    """A used code while signed in says the session is still there and links back to it."""
    sign_in(demo)
    token_answer[0] = lambda _request: httpx2.Response(400, json={"error": "invalid_grant"})
    page = demo.get("/callback?code=abc")
    assert "still signed in as alice" in page.text
    assert 'href="/">Back to the application' in page.text


@pytest.mark.parametrize(
    "answer",
    [
        httpx2.Response(500, text="<html>oops</html>"),
        httpx2.Response(401, json={"error": "unauthorized_client"}),
    ],
)
def test_other_token_refusals_name_the_status(
    demo: TestClient, token_answer: list[Answer], answer: httpx2.Response
) -> None:
    """Other refusals say Keycloak refused, with the HTTP status, and offer to sign in again."""
    token_answer[0] = lambda _request: answer
    page = demo.get("/callback?code=abc")
    assert f"Keycloak refused the sign-in (HTTP {answer.status_code})" in page.text
    assert "Sign in again" in page.text


def test_callback_without_a_code(demo: TestClient) -> None:
    """Keycloak's error description is shown when it sends no code."""
    assert "denied by test" in demo.get("/callback?error_description=denied+by+test").text
    assert "Keycloak sent no code." in demo.get("/callback").text


def test_claims_that_are_not_an_object(demo: TestClient, token_answer: list[Answer]) -> None:
    """A ``duo`` claim that is not an object shows as empty."""
    token_answer[0] = granted(duo="odd")
    sign_in(demo)
    assert "<pre>{}</pre>" in demo.get("/").text


def test_sign_out_hands_keycloak_the_id_token(demo: TestClient) -> None:
    """Sign-out ends the app's session and sends Keycloak the ID token and the landing page."""
    sign_in(demo)
    out = demo.post("/logout")
    assert out.status_code == 303
    target = urlsplit(out.headers["location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == f"{OIDC}/logout"
    query = parse_qs(target.query)
    assert query["id_token_hint"] == [id_token()]
    assert query["post_logout_redirect_uri"] == [f"{APP}/signed-out"]
    assert query["client_id"] == ["demo-app"]
    assert SESSION_COOKIE not in demo.cookies
    assert "Sign in to the demo application" in demo.get("/").text


def test_sign_out_without_a_session(demo: TestClient) -> None:
    """Sign-out without a session goes straight to the signed-out page."""
    assert demo.post("/logout").headers["location"] == "/signed-out"
    page = demo.get("/signed-out")
    assert "You are signed out" in page.text
    assert 'href="/login"' in page.text


def test_pages_fit_a_phone(demo: TestClient) -> None:
    """Every page sets the viewport and wraps long claims instead of widening the page."""
    sign_in(demo)
    for path in ("/", "/signed-out", "/callback"):
        text = demo.get(path).text
        assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in text
        assert "white-space:pre-wrap" in text


def test_signed_in_page_links_to_self_service_with_the_realm() -> None:
    """With the bridge's URL, the signed-in page links to /account/duo naming the realm."""
    app = create_demo_app(
        keycloak_url=KEYCLOAK,
        realm="globex",
        client_id="demo-app",
        redirect_uri=f"{APP}/callback",
        post_logout_redirect_uri=f"{APP}/signed-out",
        transport=httpx2.MockTransport(granted()),
        bridge_url="http://bridge.test/",
    )
    with TestClient(app, base_url=APP, follow_redirects=False) as client:
        sign_in(client)
        home = client.get("/").text
    assert 'href="http://bridge.test/account/duo/?realm=globex"' in home


def test_without_a_bridge_url_there_is_no_self_service_link(demo: TestClient) -> None:
    """Without the bridge's URL the demo offers no self-service link."""
    sign_in(demo)
    assert 'id="self-service"' not in demo.get("/").text
