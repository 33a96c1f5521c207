"""Sending notices to a local SMTP sink (budget: >= 300 notices/s).

The sink is aiosmtpd in its own process, with STARTTLS and AUTH like a real relay. Baseline,
measured in the same run against the same sink: plain smtplib sending pre-built messages over
one connection (no outbox, no rendering, no bookkeeping). The ratio is what the crash-safe
outbox (claim, receipt, record, audit, enforcement arming) and rendering cost.
"""

from __future__ import annotations

import argparse
import multiprocessing
import smtplib
import ssl
import statistics
import tempfile
import time
from pathlib import Path

from appwarden.adapters.mail.smtp import SmtpConfig, SmtpTransport
from appwarden.services.notices import Actor
from bench.notice_world import (
    APPROVER,
    AUTHOR,
    T0,
    apply_policy,
    build_engine,
    fill_fleet,
    log,
    service,
)

BUDGET = 300.0


def _serve(ready, stop, count, folder: str) -> None:
    from tests.support.notice_smtp import start_sink

    sink = start_sink(Path(folder))

    class Counting:
        async def handle_DATA(self, server, session, envelope):  # noqa: ARG002 (aiosmtpd hook)
            with count.get_lock():
                count.value += 1
            return "250 2.0.0 Ok: queued"

    sink.controller.handler = Counting()  # connections after this one count and discard
    ready.put(sink.port)
    stop.wait()
    sink.stop()


def _sink(folder: str):
    ctx = multiprocessing.get_context("fork")
    ready, stop, count = ctx.Queue(), ctx.Event(), ctx.Value("i", 0)
    proc = ctx.Process(target=_serve, args=(ready, stop, count, folder), daemon=True)
    proc.start()
    return proc, stop, count, ready.get(timeout=30)


def _raw(port: int, ca: Path, n: int, body: bytes) -> float:
    client = smtplib.SMTP("127.0.0.1", port, timeout=30)
    client.starttls(context=ssl.create_default_context(cafile=str(ca)))
    client.login("notices", "s3cret-pw-never-logged")
    start = time.perf_counter()
    for i in range(n):
        client.sendmail("a@bench.example", [f"user{i}@corp.example"], body)
    elapsed = time.perf_counter() - start
    client.quit()
    return n / elapsed


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench notice_send")
    parser.add_argument("--notices", type=int, default=3000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        proc, stop, count, port = _sink(tmp)
        try:
            return _run(args.notices, Path(tmp), port, count)
        finally:
            stop.set()
            proc.join(10)


def _run(n: int, tmp: Path, port: int, count, rounds: int = 3) -> int:
    engine = build_engine(tmp / "bench.db")
    fill_fleet(engine, int(n * 1.43) + 1, n)
    config = SmtpConfig(
        "127.0.0.1",
        port,
        True,
        "notices",
        "s3cret-pw-never-logged",
        tmp / "ca.pem",
        timeout=30,
        rate=0,
    )
    svc = service(engine, lambda: SmtpTransport(config))
    apply_policy(engine)
    campaign = svc.list_campaigns()[0]
    preview = svc.preview(campaign.id, AUTHOR, T0)
    svc.approve(campaign.id, Actor(APPROVER, True), T0, preview.digest)
    log(
        f"{preview.radius.people:,} notices approved and queued; {rounds} rounds, each ours "
        "then the baseline, so that machine load hits both alike"
    )
    ours, raw, sent = [], [], 0
    body = b"Subject: probe\r\n\r\n" + b"hello\r\n" * 1000
    for _ in range(rounds):
        start = time.perf_counter()
        _, report = svc.tick(T0, limit=n // rounds)
        ours.append(report.sent / (time.perf_counter() - start))
        sent += report.sent
        raw.append(_raw(port, tmp / "ca.pem", n // rounds, body))
    with engine.store.read() as uow:
        message = uow.outbox.get(1)
    engine.store.close()
    received = count.value - rounds * (n // rounds)  # the baseline's messages were counted too
    ours_m, raw_m = statistics.median(ours), statistics.median(raw)
    print(
        f"sent {sent:,} notices through STARTTLS + AUTH to a sink in another process "
        f"(it received {received:,}; e.g. Message-ID {message.message_id if message else '?'})"
    )
    print(
        f"  ours     median {ours_m:6.0f} notices/s  (rounds: "
        + ", ".join(f"{x:.0f}" for x in ours)
        + ")"
    )
    print(
        f"  baseline median {raw_m:6.0f} messages/s (raw smtplib, one pre-built 7 KB message; "
        "rounds: " + ", ".join(f"{x:.0f}" for x in raw) + ")"
    )
    print(
        f"  ratio ours / baseline: {ours_m / raw_m:.2f};  budget {BUDGET:.0f}/s: "
        + ("OK" if ours_m >= BUDGET else "UNDER")
    )
    return 0 if ours_m >= BUDGET and received == sent else 1
