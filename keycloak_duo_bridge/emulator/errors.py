"""How the emulator refuses a request, in Duo's own words.

These extend the package tree under :class:`~keycloak_duo_bridge.errors.DuoError`::

    DuoError
    └── EmulatorError                    misuse of the emulator, or it cannot start
        └── RequestRejectedError         a protocol request refused, as Duo would
            ├── InvalidClientError       ``invalid_client``: unknown client, bad assertion
            ├── InvalidGrantError        ``invalid_grant``: bad, used, expired, foreign code
            ├── UnsupportedGrantTypeError  ``unsupported_grant_type``
            └── InvalidRequestError      a malformed authorization request
        └── RestApiError                 a REST API request refused with Duo's FAIL envelope

A rejection carries ``error`` (the OAuth code sent on the wire), ``description`` (Duo's
public text) and ``detail`` (the precise reason, kept for the events list only, because Duo
answers many causes with one catch-all text).
"""

from __future__ import annotations

from typing import ClassVar

from keycloak_duo_bridge.errors import DuoError

__all__ = [
    "CLIENT_ASSERTION_INVALID",
    "INVALID_GRANT_TEXT",
    "EmulatorError",
    "InvalidClientError",
    "InvalidGrantError",
    "InvalidRequestError",
    "RequestRejectedError",
    "RestApiError",
    "UnsupportedGrantTypeError",
    "forbidden",
    "invalid_parameter",
    "missing_parameter",
    "not_found",
]

CLIENT_ASSERTION_INVALID = "The provided client_assertion was invalid."
INVALID_GRANT_TEXT = (
    "The provided authorization grant (e.g., authorization code) or refresh token is invalid,"
    " expired, revoked, does not match the redirection URI used in the authorization request,"
    " or was issued to another client."
)


class EmulatorError(DuoError):
    """The emulator was misused or could not start."""


class RequestRejectedError(EmulatorError):
    """A protocol request that the emulator refuses, as Duo would."""

    error: ClassVar[str] = "invalid_request"
    default_description: ClassVar[str] = "The request is invalid."
    status_code: int = 400

    def __init__(
        self, detail: str, *, description: str | None = None, status_code: int | None = None
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.description = description or self.default_description
        self.status_code = status_code or type(self).status_code

    def body(self) -> dict[str, str]:
        """The OAuth error object, as the token endpoint sends it."""
        return {"error": self.error, "error_description": self.description}


class InvalidClientError(RequestRejectedError):
    """The client is unknown or its assertion does not verify."""

    error = "invalid_client"
    default_description = CLIENT_ASSERTION_INVALID


class InvalidGrantError(RequestRejectedError):
    """The code is unknown, expired, used, or bound to another client or redirect URI."""

    error = "invalid_grant"
    default_description = INVALID_GRANT_TEXT


class UnsupportedGrantTypeError(RequestRejectedError):
    """``grant_type`` is not ``authorization_code``."""

    error = "unsupported_grant_type"
    default_description = "The authorization grant type is not supported."


class InvalidRequestError(RequestRejectedError):
    """An authorization request is malformed.

    When the request is authentic (its JWT verified and its ``redirect_uri`` is usable),
    ``redirect_uri`` is set and the error goes back to the client there, with ``state`` when
    that is valid. Otherwise the emulator shows an error page and redirects nowhere.
    """

    def __init__(
        self,
        detail: str,
        *,
        error: str = "invalid_request",
        redirect_uri: str | None = None,
        state: str | None = None,
    ) -> None:
        super().__init__(detail, description=detail)
        self.oauth_error = error
        self.redirect_uri = redirect_uri
        self.state = state

    def body(self) -> dict[str, str]:
        return {"error": self.oauth_error, "error_description": self.description}


class RestApiError(EmulatorError):
    """A REST API (Auth, Admin, Accounts) request refused with Duo's FAIL envelope.

    ``code`` is Duo's five-digit code (its first three digits are the HTTP status),
    ``message`` Duo's text for that code and ``detail`` its ``message_detail``, if any.
    Neither ever carries a secret.
    """

    def __init__(self, status: int, code: int, message: str, detail: str | None = None) -> None:
        super().__init__(f"{code} {message}" + (f" ({detail})" if detail else ""))
        self.status = status
        self.code = code
        self.message = message
        self.detail = detail

    def body(self) -> dict[str, object]:
        """The envelope: ``stat``, ``code``, ``message`` and ``message_detail`` when known."""
        body: dict[str, object] = {"stat": "FAIL", "code": self.code, "message": self.message}
        if self.detail is not None:
            body["message_detail"] = self.detail
        return body


def missing_parameter(name: str) -> RestApiError:
    """400 40001: a required parameter is absent."""
    return RestApiError(400, 40001, "Missing required request parameters", name)


def invalid_parameter(name: str) -> RestApiError:
    """400 40002: a parameter has a value Duo refuses."""
    return RestApiError(400, 40002, "Invalid request parameters", name)


def not_found(what: str) -> RestApiError:
    """404 40401: the named resource does not exist (in this account)."""
    return RestApiError(404, 40401, "Resource not found", what)


def forbidden(detail: str) -> RestApiError:
    """403 40301: the credentials may not do this."""
    return RestApiError(403, 40301, "Access forbidden", detail)
