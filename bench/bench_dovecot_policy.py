"""Dovecot auth policy: AppWarden's answer time as Dovecot sees it, at 8 concurrent logins.

Two Dovecot instances on the same machine: one without a policy server (the baseline), one
asking AppWarden after each password check (the configuration `appwarden gateway config dovecot`
prints). 8 threads log in and out with imaplib for a fixed time against each. The policy call's
own latency comes from Dovecot's debug log ("Policy server ... took N ms" where Dovecot logs
it) and, always, from the difference of login latencies. Budget (issue 4): p99 <= 5 ms.

    ./run bench dovecot_policy [--employees 1500] [--seconds 8] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import imaplib
import re
import signal
import sqlite3
import subprocess
import threading
import time

from tests.support.servers import free_port, read_pid, wait_port

from appwarden.adapters.gateways.snippets import SnippetParams, dovecot
from bench.gateway_rig import Workdir, demo_home, need, serve, settle


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
        guarded = _dovecot(work, "guarded", users, policy + "auth_debug = yes\n")
        _hammer(guarded, users, args.concurrency, 1.5)  # warm up
        settle()
        base = _hammer(plain, users, args.concurrency, args.seconds)
        settle()
        ours = _hammer(guarded, users, args.concurrency, args.seconds)
        log_text = (work.path / "guarded" / "dovecot.log").read_text(errors="replace")
    finally:
        work.close()
    took = sorted(float(m) for m in re.findall(r"[Pp]olicy.*?took (\d+(?:\.\d+)?) ?ms", log_text))
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
    if took:
        print(f"  policy call as Dovecot logged it: n={len(took)} p50 {_pct([t / 1000 for t in took], .5):.1f} ms"
              f" p99 {_pct([t / 1000 for t in took], .99):.1f} ms (budget <= 5 ms)")  # fmt: skip
        p99 = _pct([t / 1000 for t in took], 0.99)
    else:
        print("  (Dovecot did not log per-call times; judging by the added p99)")
        p99 = max(added_p99, 0.0)
    ok = p99 <= 5
    print("  PASS" if ok else "  OVER BUDGET")
    return 0 if ok else 1
