"""Through nginx auth_request: AppWarden vs a subrequest answered by nginx itself (`return 204`).

Both runs use the same nginx (1 worker), the same ActiveSync location and the same trivial
backend; only the auth subrequest's upstream differs: another nginx server returning 204, or
AppWarden's /v1/gateway/nginx. Budget (issue 4): at least 0.9x the throughput.

    ./run bench nginx_auth [--employees 3000] [--seconds 8] [--connections 32]
"""

from __future__ import annotations

from tests.support.servers import free_port, wait_port

from appwarden.adapters.gateways.snippets import SnippetParams, nginx_check_location
from bench.gateway_rig import (
    Workdir,
    demo_home,
    http_bench_args,
    interleaved,
    lua_paths,
    nginx,
    serve,
)


def _front(port: int, auth_port: int, token: str, backend: int, name: str) -> str:
    params = SnippetParams("127.0.0.1", auth_port, token)
    check = nginx_check_location(params).replace("appwarden_decisions", f"auth_{name}")
    return (
        f" upstream auth_{name} {{ server 127.0.0.1:{auth_port}; keepalive 32; }}\n"
        f" server {{ listen 127.0.0.1:{port};\n{check}"
        " location /Microsoft-Server-ActiveSync {\n"
        "  auth_request /_appwarden_check;\n"
        f"  proxy_pass http://127.0.0.1:{backend};\n"
        '  proxy_http_version 1.1; proxy_set_header Connection "";\n'
        " }\n }\n"
    )


def main(argv: list[str]) -> int:
    args = http_bench_args("bench nginx_auth", argv, connections=32)
    if args is None:
        return 2
    settings = args.settings
    work = Workdir()
    try:
        home, token, ids = demo_home(work, args.employees)
        aw_port = serve(work, home, **settings)
        backend, stub = free_port(), free_port()
        via_stub, via_aw = free_port(), free_port()
        nginx(
            work, "edge",
            f" server {{ listen 127.0.0.1:{backend}; location / {{ return 200 'ok'; }} }}\n"
            f" server {{ listen 127.0.0.1:{stub}; location / {{ return 204; }} }}\n"
            + _front(via_stub, stub, token, backend, "stub")
            + _front(via_aw, aw_port, token, backend, "appwarden"),
        )  # fmt: skip
        wait_port(via_aw)
        script = lua_paths(
            work,
            [
                f"/Microsoft-Server-ActiveSync?Cmd=Ping&User=u&DeviceId={i}&DeviceType=iPhone"
                for i in ids
            ],
        )
        base, ours = interleaved(
            f"http://127.0.0.1:{via_stub}",
            f"http://127.0.0.1:{via_aw}",
            script,
            args.connections,
            args.seconds,
        )
    finally:
        work.close()
    ratio = ours.rps / base.rps
    print(
        f"nginx auth_request, {args.connections} connections, {args.seconds}s each in 4 alternating rounds (medians), {len(ids)} EAS DeviceIds"
    )
    print(base.row("auth subrequest -> nginx return 204"))
    print(ours.row("auth subrequest -> AppWarden"))
    print(
        f"  ratio {ratio:.2f}x (budget >= 0.90x); p99 {ours.p99_ms:.2f} ms vs {base.p99_ms:.2f} ms"
    )
    denied = ours.errors
    print(f"  {denied} requests denied by policy (403), as the demo fleet says")
    ok = ratio >= 0.9
    print("  PASS" if ok else "  OVER BUDGET")
    return 0 if ok else 1
