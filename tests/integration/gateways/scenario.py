"""The fleet the gateway suite enforces against (times are the seed case's: July 2020)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from appwarden.adapters.policy_files import read_policy_text
from appwarden.core.inventory import Device, Employee, MailIdentities, Ownership, Platform
from appwarden.core.policy_spec import policy_from_data
from appwarden.services.compliance import Compliance
from appwarden.services.inventory import ImportBatch
from tests.support.builders import app

REPO = Path(__file__).resolve().parents[3]
T0 = datetime(2020, 7, 1, 16, 0, tzinfo=UTC)
DEADLINE = datetime(2020, 7, 11, 1, 0, tzinfo=UTC)  # 2020-07-10 18:00 America/Los_Angeles
AFTER = datetime(2020, 7, 11, 2, 0, tzinfo=UTC)
TIKTOK = "com.zhiliaoapp.musically"
WECHAT = "com.tencent.mm"

REPORT_POLICY = {
    "slug": "wechat-report",
    "title": {"en": "WeChat is being reviewed", "ar": "تطبيق WeChat قيد المراجعة"},
    "reason": {"en": "Dry run before a ban", "ar": "تجربة قبل الحظر"},
    "owner": "security@corp.test",
    "scope": {"platforms": ["ios", "android"]},
    "rule": {"barred_apps": [{"id": WECHAT}]},
    "deadline": {"at": "2020-07-10T18:00", "timezone": "America/Los_Angeles"},
    "after_deadline": "report",
    "unknown": "allow",
}


def employees() -> list[Employee]:
    return [
        Employee("alice@corp.test", "Alice", locale="en"),
        Employee("bob@corp.test", "Bob", locale="ar"),
        Employee("carol@corp.test", "Carol", locale="en"),
    ]


def device(key: str, owner: str, apps: list[str], eas: str, imap: str, cert: str = "") -> Device:
    return Device(
        key=key,
        platform=Platform.ANDROID,
        owner=owner,
        ownership=Ownership.CORPORATE,
        mail=MailIdentities((eas,), (cert,) if cert else (), (imap,)),
        has_mail_access=True,
        apps=frozenset(app(a) for a in ["com.android.chrome", *apps]),
    )


def baseline(fingerprints: dict[str, str]) -> list[Device]:
    return [
        device(
            "dev-alice", "alice@corp.test", [], "GOODDEVICE1", "GOODIMAP1", fingerprints["good"]
        ),
        device("dev-bob", "bob@corp.test", [TIKTOK], "BADDEVICE1", "BADIMAP1", fingerprints["bad"]),
        device("dev-carol", "carol@corp.test", [WECHAT], "REPORTDEVICE1", "REPORTIMAP1"),
    ]


def load(engine: Compliance, fingerprints: dict[str, str]) -> None:
    path = REPO / "policies" / "tiktok-mail.yaml"
    tiktok = read_policy_text(path.read_text(encoding="utf-8"), str(path))
    report = policy_from_data(REPORT_POLICY, "wechat-report.yaml")
    engine.import_inventory(
        ImportBatch("test", "fleet", employees(), baseline(fingerprints)), "tests", T0
    )
    for policy in (tiktok, report):
        engine.apply_policy(policy, "test", "tests", "gateway suite", T0)


def check_in(engine: Compliance, dev: Device, at: datetime) -> None:
    """What a device check-in does: new inventory for one device, re-assessed at once."""
    engine.import_inventory(ImportBatch("checkin", dev.key, [], [dev]), dev.key, at)
