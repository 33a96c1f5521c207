"""Running the real `appwarden` entry point in a subprocess, and a real server."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def env_for(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("APPWARDEN_")}
    env.update(
        {
            "APPWARDEN_HOME": str(home),
            "APPWARDEN_ACTOR": "tester@corp.example",
            "PYTHONPATH": str(ROOT / "src"),
            "COLUMNS": "160",
        }
    )
    env.update(extra)
    return env


def appwarden(
    home: Path, *args: str, cwd: Path | None = None, input: str | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "appwarden", *args],
        cwd=cwd or home.parent,
        env=env_for(home, **env),
        input=input,
        capture_output=True,
        text=True,
        timeout=120,
    )


def appwarden_json(home: Path, *args: str, ok: tuple[int, ...] = (0,), **env: str) -> Any:
    result = appwarden(home, *args, "--json", **env)
    assert result.returncode in ok, result.stderr + result.stdout
    return json.loads(result.stdout)


class Server:
    """`appwarden serve` in a subprocess on free ports; stopped by pid."""

    def __init__(self, home: Path, **env: str) -> None:
        self.api_port = free_port()
        self.decision_port = free_port()
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "appwarden",
                "serve",
                "--port",
                str(self.api_port),
                "--decision-port",
                str(self.decision_port),
            ],
            cwd=home.parent,
            env=env_for(home, **env),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    "server exited: " + (self.proc.stdout.read() if self.proc.stdout else "")
                )
            try:
                self.get(self.api_port, "/healthz")
                self.get(self.decision_port, "/healthz")
                return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("server did not start")

    def get(self, port: int, path: str, token: str | None = None) -> tuple[int, Any]:
        request = urllib.request.Request(f"http://127.0.0.1:{port}{path}")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()
