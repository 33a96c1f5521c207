"""Every importer against its fixtures, through the real engine on SQLite: devices, owners,
visibility, apps, and what the seed policy (TikTok, `unknown: attest`) makes of them."""

from __future__ import annotations

from pathlib import Path

import pytest

from appwarden.core.inventory import Ownership, Platform, Visibility
from appwarden.entrypoints.cli.inventory_cmd import PARSERS
from tests.support.builders import T0
from tests.support.inventory import FIXTURES, make_app


@pytest.fixture
def app(tmp_path):
    application = make_app(tmp_path / "home")
    yield application
    application.close()


def run(app, source: str, name: str, **kw):
    batch = PARSERS[source](FIXTURES / source / name)
    return app.engine.import_inventory(batch, "test", T0, **kw)


def device(app, key: str):
    with app.store.read() as uow:
        found = uow.inventory.device(key)
    assert found is not None, key
    return found


def ids(found) -> set[str]:
    return {str(a.ref) for a in found.apps if a.ref}


def status(app, key: str) -> str:
    verdicts = {v.policy: v.status.value for v in app.engine.device_verdicts(key)}
    return verdicts.get("tiktok-mail", "compliant")


def test_intune_graph_managed_devices(app):
    summary, _ = run(app, "intune", "managedDevices.json")
    assert (summary.devices_added, summary.devices_without_owner) == (4, 1)
    assert [w.field for w in summary.warnings] == ["owner"]
    maria = device(app, "intune-7f3c2a10-91d4-4c6e-a8b2-1f0e6d9c4b21")
    assert (maria.platform, maria.ownership, maria.visibility) == (
        Platform.IOS,
        Ownership.CORPORATE,
        Visibility.ALL,
    )
    assert maria.mail.eas_device_ids == ("ApplF17XYZ0001",)
    assert maria.last_seen is not None and maria.last_seen.isoformat().startswith(
        "2020-07-01T07:58:12"
    )
    assert status(app, maria.key) == "pending"  # TikTok by name (detectedApp has no bundle id)
    omar = device(app, "intune-a91e0c3b-7d22-4f57-b3c1-8e2d4f6a0b13")
    assert omar.visibility is Visibility.MANAGED  # Apple user enrolment: managed apps only
    assert status(app, omar.key) == "unknown"
    priya = device(app, "intune-c2d4e6f8-0a1b-4c3d-9e5f-7a8b9c0d1e2f")
    assert (priya.visibility, str(priya.android_patch)) == (Visibility.MANAGED, "2020-06-05")
    scanner = device(app, "intune-e4f60718-293a-4b5c-8d7e-8f90a1b2c3d4")
    assert scanner.owner is None and scanner.apps == frozenset()


def test_intune_app_centric_export_and_csv_add_to_the_same_devices(app):
    run(app, "intune", "managedDevices.json")
    summary, _ = run(app, "intune", "detectedApps.json")
    assert (summary.devices_added, summary.devices_updated, summary.devices_unchanged) == (0, 2, 1)
    omar = device(app, "intune-a91e0c3b-7d22-4f57-b3c1-8e2d4f6a0b13")
    assert omar.owner == "omar.alharbi@corp.example"  # a thinner report keeps what was known
    summary, _ = run(app, "intune", "AppInvRawData-utf16.csv")  # UTF-16, as exported
    assert summary.devices_added == 1 and summary.devices_updated == 2 and not summary.rejected
    maria = device(app, "intune-7f3c2a10-91d4-4c6e-a8b2-1f0e6d9c4b21")
    assert "ios:com.zhiliaoapp.musically" in {str(a.ref) for a in maria.apps if a.ref}
    assert maria.visibility is Visibility.ALL  # ownership known from the Graph export
    priya = device(app, "intune-c2d4e6f8-0a1b-4c3d-9e5f-7a8b9c0d1e2f")
    assert "android:com.ss.android.ugc.trill" in ids(priya)  # TikTok (Asia) by package name
    assert not priya.reaches_mail and status(app, priya.key) == "compliant"  # out of scope


def test_intune_csv_in_utf8_with_bom_reads_the_same(app):
    utf8 = PARSERS["intune"](FIXTURES / "intune" / "AppInvRawData.csv")
    utf16 = PARSERS["intune"](FIXTURES / "intune" / "AppInvRawData-utf16.csv")
    assert [(r.source_id, r.device.apps) for r in utf8.reports] == [
        (r.source_id, r.device.apps) for r in utf16.reports
    ]


def test_jamf(app):
    summary, _ = run(app, "jamf", "mobile-devices-detail.json")
    assert summary.devices_added == 2  # the Apple TV is not a mail device
    phone = device(app, "jamf-12")
    assert (phone.ownership, phone.visibility, phone.serial) == (
        Ownership.CORPORATE,
        Visibility.ALL,
        "F17ZQ1X2N72J",
    )
    assert {"ios:com.zhiliaoapp.musically", "ios:com.tencent.xin"} <= ids(phone)
    assert not phone.reaches_mail  # Jamf knows nothing of mail: Intune or Exchange do
    ipad = device(app, "jamf-31")
    assert (ipad.platform, ipad.visibility) == (Platform.IPADOS, Visibility.MANAGED)


