"""A crash in the middle of an import leaves the previous state intact; the rerun completes it
without duplicates."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from appwarden.adapters.db.inventory_repo import SqliteInventory
from appwarden.adapters.importers.native_stream import iter_jsonl
from appwarden.services.bulk_import import StreamImport
from tests.support.builders import T0
from tests.support.inventory import make_app

OWNER = "a@corp.example"


def write_fleet(
    path: Path, devices: int, apps: int = 80, first: int = 0, version: str = "1"
) -> None:
    with path.open("w") as handle:
        for n in range(first, first + devices):
            record = {
                "key": f"dev-{n:06d}",
                "platform": "android" if n % 3 else "ios",
                "owner": OWNER,
                "mail": {"eas": [f"EAS{n:08d}"]},
                "apps": [
                    {
                        "id": f"com.vendor{(n + i) % 500}.app{i}",
                        "name": f"App {i}",
                        "version": version,
                    }
                    for i in range(apps)
                ]
                + ([{"id": "com.zhiliaoapp.musically", "name": "TikTok"}] if n % 25 == 0 else []),
            }
            handle.write(json.dumps(record) + "\n")


def snapshot(db: Path) -> dict[str, object]:
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        tables = (
            "devices",
            "device_apps",
            "device_sources",
            "device_identities",
            "app_events",
            "audit_events",
        )
        counts = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}
        versions = conn.execute(
            "SELECT group_concat(version) FROM (SELECT version FROM device_apps ORDER BY device_id, app_id)"
        ).fetchone()[0]
        return counts | {"versions": versions}


@pytest.mark.slow
def test_killed_import_leaves_the_previous_state_and_the_rerun_completes(tmp_path):
    home = tmp_path / "home"
    env = {**os.environ, "APPWARDEN_CLOCK": "2020-07-01T16:00:00Z"}
    base = tmp_path / "base.jsonl"
    write_fleet(base, 200)
    cmd = [sys.executable, "-m", "appwarden", "--home", str(home), "import"]
    assert (
        subprocess.run([*cmd, str(base)], env=env, capture_output=True, check=False).returncode == 0
    )
    before = snapshot(home / "appwarden.db")
    big = tmp_path / "big.jsonl"
    size = 20_000  # large enough that the kill lands mid-import even on a busy machine
    write_fleet(big, size, version="2")  # the 200 known devices change, the rest are new
    wal = home / "appwarden.db-wal"
    size_before = wal.stat().st_size if wal.exists() else 0
    proc = subprocess.Popen(
        [*cmd, str(big)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 120
    while (wal.stat().st_size if wal.exists() else 0) < size_before + 4_000_000:
        assert proc.poll() is None, "the import finished before it could be killed; make it bigger"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    assert proc.returncode == -signal.SIGKILL
    assert snapshot(home / "appwarden.db") == before  # nothing of the killed import is visible
    rerun = subprocess.run(
        [*cmd, str(big), "--json"], env=env, capture_output=True, text=True, check=False
    )
    assert rerun.returncode == 0, rerun.stderr
    summary = json.loads(rerun.stdout)[0]
    assert (summary["devices"]["added"], summary["devices"]["updated"]) == (size - 200, 200)
    after = snapshot(home / "appwarden.db")
    assert after["devices"] == size
    assert after["device_apps"] == size * 80 + size // 25  # no duplicates
    again = subprocess.run(
        [*cmd, str(big), "--json"], env=env, capture_output=True, text=True, check=False
    )
    assert json.loads(again.stdout)[0]["devices"]["unchanged"] == size


def test_an_error_mid_import_changes_neither_the_database_nor_memory(tmp_path, monkeypatch):
    app = make_app(tmp_path / "home")
    try:
        first = tmp_path / "first.jsonl"
        write_fleet(first, 50, apps=10)
        StreamImport(app.engine, str(first), "jsonl", T0, "test").run(iter_jsonl(first))
        db = app.settings.database
        before = snapshot(db)
        revision = app.engine.decisions.index.revision
        fleet_before = {
            k: list(app.engine.fleet.device_apps[s]) for k, s in app.engine.fleet.slot_of.items()
        }
        second = tmp_path / "second.jsonl"
        write_fleet(second, 300, apps=10, version="9")
        calls = {"n": 0}
        real = SqliteInventory.create_devices

        def failing(self, *args, **kwargs):
            calls["n"] += 1
            if calls["n"] == 4:  # the fourth chunk of new devices: 150 written before it
                raise OSError("disk on fire")
            return real(self, *args, **kwargs)

        monkeypatch.setattr(SqliteInventory, "create_devices", failing)
        with pytest.raises(OSError, match="disk on fire"):
            StreamImport(app.engine, str(second), "jsonl", T0, "test").run(
                iter_jsonl(second, chunk=50)
            )
        assert snapshot(db) == before
        assert app.engine.decisions.index.revision == revision
        assert {
            k: list(app.engine.fleet.device_apps[s]) for k, s in app.engine.fleet.slot_of.items()
        } == fleet_before
        monkeypatch.setattr(SqliteInventory, "create_devices", real)
        summary, _ = StreamImport(app.engine, str(second), "jsonl", T0, "test").run(
            iter_jsonl(second)
        )
        assert (summary.devices_added, summary.devices_updated) == (250, 50)
    finally:
        app.close()


def test_a_big_import_rebuilds_the_index_from_the_store(tmp_path, monkeypatch):
    """Past DELTA_LIMIT changed devices the import keeps none in memory and rebuilds the
    fleet index after the commit: same result, bounded memory."""
    monkeypatch.setattr("appwarden.services.bulk_import.DELTA_LIMIT", 10)
    app = make_app(tmp_path / "home")
    try:
        path = tmp_path / "fleet.jsonl"
        write_fleet(path, 60, apps=5)
        run = StreamImport(app.engine, str(path), "jsonl", T0, "test")
        summary, report = run.run(iter_jsonl(path, chunk=7))
        assert run.reload_all and summary.devices_added == 60
        assert len(app.engine.fleet) == 60
        assert report is not None
        failing = {v.device for v in report.all_verdicts()}
        assert failing == {f"dev-{n:06d}" for n in range(0, 60, 25)}  # the TikTok devices
        assert app.engine.decide("eas", "EAS00000025", T0).outcome.warn
    finally:
        app.close()
