"""``python -m bench.counted_bridge --port N``: the bridge as ``serve`` runs it (settings from
the environment, one uvicorn worker), counting its Keycloak admin calls the way the in-process
bench does (:class:`bench.rig.AdminCalls`). ``GET /bench/admin-calls`` answers the count, so
the scale bench can count the calls of a login while it measures the process's memory.
"""

from __future__ import annotations

import argparse

import uvicorn
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bench.rig import AdminCalls
from keycloak_duo_bridge.app import build_services, create_app
from keycloak_duo_bridge.settings import load_settings

COUNT_PATH = "/bench/admin-calls"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.counted_bridge", description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    settings = load_settings()
    calls = AdminCalls()
    app = create_app(settings, build_services(settings, keycloak_transport=calls))

    def count(request: Request) -> Response:
        del request
        return JSONResponse({"admin_calls": calls.count})

    app.router.routes.insert(0, Route(COUNT_PATH, count))
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=args.port,
        lifespan="on",
        log_config=None,
        log_level="warning",
        access_log=False,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
