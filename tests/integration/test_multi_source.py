"""Two MDMs report the same iPhone: one device, per-field precedence, conflicts kept and shown."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from appwarden.adapters.importers.directory import parse_directory
from appwarden.entrypoints.cli.inventory_cmd import PARSERS
from appwarden.services.directory import run_sync
from tests.support.builders import T0
from tests.support.inventory import FIXTURES, make_app, serving, token

MARIA = "intune-7f3c2a10-91d4-4c6e-a8b2-1f0e6d9c4b21"


def load(app, source: str, name: str):
    return app.engine.import_inventory(PARSERS[source](FIXTURES / source / name), "test", T0)


@pytest.fixture
def app(tmp_path):
    application = make_app(tmp_path / "home")
    yield application
    application.close()


def conflicts(app, key: str) -> dict[str, object]:
    with app.store.read() as uow:
        return {c.conflict.field: c.conflict for c in uow.sources.conflicts(key)}


def test_same_phone_from_intune_and_jamf_is_one_device(app):
    load(app, "intune", "managedDevices.json")
    summary, _ = load(app, "jamf", "mobile-devices-detail.json")
    assert summary.devices_merged == 1 and summary.devices_added == 1  # the iPad is new
    with app.store.read() as uow:
        assert uow.inventory.count_devices() == 5
        phone = uow.inventory.device(MARIA)
        sources = uow.sources.snapshots(MARIA)
    assert set(sources) == {"intune", "jamf"}
    assert phone.os_version == "13.5.1"  # intune ranks before jamf
    assert phone.owner == "maria.garcia@corp.example"
    # apps: Intune's list (2020-07-01) is fresher than Jamf's (2020-06-29), and both see every
    # app: Intune's counts, Jamf's differences are kept as a conflict
    apps = {str(a.ref) if a.ref else f"name:{a.name}" for a in phone.apps}
    assert "name:TikTok" in apps and "ios:com.tencent.xin" not in apps
    found = conflicts(app, MARIA)
    assert set(found) == {"os_version", "owner", "apps"}
    assert found["apps"].chosen_source == "intune"
    assert "also lists" in dict(found["apps"].others)["jamf"]
    assert "ios:com.tencent.xin" in dict(found["apps"].others)["jamf"]
    assert found["os_version"].chosen == "13.5.1" and found["os_version"].others == (
        ("jamf", "13.5"),
    )
    assert found["owner"].others == (("jamf", "m.garcia@corp.example"),)
    # the merged device reaches mail through Intune's EAS id (a field Jamf does not know)
    verdict = app.engine.device_verdicts(MARIA)[0]
    assert verdict.status.value == "pending"
    assert {f.app for f in verdict.findings} == {"name:tiktok"}  # Intune names it, no bundle id


def test_precedence_is_a_setting(tmp_path):
    app = make_app(tmp_path / "h", source_precedence="jamf,intune")
    try:
        load(app, "intune", "managedDevices.json")
        load(app, "jamf", "mobile-devices-detail.json")
        with app.store.read() as uow:
            assert uow.inventory.device(MARIA).os_version == "13.5"
        assert conflicts(app, MARIA)["os_version"].others == (("intune", "13.5.1"),)
    finally:
        app.close()


def test_an_outdated_source_does_not_conflict(app, tmp_path):
    load(app, "intune", "managedDevices.json")
    old = json.loads((FIXTURES / "jamf" / "mobile-devices-detail.json").read_text())
    old["results"][0]["general"]["lastInventoryUpdateDate"] = "2020-05-01T00:00:00Z"
    path = tmp_path / "old-jamf.json"
    path.write_text(json.dumps(old))
    app.engine.import_inventory(PARSERS["jamf"](path), "test", T0)
    assert "os_version" not in conflicts(app, MARIA)
    with app.store.read() as uow:
        phone = uow.inventory.device(MARIA)
    assert "ios:com.tencent.xin" not in {str(a.ref) for a in phone.apps if a.ref}  # stale list


def test_directory_aliases_resolve_the_owner_conflict(app, tmp_path):
    load(app, "intune", "managedDevices.json")
    load(app, "jamf", "mobile-devices-detail.json")
    assert "owner" in conflicts(app, MARIA)
    run_sync(app.engine, parse_directory(FIXTURES / "directory" / "people.csv"), "test", T0)
    newer = json.loads((FIXTURES / "jamf" / "mobile-devices-detail.json").read_text())
    newer["results"][0]["general"]["lastInventoryUpdateDate"] = "2020-06-30T10:30:00Z"
    path = tmp_path / "jamf-newer.json"
    path.write_text(json.dumps(newer))
    app.engine.import_inventory(PARSERS["jamf"](path), "test", T0)
    assert "owner" not in conflicts(app, MARIA)


def test_conflicts_are_visible_in_the_api_and_the_cli(app, tmp_path):
    load(app, "intune", "managedDevices.json")
    load(app, "jamf", "mobile-devices-detail.json")
    with serving(app) as http:
        viewer = {"authorization": f"Bearer {token(app, 'viewer')}"}
        body = http.get(f"/v1/devices/{MARIA}/sources", headers=viewer).json()
        assert {s["source"] for s in body["sources"]} == {"intune", "jamf"}
        assert {c["field"] for c in body["conflicts"]} == {"os_version", "owner", "apps"}
        listed = http.get("/v1/conflicts", headers=viewer).json()
        assert {c["device"] for c in listed} == {MARIA}
    app.close()
    home = tmp_path / "home"
    cli = subprocess.run(
        [
            sys.executable,
            "-m",
            "appwarden",
            "--home",
            str(home),
            "inventory",
            "conflicts",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert cli.returncode == 0, cli.stderr
    rows = json.loads(cli.stdout)
    assert {(r["device"], r["field"]) for r in rows} >= {(MARIA, "os_version"), (MARIA, "owner")}
