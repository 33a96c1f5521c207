"""Dovecot auth policy: AppWarden's answer time as Dovecot sees it, at 8 concurrent logins.

Two Dovecot instances on the same machine: one without a policy server (the baseline), one
asking AppWarden after each password check (the configuration `appwarden gateway config dovecot`
prints). 8 threads log in and out with imaplib for a fixed time against each. The policy call's
own latency is measured by replaying Dovecot's exact request (a keep-alive POST of its JSON)
with wrk at the same concurrency (Dovecot 2.3 does not log per-call times); the login runs
show what the call adds end to end. Budget (issue 4): policy call p99 <= 5 ms.

    ./run bench dovecot_policy [--employees 1500] [--seconds 8] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import imaplib
import json
import signal
import sqlite3
import subprocess
import threading
import time

from tests.support.servers import free_port, read_pid, wait_port

from appwarden.adapters.gateways.snippets import SnippetParams, dovecot
from bench.gateway_rig import Workdir, WrkResult, demo_home, need, serve, settle, wrk


def _dovecot(work: Workdir, name: str, users: list[str], policy: str) -> int:
    d = work.path / name
    home = d / "home"
    home.mkdir(parents=True)
    d.chmod(0o755)
    home.chmod(0o1777)
    (d / "users").write_text("".join(f"{u}:{{PLAIN}}secret\n" for u in users))
    port = free_port()
    (d / "dovecot.conf").write_text(
        f"protocols = imap\nlisten = 127.0.0.1\nbase_dir = {d}/run\nstate_dir = {d}/state\n"
        f"log_path = {d}/dovecot.log\nssl = no\ndisable_plaintext_auth = no\n"
        "auth_mechanisms = plain\nauth_failure_delay = 0\n"
        f"passdb {{\n driver = passwd-file\n args = scheme=PLAIN username_format=%u {d}/users\n}}\n"
        f"userdb {{\n driver = static\n args = uid=65534 gid=65534 home={home}/%n\n}}\n"
        "mail_location = maildir:~/Maildir\n"
        f"service imap-login {{\n inet_listener imap {{\n  address = 127.0.0.1\n  port = {port}\n }}\n"
        " inet_listener imaps {\n  port = 0\n }\n process_min_avail = 4\n}\n" + policy
    )
    with (d / "start.log").open("ab") as out:
        subprocess.run(
            ["dovecot", "-c", str(d / "dovecot.conf")], stdout=out, stderr=out, check=True
        )
    work.pids.append((read_pid(d / "run" / "master.pid"), signal.SIGTERM))
    wait_port(port)
    return port


def _hammer(port: int, users: list[str], threads: int, seconds: float) -> list[float]:
    latencies: list[float] = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def worker(n: int) -> None:
        i = n
        mine = []
        while time.monotonic() < stop:
            user = users[i % len(users)]
            i += threads
            t = time.perf_counter()
            client = imaplib.IMAP4("127.0.0.1", port, timeout=10)
            try:
                client.login(user, "secret")
                mine.append(time.perf_counter() - t)
                client.logout()
            except imaplib.IMAP4.error:
                mine.append(time.perf_counter() - t)
                client.shutdown()
        with lock:
            latencies.extend(mine)

    pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return sorted(latencies)


PACE_MS = 8  # per connection: 8 connections x 125/s = 1,000 calls/s, 10x the login rate here


def _policy_calls(
    work: Workdir, port: int, token: str, users: list[str], conns: int, seconds: int
) -> WrkResult:
    """The exact request Dovecot's auth process sends (keep-alive POST of its JSON), by wrk,
    paced like logins are (each connection waits PACE_MS between calls), not saturating."""
    bodies = ",\n".join(
        "  '" + json.dumps({"login": u, "remote": "192.0.2.7", "device_id": "", "protocol": "imap",
                            "session_id": "bench", "tls": False}) + "'"
        for u in users
    )  # fmt: skip
    script = work.path / "dovecot.lua"
    script.write_text(
        f'wrk.method = "POST"\nwrk.headers["Authorization"] = "Bearer {token}"\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
        f"local bodies = {{\n{bodies}\n}}\nlocal i = 0\n"
        f"delay = function() return {PACE_MS} end\n"
        "request = function()\n  i = i % #bodies + 1\n"
        '  return wrk.format(nil, "/v1/gateway/dovecot?command=allow", nil, bodies[i])\nend\n'
    )
    return wrk(f"http://127.0.0.1:{port}", script, conns, seconds, threads=1)


def _pct(values: list[float], p: float) -> float:
    return values[min(len(values) - 1, int(len(values) * p))] * 1000 if values else float("nan")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench dovecot_policy")
    parser.add_argument("--employees", type=int, default=1500)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args(argv)
    missing = need("dovecot")
    if missing:
        print(f"needs {missing} (./run test installs the Debian packages)")
        return 2
    work = Workdir()
    try:
        home, token, _ = demo_home(work, args.employees)
        with sqlite3.connect(home / "appwarden.db") as db:
            users = [r[0] for r in db.execute(
                "SELECT DISTINCT e.email FROM employees e JOIN devices d ON d.owner_email = e.email LIMIT 400"
            )]  # fmt: skip
        aw_port = serve(work, home, dovecot_no_identity="user")
        plain = _dovecot(work, "plain", users, "")
        policy = dovecot(SnippetParams("127.0.0.1", aw_port, token, hash_nonce="bench"))
        guarded = _dovecot(work, "guarded", users, policy)
        _hammer(guarded, users, args.concurrency, 1.5)  # warm up
        settle()
        base = _hammer(plain, users, args.concurrency, args.seconds)
        settle()
        ours = _hammer(guarded, users, args.concurrency, args.seconds)
        settle()
        calls = _policy_calls(work, aw_port, token, users, args.concurrency, int(args.seconds))
    finally:
        work.close()
    print(
        f"Dovecot logins, {args.concurrency} concurrent, {args.seconds:.0f}s each, {len(users)} users"
    )
    for name, lat in (("without policy", base), ("with AppWarden policy", ours)):
        rate = len(lat) / args.seconds
        print(
            f"  {name:<24} {rate:8.0f} logins/s   p50 {_pct(lat, 0.5):6.1f} ms   p99 {_pct(lat, 0.99):6.1f} ms"
        )
    added_p50 = _pct(ours, 0.5) - _pct(base, 0.5)
    added_p99 = _pct(ours, 0.99) - _pct(base, 0.99)
    print(f"  added by the policy call: p50 {added_p50:+.1f} ms, p99 {added_p99:+.1f} ms;"
          f" throughput ratio {len(ours) / max(len(base), 1):.2f}x")  # fmt: skip
    print(calls.row(f"policy call, {args.concurrency} conns paced {PACE_MS} ms"))
    p99 = calls.p99_ms
    print(f"  policy call p99 {p99:.2f} ms (budget <= 5 ms)")
    ok = p99 <= 5
    print("  PASS" if ok else "  OVER BUDGET")
    return 0 if ok else 1
