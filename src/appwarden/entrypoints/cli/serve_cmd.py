"""`appwarden serve`: the admin API and the decision listener, in one process and one event loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Annotated

import typer
import uvicorn

from appwarden.bootstrap import App
from appwarden.core.gateways.identify import Ask
from appwarden.core.gateways.rules import Protocol
from appwarden.entrypoints.api.admin import create_api
from appwarden.entrypoints.api.decision_server import (
    DecisionRouter,
    GatewayAuth,
    decide_handler,
    json_response,
    start_decision_server,
)
from appwarden.entrypoints.api.gateway_runtime import GatewayRuntime
from appwarden.entrypoints.cli.context import engine_loaded, err
from appwarden.entrypoints.console import console_routes
from appwarden.services.gc_control import SETTLER

log = logging.getLogger("appwarden.serve")
GATEWAY_ROLES = ("gateway", "admin")


def gateway_hashes(app: App) -> frozenset[str]:
    with app.store.read() as uow:
        return frozenset(uow.tokens.active_hashes(GATEWAY_ROLES))


def build_router(app: App, auth: GatewayAuth, gateways: GatewayRuntime) -> DecisionRouter:
    engine = app.engine

    def decide(identity: str) -> tuple[object, str]:
        told = gateways.service.ask(Protocol.API, Ask(key=identity))  # logged and counted
        return told.decision, told.decision_id

    router = DecisionRouter(auth)
    router.add("GET", "/v1/decide", decide_handler(decide))  # type: ignore[arg-type]
    gateways.register(router)
    router.add(
        "GET",
        "/healthz",
        lambda _r: json_response(
            200, {"status": "ok", "revision": engine.decisions.index.revision}
        ),
        authenticated=False,
    )
    return router


async def _every(seconds: float, job: object, name: str) -> None:
    while True:
        await asyncio.sleep(seconds)
        try:
            await asyncio.to_thread(job)  # type: ignore[arg-type]
        except Exception:
            log.exception("background job %s failed", name)


async def serve_forever(app: App, host: str, port: int, dhost: str, dport: int) -> None:
    auth = GatewayAuth()
    auth.replace(gateway_hashes(app))
    gateways = GatewayRuntime(app)
    router = build_router(app, auth, gateways)
    decision_server = await start_decision_server(router, dhost, dport)
    await gateways.start()
    config = uvicorn.Config(
        create_api(app, extra=console_routes(app)),
        host=host,
        port=port,
        log_level=app.settings.raw("log_level"),
        access_log=False,
        lifespan="off",
    )
    server = uvicorn.Server(config)
    interval = app.settings.duration("assess_interval").total_seconds()

    def assess() -> None:
        app.engine.assess(app.clock.now().replace(microsecond=0), "scheduled", "system")

    notice_every = app.settings.duration("notice_interval").total_seconds()

    def notices() -> None:
        app.notices.tick(app.clock.now().replace(microsecond=0))

    jobs = [
        asyncio.create_task(_every(5.0, lambda: auth.replace(gateway_hashes(app)), "tokens")),
        asyncio.create_task(_every(1.0, app.engine.sync, "sync")),  # writes by other processes
        asyncio.create_task(_every(SETTLER.every, SETTLER.maybe, "gc")),
        asyncio.create_task(_every(max(interval, 5.0), assess, "assessment")),
        asyncio.create_task(_every(max(notice_every, 1.0), notices, "notices")),
    ]
    err.print(f"admin API  http://{host}:{port}   (token required; /healthz, /openapi.json)")
    err.print(f"console    http://{host}:{port}/console/   employees: /me")
    err.print(f"decisions  http://{dhost}:{dport}/v1/decide?device=<key>  (gateway token)")
    try:
        await server.serve()
    finally:
        for job in jobs:
            job.cancel()
        await gateways.close()
        decision_server.close()
        with contextlib.suppress(Exception):
            await decision_server.wait_closed()


def run_server(app: App, host: str, port: int, dhost: str, dport: int) -> None:
    logging.basicConfig(
        level=app.settings.raw("log_level").upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency on Linux
        asyncio.run(serve_forever(app, host, port, dhost, dport))
    else:
        uvloop.run(serve_forever(app, host, port, dhost, dport))


def serve(
    host: Annotated[str | None, typer.Option(help="Admin API address.")] = None,
    port: Annotated[int | None, typer.Option(help="Admin API port.")] = None,
    decision_host: Annotated[str | None, typer.Option(help="Decision listener address.")] = None,
    decision_port: Annotated[int | None, typer.Option(help="Decision listener port.")] = None,
) -> None:
    """Serve the admin API and the decision listener until interrupted."""
    app = engine_loaded()
    settings = app.settings
    run_server(
        app,
        host or settings.raw("api_host"),
        port or int(settings.raw("api_port")),
        decision_host or settings.raw("decision_host"),
        decision_port or int(settings.raw("decision_port")),
    )
