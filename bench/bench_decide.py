"""decide() in process, and the memory of the fleet and decision indexes.

Budget (issue 2): decide() <= 1 us median; general policy engines spend 5-50 us per decision.
Baselines in the same run: a plain dict lookup of the same keys (the floor), and evaluating the
rule at request time (frozenset.isdisjoint of the device's apps and the barred apps), which is
what a request-time policy engine does at best. Memory for the 1,000,000-device index is
reported (aim: under 2 GB).

    ./run bench decide [--devices 1000000]
"""

from __future__ import annotations

import argparse
import gc
import random
import time

from appwarden.adapters.catalog_file import load_catalog
from appwarden.core.decision import titles_of
from appwarden.core.exemptions import EMPTY_ATTESTATIONS, EMPTY_EXEMPTIONS
from appwarden.core.fleet_assess import assess_fleet
from appwarden.core.timeutil import to_epoch
from appwarden.services.assessment import gc_paused
from appwarden.services.decisions import DecisionService
from bench.bench_assessment import NOW, versions
from bench.fleet_data import build, current_rss_mb, median

BATCH = 1000


def per_call_ns(fn, keys: list[str], rounds: int) -> float:
    """Median over batches of BATCH calls, in ns per call (loop overhead included, as in use)."""
    samples = []
    for r in range(rounds):
        batch = keys[(r * BATCH) % len(keys) :][:BATCH]
        start = time.perf_counter_ns()
        for key in batch:
            fn(key)
        samples.append((time.perf_counter_ns() - start) / len(batch))
    return median(samples)


def main(argv: list[str]) -> int:
    args = argparse.ArgumentParser(prog="bench decide")
    args.add_argument("--devices", type=int, default=1_000_000)
    opts = args.parse_args(argv)
    base_rss = current_rss_mb()
    data = build(opts.devices)
    fleet = data.fleet
    gc.collect()
    gc.freeze()
    fleet_rss = current_rss_mb()
    pvs = versions()
    with gc_paused():
        result = assess_fleet(
            fleet, pvs, load_catalog(), EMPTY_EXEMPTIONS, EMPTY_ATTESTATIONS, {}, NOW
        )
    verdicts = [v for per_policy in result.by_policy().values() for v in per_policy.values()]
    service = DecisionService("bench")
    start = time.perf_counter()
    service.rebuild(fleet, verdicts, titles_of(pvs))
    build_s = time.perf_counter() - start
    del result
    gc.collect()
    index_rss = current_rss_mb()
    rng = random.Random(3)
    keys = [f"eas:EAS{rng.randint(1, opts.devices):010d}" for _ in range(200_000)]
    keys += [f"device:dev-{rng.randint(1, opts.devices):07d}" for _ in range(100_000)]
    rng.shuffle(keys)
    now = to_epoch(NOW) + 10 * 86400  # after the deadlines: denials as well as allows
    decide = service.decide
    index = service.index
    entries = index._base  # the floor: the same dict, looked up directly

    barred = frozenset(fleet.app_slot[k] for k in list(fleet.app_slot)[:3])
    apps = {
        f"eas:EAS{s + 1:010d}": frozenset(fleet.device_apps[s]) for s in range(0, len(fleet), 7)
    }
    naive_keys = [k for k in keys if k in apps][:50_000] or list(apps)[:50_000]

    ns_decide = per_call_ns(lambda k: decide(k, now), keys, 300)
    ns_dict = per_call_ns(entries.get, keys, 300)
    ns_naive = per_call_ns(lambda k: apps[k].isdisjoint(barred), naive_keys, 50)
    denied = sum(
        1
        for k in keys[:20_000]
        if (d := decide(k, now)).outcome and d.outcome.effect.value == "deny"
    )
    print(
        f"fleet {len(fleet):,} devices; decision index {len(index):,} identities "
        f"(built in {build_s:.2f} s, revision {index.revision}); {denied:,} of 20,000 sampled decisions deny"
    )
    print(f"  decide()                 median {ns_decide:7.0f} ns per call   budget 1000 ns")
    print(
        f"  dict.get (floor)         median {ns_dict:7.0f} ns per call   decide/floor = {ns_decide / ns_dict:.1f}x"
    )
    print(
        f"  request-time isdisjoint  median {ns_naive:7.0f} ns per call   (one rule, apps already in memory)"
    )
    print(
        f"memory: fleet index {fleet_rss - base_rss:,.0f} MB, decision index {index_rss - fleet_rss:,.0f} MB, "
        f"total RSS {index_rss:,.0f} MB (aim: index under 2 GB)"
    )
    ok = ns_decide <= 1000
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1
