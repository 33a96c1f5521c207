"""The gateway side of `appwarden serve`: handlers, the Postfix listener and background jobs.

register()   adds /v1/gateway/nginx, /v1/gateway/dovecot and /metrics to the decision router
start()      Postfix policy listener (when a port is set) and the jobs:
               flush    decision log -> database, in batches, every decision_log_flush_ms
               titles   localised policy titles, reloaded when the index revision moves
               kick     doveadm kick at the second a device's block starts (when configured)
               prune    decision-log rows older than decision_log_keep, hourly
close()      stops the jobs and writes what is still buffered
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import sys
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from appwarden.adapters.gateways.doveadm import DoveadmKick, KickFailed
from appwarden.bootstrap import App
from appwarden.core.errors import AppWardenError, InvalidInput, Problem
from appwarden.core.gateways.masking import MaskMode
from appwarden.core.gateways.rules import (
    GatewayRules,
    NoIdentity,
    Protocol,
    UnknownAnswer,
    parse_networks,
    split_list,
)
from appwarden.entrypoints.api.decision_server import DecisionRouter
from appwarden.entrypoints.api.gateway_http import dovecot_handler, metrics_handler, nginx_handler
from appwarden.entrypoints.api.metrics import render_metrics
from appwarden.entrypoints.api.postfix_server import PostfixStats, start_postfix_server
from appwarden.services.decision_log import DecisionLog, log_instant
from appwarden.services.gateway import GatewayService
from appwarden.services.gc_control import keep_out_of_collections
from appwarden.services.kicks import Kicker
from appwarden.services.ports import LoggedDecision
from appwarden.settings import Settings

log = logging.getLogger("appwarden.gateways")
SWITCH_INTERVAL_S = 0.001
FLUSH_CHUNK = 64  # records converted per slice of the event loop (about 0.3 ms)


def _networks(settings: Settings, name: str) -> tuple[Any, ...]:
    try:
        return parse_networks(settings.raw(name))
    except ValueError as exc:
        raise InvalidInput(Problem(str(exc), name, f"see APPWARDEN_{name.upper()}")) from exc


def gateway_rules(settings: Settings) -> GatewayRules:
    """The gateway rules from settings (values were validated when settings loaded)."""
    raw = settings.raw
    cache = int(raw("gateway_cache_seconds"))
    if not 0 <= cache <= 10:
        raise InvalidInput(Problem("must be between 0 and 10", "gateway_cache_seconds"))
    return GatewayRules(
        unknown={p: UnknownAnswer(raw(f"unknown_{p.value}")) for p in Protocol},
        nginx_open_methods=frozenset(m.upper() for m in split_list(raw("nginx_open_methods"))),
        nginx_no_identity=NoIdentity(raw("nginx_no_identity")),
        dovecot_no_identity=NoIdentity(raw("dovecot_no_identity")),
        exempt_networks=_networks(settings, "dovecot_exempt_networks"),
        exempt_logins=split_list(raw("dovecot_exempt_logins")),
        exempt_protocols=split_list(raw("dovecot_exempt_protocols")),
        imap_id_field=raw("imap_id_field").strip().lower(),
        login_domain=raw("login_domain").strip(),
        eas_unknown_status=int(raw("eas_unknown_status")),
        enroll_url=raw("gateway_enroll_url").strip(),
        info_url=raw("gateway_info_url").strip(),
        default_locale=raw("gateway_locale").strip() or "en",
    )


class GatewayRuntime:
    def __init__(self, app: App) -> None:
        settings = app.settings
        self.app = app
        self.rules = gateway_rules(settings)
        self.postfix_clients = _networks(settings, "postfix_policy_clients")
        self.log = DecisionLog(
            int(settings.raw("decision_log_buffer")),
            MaskMode(settings.raw("decision_log_mask")),
            settings.raw("decision_log_salt"),
        )
        engine = app.engine
        self.service = GatewayService(
            engine.decisions, self.rules, self.log, app.clock.epoch, lambda: engine.fleet
        )
        command = settings.raw("doveadm_kick").strip()
        self.kick = DoveadmKick(command) if command else None
        self.kicker = Kicker(self._login_of)
        self.kick_errors = 0
        self.postfix_stats = PostfixStats()
        self._servers: list[asyncio.AbstractServer] = []
        # one thread writes the decision log, so batches land in order
        self._writer = ThreadPoolExecutor(1, "decision-log")
        self._tasks: list[asyncio.Task[None]] = []

    def _login_of(self, device: str) -> str | None:
        email = self.app.engine.decisions.owner_of(device)
        if email and self.app.settings.raw("kick_login") == "localpart":
            return email.split("@")[0]
        return email

    def metrics(self) -> str:
        return render_metrics(
            self.log,
            self.app.engine.decisions.index.revision,
            self.kicker.kicked,
            self.kick_errors,
            self.postfix_stats.refused,
        )

    def register(self, router: DecisionRouter) -> None:
        router.add("GET", "/v1/gateway/nginx", nginx_handler(self.service))
        router.add("POST", "/v1/gateway/dovecot", dovecot_handler(self.service))
        router.add("GET", "/metrics", metrics_handler(self.metrics))

    async def start(self) -> None:
        # The decision index holds millions of long-lived objects: a full collection would walk
        # them all (100+ ms, a stall for every open request). Frozen objects are never walked.
        # Background writers share the process with the request path: with CPython's default
        # 5 ms GIL switch interval a request can wait that long behind them; 1 ms bounds it.
        sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL_S))
        settings = self.app.settings
        port = int(settings.raw("postfix_policy_port"))
        if port:
            host = settings.raw("postfix_policy_host")
            try:
                server, self.postfix_stats = await start_postfix_server(
                    self.service, self.postfix_clients, host, port
                )
            except OSError as exc:
                raise AppWardenError(
                    f"cannot listen for Postfix on {host}:{port}: {exc.strerror or exc}; "
                    "set postfix_policy_host/postfix_policy_port (0 turns it off)"
                ) from exc
            self._servers.append(server)
        flush_s = max(int(settings.raw("decision_log_flush_ms")), 10) / 1000
        self._spawn(self._flush_every(flush_s), "flush")
        self._spawn(self._titles_every(1.0), "titles")
        self._spawn(self._prune_every(3600.0, settings.duration("decision_log_keep")), "prune")
        if self.kick is not None:
            self._spawn(self._kick_loop(), "kick")
        await asyncio.to_thread(self.service.refresh_titles, self.app.store)
        keep_out_of_collections()

    def _spawn(self, job: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(job, name=f"gateway-{name}")
        self._tasks.append(task)

    async def flush(self) -> int:
        """Convert on the loop in short slices; the writer thread only runs SQLite."""
        batch = self.log.take()
        if not batch:
            return 0
        rows: list[LoggedDecision] = []
        for start in range(0, len(batch), FLUSH_CHUNK):
            rows += self.log.rows(batch[start : start + FLUSH_CHUNK])
            await asyncio.sleep(0)
        loop = asyncio.get_running_loop()
        write = self.log.write_rows
        try:
            return await loop.run_in_executor(self._writer, write, self.app.store, rows)
        except Exception:
            log.exception("decision log: a batch of %d could not be written", len(batch))
            return 0

    async def _flush_every(self, seconds: float) -> None:
        while True:
            await asyncio.sleep(seconds)
            await self.flush()

    async def _titles_every(self, seconds: float) -> None:
        def refresh() -> None:
            if self.service.refresh_titles(self.app.store):
                gc.freeze()  # a new index: keep the collector off its millions of objects

        await _repeat(seconds, refresh, "titles")

    async def _prune_every(self, seconds: float, keep: timedelta) -> None:
        def prune() -> None:
            cutoff = log_instant(self.app.clock.epoch() - keep.total_seconds())
            with self.app.store.unit_of_work() as uow:
                uow.decision_log.prune(cutoff)

        await _repeat(seconds, prune, "prune")

    async def _kick_loop(self) -> None:
        decisions = self.app.engine.decisions
        clock = self.app.clock
        while True:
            now = clock.epoch()
            try:
                logins = await asyncio.to_thread(self.kicker.due, decisions.index, now)
            except Exception:
                log.exception("kicker failed; retrying")
                logins = []
            for login in logins:
                await self._kick_one(login)
            wake = self.kicker.next_wake()
            await asyncio.sleep(0.5 if wake is None else min(0.5, max(wake - clock.epoch(), 0)))

    async def _kick_one(self, login: str) -> None:
        assert self.kick is not None
        try:
            output = await asyncio.to_thread(self.kick, login)
        except KickFailed as exc:
            self.kick_errors += 1
            log.warning("kick failed: %s", exc)
            return
        self.kicker.kicked += 1
        log.info("kicked %s: %s", login, output or "no open session")

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for server in self._servers:
            server.close()
        self.postfix_stats.close_all()
        for server in self._servers:
            with contextlib.suppress(Exception):
                await server.wait_closed()
        await self.flush()
        self._writer.shutdown(wait=True)


async def _repeat(seconds: float, job: Callable[[], object], name: str) -> None:
    while True:
        try:
            await asyncio.to_thread(job)
        except Exception:
            log.exception("gateway job %s failed", name)
        await asyncio.sleep(seconds)
