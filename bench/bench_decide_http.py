"""GET /v1/decide over HTTP vs nginx returning a static 204, same machine, same run.

Budget (issue 4): at least 0.3x nginx's requests/s, p99 <= 10 ms at 64 connections. Both
servers run one process (nginx: worker_processes 1) so the ratio compares like with like; wrk
rotates over 2,000 real EAS DeviceIds of a demo fleet.

    ./run bench decide_http [--employees 3000] [--seconds 8] [--connections 64]
"""

from __future__ import annotations

from tests.support.servers import free_port, wait_port

from bench.gateway_rig import (
    Workdir,
    demo_home,
    http_bench_args,
    interleaved,
    lua_paths,
    nginx,
    serve,
)


def main(argv: list[str]) -> int:
    args = http_bench_args("bench decide_http", argv, connections=64)
    if args is None:
        return 2
    settings = args.settings
    work = Workdir()
    try:
        home, token, ids = demo_home(work, args.employees)
        port = serve(work, home, **settings)
        static = free_port()
        nginx(
            work, "static", f" server {{ listen 127.0.0.1:{static}; location / {{ return 204; }} }}"
        )
        wait_port(static)
        script = lua_paths(work, [f"/v1/decide?eas={i}" for i in ids], f"Bearer {token}")
        base, ours = interleaved(
            f"http://127.0.0.1:{static}",
            f"http://127.0.0.1:{port}",
            script,
            args.connections,
            args.seconds,
        )
    finally:
        work.close()
    ratio = ours.rps / base.rps
    print(
        f"/v1/decide over HTTP, {args.connections} connections, {args.seconds}s each in 4 alternating rounds (medians), {len(ids)} identities"
    )
    print(base.row("nginx return 204 (1 worker)"))
    print(ours.row("appwarden /v1/decide (1 process)"))
    print(f"  ratio {ratio:.2f}x (budget >= 0.30x); p99 {ours.p99_ms:.2f} ms (budget <= 10 ms)")
    if base.p99_ms > 10:
        print(
            f"  NOTE: nginx's own p99 is {base.p99_ms:.1f} ms: the machine is too loaded to judge p99"
        )
    if ours.errors:
        print(f"  NOTE: {ours.errors} non-2xx answers from AppWarden")
    ok = ratio >= 0.3 and ours.p99_ms <= 10 and not ours.errors
    print("  PASS" if ok else "  OVER BUDGET")
    return 0 if ok else 1
