"""Shared rig of the gateway benchmarks: a demo fleet, `appwarden serve`, nginx, wrk.

Everything runs on loopback, on free ports, and is stopped by pid. Ratios are what to read:
other load on a shared 2-core machine moves absolute numbers from run to run.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.support.servers import free_port, read_pid, stop_pid, wait_port  # noqa: E402

APPWARDEN = str(Path(sys.executable).with_name("appwarden"))


@dataclass
class WrkResult:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int

    def row(self, name: str) -> str:
        return f"  {name:<44} {self.rps:>10,.0f} req/s   p50 {self.p50_ms:6.2f} ms   p99 {self.p99_ms:6.2f} ms"


def need(*commands: str) -> str | None:
    return next((c for c in commands if shutil.which(c) is None), None)


def http_bench_args(prog: str, argv: list[str], connections: int) -> argparse.Namespace | None:
    """The options both HTTP gateway benchmarks take; None (after saying so) when nginx or wrk
    is missing. `args.settings` holds the `--setting name=value` pairs for `serve`."""
    parser = argparse.ArgumentParser(prog=prog)
    parser.add_argument("--employees", type=int, default=3000)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=connections)
    parser.add_argument("--setting", action="append", default=[], help="name=value for serve")
    args = parser.parse_args(argv)
    args.settings = dict(item.split("=", 1) for item in args.setting)
    missing = need("nginx", "wrk")
    if missing:
        print(f"needs {missing} (./run test installs the Debian packages)")
        return None
    return args


class Workdir:
    def __init__(self) -> None:
        self.path = Path(tempfile.mkdtemp(prefix="aw-bench-"))
        self.path.chmod(0o755)
        self.pids: list[tuple[int, int]] = []  # (pid, signal)

    def close(self) -> None:
        for pid, sig in reversed(self.pids):
            stop_pid(pid, 5.0, sig)
        shutil.rmtree(self.path, ignore_errors=True)


def demo_home(work: Workdir, employees: int) -> tuple[Path, str, list[str]]:
    """A demo fleet; returns (home, gateway token, some EAS DeviceIds)."""
    home = work.path / "home"
    env = {**os.environ, "APPWARDEN_HOME": str(home)}
    subprocess.run(
        [APPWARDEN, "demo", "--no-serve", "--employees", str(employees)],
        env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    lines = (home / "demo-tokens.txt").read_text().splitlines()
    tokens = dict(line.split("=", 1) for line in lines if "=" in line)
    with sqlite3.connect(home / "appwarden.db") as db:
        rows = db.execute(
            "SELECT value FROM device_identities WHERE kind = 'eas' LIMIT 2000"
        ).fetchall()
    return home, tokens["gateway"], [r[0] for r in rows]


def serve(work: Workdir, home: Path, **settings: str) -> int:
    """`appwarden serve` in its own process; returns the decision port."""
    port, api = free_port(), free_port()
    env = {**os.environ, "APPWARDEN_HOME": str(home), "APPWARDEN_LOG_LEVEL": "warning"}
    env.update({f"APPWARDEN_{k.upper()}": v for k, v in settings.items()})
    log = (work.path / "serve.log").open("ab")
    proc = subprocess.Popen(
        [APPWARDEN, "serve", "--port", str(api), "--decision-port", str(port)],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    work.pids.append((proc.pid, signal.SIGTERM))
    wait_port(port, timeout=120)
    return port


def nginx(work: Workdir, name: str, http_body: str) -> None:
    d = work.path / name
    (d / "tmp").mkdir(parents=True)
    (d / "tmp").chmod(0o777)
    conf = d / "nginx.conf"
    conf.write_text(
        f"worker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/error.log warn;\n"
        "events { worker_connections 4096; }\n"
        f"http {{\n access_log off;\n client_body_temp_path {d}/tmp; proxy_temp_path {d}/tmp;\n"
        f" fastcgi_temp_path {d}/tmp; uwsgi_temp_path {d}/tmp; scgi_temp_path {d}/tmp;\n"
        f"{http_body}\n}}\n"
    )
    subprocess.run(
        ["nginx", "-p", str(d), "-c", str(conf)],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    work.pids.append((read_pid(d / "nginx.pid"), signal.SIGQUIT))


def lua_paths(work: Workdir, paths: list[str], header: str = "") -> Path:
    script = work.path / f"paths{len(paths)}-{abs(hash(header))}.lua"
    items = ",\n".join(f'  "{p}"' for p in paths)
    hdr = f'wrk.headers["Authorization"] = "{header}"\n' if header else ""
    script.write_text(
        f"{hdr}local paths = {{\n{items}\n}}\nlocal i = 0\n"
        "request = function()\n  i = i % #paths + 1\n  return wrk.format(nil, paths[i])\nend\n"
    )
    return script


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    m = re.match(r"([\d.]+)(us|ms|s)", text)
    return float(m.group(1)) * _UNITS[m.group(2)] if m else float("nan")


def wrk(url: str, script: Path, connections: int, seconds: int, threads: int = 2) -> WrkResult:
    done = subprocess.run(
        ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--latency", "-s", str(script), url],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    out = done.stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = _ms(re.search(r"\s50%\s+(\S+)", out).group(1))
    p99 = _ms(re.search(r"\s99%\s+(\S+)", out).group(1))
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", out))
    return WrkResult(rps, p50, p99, errors)


def interleaved(
    url_a: str, url_b: str, script: Path, connections: int, seconds: int, rounds: int = 4
) -> tuple[WrkResult, WrkResult]:
    """A and B in alternating rounds (ABAB...), each figure the median over its rounds: load
    from other processes that comes and goes then hits both sides alike. B (ours) is warmed up
    for 2 s first, untimed."""
    wrk(url_b, script, connections, 2)
    each = max(1, round(seconds / rounds))
    runs: dict[str, list[WrkResult]] = {"a": [], "b": []}
    for _ in range(rounds):
        for side, url in (("a", url_a), ("b", url_b)):
            runs[side].append(wrk(url, script, connections, each))
    return _median(runs["a"]), _median(runs["b"])


def _median(results: list[WrkResult]) -> WrkResult:
    def mid(values: list[float]) -> float:
        return sorted(values)[len(values) // 2]

    return WrkResult(
        mid([r.rps for r in results]),
        mid([r.p50_ms for r in results]),
        mid([r.p99_ms for r in results]),
        sum(r.errors for r in results),
    )


def settle(seconds: float = 1.0) -> None:
    time.sleep(seconds)


__all__ = [
    "Workdir",
    "WrkResult",
    "demo_home",
    "interleaved",
    "lua_paths",
    "need",
    "nginx",
    "serve",
    "settle",
    "wait_port",
    "wrk",
]
