"""`appwarden import` through the real entry point: formats, bad input, progress, dry run."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.inventory import FIXTURES


def cli(
    home: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "appwarden", "--home", str(home), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "APPWARDEN_CLOCK": "2020-07-01T16:00:00Z", **(env or {})},
    )


def count(home: Path, table: str) -> int:
    with sqlite3.connect(home / "appwarden.db") as conn:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def device_line(key: str, apps: int = 3, **extra: object) -> str:
    record = {
        "key": key,
        "platform": "android",
        "owner": "a@corp.example",
        "mail": {"eas": [f"EAS-{key}"]},
        "apps": [{"id": f"com.acme.app{i}", "name": f"App {i}"} for i in range(apps)],
        **extra,
    }
    return json.dumps(record)


@pytest.fixture
def home(tmp_path):
    return tmp_path / "home"


def test_every_source_imports_with_a_summary(home):
    for source, name in [
        ("intune", "managedDevices.json"),
        ("intune", "AppInvRawData-utf16.csv"),
        ("jamf", "mobile-devices-detail.json"),
        ("google-amapi", "devices.json"),
        ("google-admin", "mobiledevices.json"),
        ("fleet", "hosts.json"),
        ("headwind", "devices.jsonl"),
    ]:
        done = cli(home, "import", "--source", source, str(FIXTURES / source / name), "--json")
        assert done.returncode == 0, (source, done.stderr)
        summary = json.loads(done.stdout)[0]
        assert summary["devices"]["added"] + summary["devices"]["updated"] > 0, source
    assert count(home, "devices") == 14  # Maria's iPhone: Intune and Jamf, one device
    listed = cli(
        home, "inventory", "sources", "intune-7f3c2a10-91d4-4c6e-a8b2-1f0e6d9c4b21", "--json"
    )
    assert {row["source"] for row in json.loads(listed.stdout)} == {"intune", "jamf"}


def test_progress_bar_and_human_summary(home, tmp_path):
    path = tmp_path / "devices.jsonl"
    path.write_text("\n".join(device_line(f"d{i}") for i in range(30)) + "\n")
    done = cli(home, "import", str(path), env={"APPWARDEN_PROGRESS": "1"})
    assert done.returncode == 0, done.stderr
    assert "importing devices.jsonl" in done.stderr
    assert "30 added, 0 updated, 0 unchanged" in done.stdout


def test_truncated_file_is_rejected_whole(home, tmp_path):
    path = tmp_path / "cut.jsonl"
    text = "\n".join(device_line(f"d{i}") for i in range(10))
    path.write_text(text[: len(text) - 25])  # the last line is cut off mid-object
    done = cli(home, "import", str(path))
    assert done.returncode == 2
    assert "cut.jsonl:10" in done.stderr and "not valid JSON" in done.stderr
    assert "nothing was imported" in done.stderr
    assert count(home, "devices") == 0


def test_malformed_vendor_json_names_line_and_cause(home, tmp_path):
    path = tmp_path / "intune.json"
    path.write_text((FIXTURES / "intune" / "managedDevices.json").read_text()[:1500])
    done = cli(home, "import", "--source", "intune", str(path))
    assert done.returncode == 2
    assert "intune.json:" in done.stderr and "looks truncated" in done.stderr
    assert "Traceback" not in done.stderr


def test_utf16_native_csv(home, tmp_path):
    path = tmp_path / "devices.csv"
    rows = ["device,owner,platform,eas_device_id,app_id,app_name"]
    rows += [f"d{i},a@corp.example,android,EAS{i},com.whatsapp,WhatsApp" for i in range(3)]
    path.write_bytes("\r\n".join(rows).encode("utf-16"))
    done = cli(home, "import", str(path), "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)[0]["devices"]["added"] == 3


def test_unknown_columns_are_refused_in_our_format_and_reported_in_vendor_exports(home, tmp_path):
    ours = tmp_path / "devices.csv"
    ours.write_text("device,platform,shoe_size\nd1,android,44\n")
    done = cli(home, "import", str(ours))
    assert done.returncode == 2 and "unknown column(s): shoe_size" in done.stderr
    theirs = tmp_path / "AppInvRawData.csv"
    text = (FIXTURES / "intune" / "AppInvRawData.csv").read_text(encoding="utf-8-sig")
    lines = text.splitlines()
    theirs.write_text("\n".join([lines[0] + ",Notes"] + [ln + ",x" for ln in lines[1:]]) + "\n")
    done = cli(home, "import", "--source", "intune", str(theirs), "--json")
    assert done.returncode == 0, done.stderr
    assert "ignored unknown column(s): Notes" in json.loads(done.stdout)[0]["warnings"][0]


def test_duplicate_rows_are_rejected_or_skipped(home, tmp_path):
    path = tmp_path / "dup.jsonl"
    path.write_text("\n".join([device_line("d1"), device_line("d2"), device_line("d1", 5)]) + "\n")
    done = cli(home, "import", str(path))
    assert done.returncode == 2 and "duplicates device d1 of line 1" in done.stderr
    assert count(home, "devices") == 0
    done = cli(home, "import", str(path), "--skip-bad", "--json")
    assert done.returncode == 0
    summary = json.loads(done.stdout)[0]
    assert summary["devices"]["added"] == 2 and len(summary["rejected"]) == 1


def test_devices_without_an_owner_are_imported_and_reported(home):
    done = cli(home, "import", "--source", "headwind", str(FIXTURES / "headwind" / "devices.json"))
    assert done.returncode == 0
    assert "without owner  1" in done.stdout
    assert "device h0002 has no owner" in done.stdout


def test_an_app_list_of_100000_entries(home, tmp_path):
    path = tmp_path / "huge.jsonl"
    path.write_text(device_line("ok") + "\n" + device_line("huge", 100_000) + "\n")
    done = cli(home, "import", str(path))
    assert done.returncode == 2
    assert "huge.jsonl:2: apps: lists 100000 apps, more than 10000" in done.stderr
    assert count(home, "devices") == 0


def test_dry_run(home, tmp_path):
    path = tmp_path / "devices.jsonl"
    path.write_text(device_line("d1") + "\n")
    done = cli(home, "import", str(path), "--dry-run")
    assert done.returncode == 0 and "would import" in done.stdout
    assert count(home, "devices") == 0


def test_unknown_source_names_the_choices(home):
    done = cli(home, "import", "--source", "airwatch", "x.json")
    assert done.returncode == 2
    assert "--source: unknown source 'airwatch'" in done.stderr and "intune" in done.stderr
