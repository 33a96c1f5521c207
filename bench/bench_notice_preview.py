"""Campaign preview over a large fleet (budget: 1,000,000 devices, 50,000 people, <= 2 s).

Baseline, measured in the same run: reading the same policy's verdict rows through the generic
verdict repository (`for_policy`), which any preview must at least do. The ratio says what the
planning, breakdowns, digest and rendered samples cost on top of that floor.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from bench.notice_world import AUTHOR, T0, apply_policy, build_engine, fill_fleet, log, service

BUDGET_S = 2.0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench notice_preview")
    parser.add_argument("--devices", type=int, default=1_000_000)
    parser.add_argument("--affected", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        engine = build_engine(Path(tmp) / "bench.db")
        start = time.perf_counter()
        fill_fleet(engine, args.devices, args.affected)
        log(f"fleet of {len(engine.fleet):,} devices in {time.perf_counter() - start:.1f} s")
        svc = service(engine, lambda: None)  # type: ignore[arg-type,return-value]
        start = time.perf_counter()
        apply_policy(engine)
        log(f"policy applied and assessed in {time.perf_counter() - start:.1f} s")
        campaign = svc.list_campaigns()[0]
        ours, floor = [], []
        for _ in range(args.runs):
            t = time.perf_counter()
            preview = svc.preview(campaign.id, AUTHOR, T0)
            ours.append(time.perf_counter() - t)
            with engine.store.read() as uow:
                t = time.perf_counter()
                rows = uow.verdicts.for_policy("tiktok-mail")
                floor.append(time.perf_counter() - t)
        engine.store.close()
    ours_m, floor_m = statistics.median(ours), statistics.median(floor)
    print(
        f"preview of {preview.radius.people:,} people / {preview.radius.devices:,} devices "
        f"over {args.devices:,} devices ({len(preview.samples)} rendered samples)"
    )
    print(
        f"  preview            median {ours_m * 1000:8.1f} ms  (runs: "
        + ", ".join(f"{x * 1000:.0f}" for x in ours)
        + ")"
    )
    print(f"  baseline read only median {floor_m * 1000:8.1f} ms  ({len(rows):,} verdict rows)")
    print(
        f"  ratio preview / baseline: {ours_m / floor_m:.2f}x;  budget {BUDGET_S:.1f} s: "
        + ("OK" if ours_m <= BUDGET_S else "OVER")
    )
    return 0 if ours_m <= BUDGET_S else 1
