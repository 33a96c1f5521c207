"""Load generator for the check-in benchmark: raw HTTP/1.1 keep-alive connections, one asyncio
process, pre-built requests. Reads a pickle of [(connection, request bytes, expects_tiktok)],
sends each connection's requests in order, checks every answer, prints JSON stats.

    python -m bench.checkin_load HOST PORT REQUESTS.pickle
"""

from __future__ import annotations

import asyncio
import json
import pickle
import statistics
import sys
import time
from collections import Counter, defaultdict


async def _one(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> tuple[int, bytes]:
    writer.write(request)
    status_line = await reader.readline()
    status = int(status_line.split()[1])
    length = 0
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return status, await reader.readexactly(length)


async def _connection(host: str, port: int, jobs: list[tuple[bytes, bool]], stats: dict) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        for request, tiktok in jobs:
            started = time.perf_counter()
            status, body = await _one(reader, writer, request)
            stats["latency"].append(time.perf_counter() - started)
            if status != 200:
                stats["errors"][f"{status}: {body[:120]!r}"] += 1
                continue
            answer = json.loads(body)
            stats["status"][answer["status"]] += 1
            warned = any(w["policy"] == "tiktok-mail" for w in answer["decision"]["warnings"])
            stats["checked"] += 1
            if warned != tiktok:
                stats["stale_decisions"] += 1
    finally:
        writer.close()
        await writer.wait_closed()


async def run(host: str, port: int, requests: list[tuple[int, bytes, bool]]) -> dict:
    by_connection: dict[int, list[tuple[bytes, bool]]] = defaultdict(list)
    for connection, request, tiktok in requests:
        by_connection[connection].append((request, tiktok))
    stats: dict = {
        "latency": [],
        "errors": Counter(),
        "status": Counter(),
        "checked": 0,
        "stale_decisions": 0,
    }
    started = time.perf_counter()
    await asyncio.gather(*(_connection(host, port, jobs, stats) for jobs in by_connection.values()))
    elapsed = time.perf_counter() - started
    latency = sorted(stats["latency"])
    return {
        "requests": len(requests),
        "elapsed_s": elapsed,
        "rate": len(latency) / elapsed,
        "p50_ms": 1000 * statistics.median(latency),
        "p99_ms": 1000 * latency[int(len(latency) * 0.99) - 1],
        "max_ms": 1000 * latency[-1],
        "errors": dict(stats["errors"]),
        "status": dict(stats["status"]),
        "checked": stats["checked"],
        "stale_decisions": stats["stale_decisions"],
    }


if __name__ == "__main__":
    with open(sys.argv[3], "rb") as handle:
        loaded = pickle.load(handle)
    print(json.dumps(asyncio.run(run(sys.argv[1], int(sys.argv[2]), loaded))))