def test_google_android_management_api(app):
    summary, _ = run(app, "google-amapi", "devices.json")
    assert summary.devices_added == 2
    assert any("deleted" in w.message for w in summary.warnings)
    owned = device(app, "google-amapi-3a9f1c7e5b2d4e60")
    assert owned.owner == "ahmed.alotaibi@corp.example"
    assert owned.visibility is Visibility.ALL and str(owned.android_patch) == "2020-06-01"
    packages = {a.ref.identifier for a in owned.apps if a.ref}
    assert "com.zhiliaoapp.musically" in packages and "com.lemon.lvoverseas" not in packages
    profile = device(app, "google-amapi-7c1e4b0a9d8f2e31")
    assert (profile.ownership, profile.visibility) == (Ownership.PERSONAL, Visibility.MANAGED)


def test_google_admin_sdk(app):
    summary, _ = run(app, "google-admin", "mobiledevices.json")
    assert summary.devices_added == 2
    android = device(app, "google-admin-AFiQxQ8mb2SqyO-9xWAbL2wYDhdc1a0GpR4yHq_J6x4yS3zVxQ")
    assert str(android.android_patch) == "2020-06-01"  # epoch milliseconds in the API
    assert status(app, android.key) == "pending"
    iphone = device(app, "google-admin-AFiQxQ9nc3TrzP-0yXBcM3xZEied2b1HqS5zIr_K7y5zT4aWyR")
    assert iphone.visibility is Visibility.NONE and iphone.mail.eas_device_ids == (
        "ApplDNPXK4L2JF8L",
    )
    assert status(app, iphone.key) == "unknown"


def test_fleet(app):
    run(app, "fleet", "host.json")
    summary, _ = run(app, "fleet", "hosts.json")
    assert summary.devices_added == 2
    sarah = device(app, "fleet-1187")
    assert (sarah.owner, sarah.visibility) == ("sarah.johnson@corp.example", Visibility.MANAGED)
    android = device(app, "fleet-2210")
    assert android.visibility is Visibility.ALL and "android:com.zhiliaoapp.musically" in ids(
        android
    )
    mac = device(app, "fleet-31")
    assert {a.ref.identifier for a in mac.apps if a.ref} == {"com.google.Chrome"}  # no brew


@pytest.mark.parametrize("name", ["devices.json", "devices.jsonl"])
def test_headwind(app, name):
    summary, _ = run(app, "headwind", name)
    assert (summary.devices_added, summary.devices_without_owner) == (2, 1)
    tablet = device(app, "headwind-h0001")
    assert {a.ref.identifier for a in tablet.apps if a.ref} == {
        "com.hmdm.launcher",
        "com.lenovo.anyshare.gps",
    }
    assert tablet.visibility is Visibility.ALL and tablet.owner == "james.smith@corp.example"


def test_reimporting_an_export_changes_nothing(app):
    run(app, "jamf", "mobile-devices-detail.json")
    summary, report = run(app, "jamf", "mobile-devices-detail.json")
    assert (summary.devices_added, summary.devices_updated, summary.devices_unchanged) == (0, 0, 2)
    assert report is None


def test_an_older_export_does_not_overwrite_a_newer_one(app, tmp_path):
    run(app, "jamf", "mobile-devices-detail.json")
    text = (FIXTURES / "jamf" / "mobile-devices-detail.json").read_text()
    older = tmp_path / "older.json"
    older.write_text(
        text.replace("2020-06-29T10:30:00.000Z", "2020-05-01T10:30:00.000Z").replace(
            '"13.5"', '"12.4"'
        )
    )
    summary, _ = app.engine.import_inventory(PARSERS["jamf"](older), "test", T0)
    assert summary.devices_skipped == 1
    assert device(app, "jamf-12").os_version == "13.5"


def test_dry_run_writes_nothing(app):
    summary, report = run(app, "google-amapi", "devices.json", dry_run=True)
    assert summary.dry_run and summary.devices_added == 2 and report is None
    with app.store.read() as uow:
        assert uow.inventory.count_devices() == 0
    assert len(app.engine.fleet) == 0


def test_every_fixture_parses_cleanly():
    """Every vendor fixture is a clean export (bad input is built inside the tests)."""
    for source in PARSERS:
        folder = FIXTURES / source
        files = sorted(Path(folder).glob("*")) if folder.exists() else []
        for path in (p for p in files if "bad" not in p.stem):
            batch = PARSERS[source](path)
            assert not batch.rejected, (path, [p.render() for p in batch.rejected])
            assert batch.device_count + len(batch.employees) > 0, path
