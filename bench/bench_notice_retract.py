"""Retraction of a campaign that reached 50,000 people (budget: corrections queued <= 5 s).

Measured apart: approving the retraction, which in one transaction cancels what had not left,
disarms the enforcement, and queues one correction per person who received it (the budget);
then the decision index update that lifts every block (reported, and added up). Baseline, in the same run: inserting
50,000 plain rows into a scratch table with executemany (the floor for writing that many rows).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from appwarden.core.timeutil import iso
from appwarden.services.gc_control import gc_paused
from appwarden.services.notices import Actor
from appwarden.services.retraction import approve_correction
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

BUDGET_S = 5.0


def _mark_all_sent(engine, campaign_id: str) -> list:
    """Set-up shortcut: pretend every notice left (the send path has its own benchmark)."""
    stamp = iso(T0 + timedelta(minutes=1))
    with engine.store.unit_of_work() as uow:
        conn = uow.conn  # type: ignore[attr-defined]
        conn.execute(
            "UPDATE notices SET state = 'sent', sent_at = ? WHERE campaign_id = ?",
            (stamp, campaign_id),
        )
        conn.execute("UPDATE outbox SET state = 'sent', sent_at = ?", (stamp,))
        conn.execute("UPDATE campaigns SET status = 'sent' WHERE id = ?", (campaign_id,))
        keys = conn.execute(
            "UPDATE enforcements SET state = 'armed' WHERE campaign_id = ?"
            " RETURNING device, policy, version, deadline",
            (campaign_id,),
        ).fetchall()
    armed = [(d, p, int(v), t) for d, p, v, t in keys]
    engine.apply_enforcement(armed)
    return armed


def _baseline(engine, n: int) -> float:
    with engine.store.unit_of_work() as uow:
        conn = uow.conn  # type: ignore[attr-defined]
        conn.execute("CREATE TEMP TABLE IF NOT EXISTS scratch (a TEXT, b TEXT, c TEXT, d INT)")
        start = time.perf_counter()
        conn.executemany(
            "INSERT INTO scratch VALUES (?,?,?,?)",
            ((f"user{i}@corp.example", "en", "UTC", i) for i in range(n)),
        )
        elapsed = time.perf_counter() - start
        conn.execute("DELETE FROM scratch")
    return elapsed


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench notice_retract")
    parser.add_argument("--recipients", type=int, default=50_000)
    args = parser.parse_args(argv)
    n = args.recipients
    with tempfile.TemporaryDirectory() as tmp:
        engine = build_engine(Path(tmp) / "bench.db")
        fill_fleet(engine, int(n * 1.43) + 1, n)
        svc = service(engine, lambda: None)  # type: ignore[arg-type,return-value]
        apply_policy(engine)
        campaign = svc.list_campaigns()[0]
        preview = svc.preview(campaign.id, AUTHOR, T0)
        svc.approve(campaign.id, Actor(APPROVER, True), T0, preview.digest)
        armed = _mark_all_sent(engine, campaign.id)
        probe = armed[0][0]
        after = T0 + timedelta(days=30)
        denied = engine.decide("device", probe, after).outcome.effect.value
        log(f"{n:,} people told, {len(armed):,} blocks armed; {probe} after the deadline: {denied}")
        now = T0 + timedelta(hours=2)
        t_request, correction = _timed(svc.retract, campaign.id, AUTHOR, "sent in error", now)
        t_preview, p = _timed(svc.preview, correction.id, AUTHOR, now)
        t_approve, result = _timed(_queue, svc, correction.id, now, p.digest)
        t_index, _ = _timed(engine.apply_enforcement, result.armed, result.disarmed)
        lifted = engine.decide("device", probe, after).outcome.effect.value
        status = svc.status(correction.id)
        baseline = statistics.median(_baseline(engine, n) for _ in range(3))
        engine.store.close()
    queued = status["notices"].get("queued", 0)
    print(
        f"retraction of a campaign that reached {n:,} people: {queued:,} corrections queued, "
        f"{len(result.disarmed):,} blocks disarmed; {probe} after the deadline: {lifted}"
    )
    print(f"  request (halt + draft) {t_request * 1000:8.1f} ms")
    print(f"  preview (who got it)   {t_preview * 1000:8.1f} ms")
    print(
        f"  approve: halt, cancel, disarm, queue corrections (one transaction) "
        f"{t_approve * 1000:8.1f} ms"
    )
    print(
        f"  decision index: {len(result.disarmed):,} devices re-derived, blocks lifted "
        f"{t_index * 1000:8.1f} ms  (total {(t_approve + t_index) * 1000:.0f} ms)"
    )
    print(f"  baseline: {n:,} plain rows inserted in {baseline * 1000:.1f} ms (median of 3)")
    print(
        f"  ratio approve / baseline: {t_approve / baseline:.1f}x;  budget {BUDGET_S:.0f} s: "
        + ("OK" if t_approve <= BUDGET_S else "OVER")
    )
    ok = t_approve <= BUDGET_S and queued == n and lifted == "allow" and denied == "deny"
    return 0 if ok else 1


def _queue(svc, correction_id, now, digest):
    """What NoticeService.approve does before it updates the decision index (timed apart)."""
    with svc.engine.lock, gc_paused(), svc.store.unit_of_work() as uow:
        correction = uow.campaigns.get(correction_id)
        return approve_correction(uow, svc.deps(), correction, APPROVER, True, now, digest)


def _timed(fn, *args):
    start = time.perf_counter()
    result = fn(*args)
    return time.perf_counter() - start, result
