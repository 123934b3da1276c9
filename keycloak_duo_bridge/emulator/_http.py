"""Small helpers shared by the emulator's Starlette endpoints."""

from __future__ import annotations

import anyio
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from keycloak_duo_bridge.emulator.assertions import accepted_hosts
from keycloak_duo_bridge.emulator.model import FaultMode
from keycloak_duo_bridge.emulator.state import EmulatorState

__all__ = [
    "HANG_LIMIT",
    "connection",
    "emulator_state",
    "fault_response",
    "hosts",
    "latency",
    "merged_params",
]

HANG_LIMIT = 600.0  # seconds an injected "timeout" holds a request if the client never gives up
_POLL = 0.05
ERROR_500_PAGE = (
    "<html><head><title>500 Internal Server Error</title></head>"
    "<body><h1>500 Internal Server Error</h1></body></html>"
)


def emulator_state(request: Request) -> EmulatorState:
    """The :class:`EmulatorState` the app was built with."""
    state: EmulatorState = request.app.state.emulator
    return state


def connection(request: Request) -> tuple[str, int] | None:
    """The peer of the TCP (TLS) connection this request came on."""
    client = request.scope.get("client")
    return None if client is None else (str(client[0]), int(client[1]))


def hosts(request: Request) -> frozenset[str]:
    """The spellings of ``host[:port]`` a client may have used to reach this server."""
    host = request.headers.get("host")
    if not host:
        server_host, server_port = request.scope.get("server") or ("localhost", 443)
        host = f"{server_host}:{server_port}"
    return accepted_hosts(host)


async def merged_params(request: Request) -> dict[str, str]:
    """Query parameters (Python SDK) overlaid with form fields (the other SDKs)."""
    params = dict(request.query_params)
    form = await request.form()
    params.update({k: v for k, v in form.items() if isinstance(v, str)})
    return params


async def latency(state: EmulatorState) -> None:
    """Wait the injected latency, if any."""
    delay = state.faults.latency_ms
    if delay > 0:
        await anyio.sleep(delay / 1000)


async def fault_response(request: Request, mode: FaultMode, fail: Response) -> Response:
    """The answer for an injected fault: ``fail``, a 500 page, or a hang."""
    if mode == "fail":
        return fail
    if mode == "error_500":
        return HTMLResponse(ERROR_500_PAGE, status_code=500)
    with anyio.move_on_after(HANG_LIMIT):
        # Polling is how Starlette learns of a disconnect while no response is under way.
        while not await request.is_disconnected():  # noqa: ASYNC110
            await anyio.sleep(_POLL)
    return Response(status_code=504)
