"""Property: the fleet path (bitmaps, match caches, incremental updates) and the single-device
path give the same verdicts, and the same transitions, for any small fleet and any policies.

Hypothesis draws employees, devices (every platform, ownership, visibility, OS and patch
level, apps by id, by name only, or with a reported publisher), policies built from random
policy data (every scope dimension, every matcher kind, OS rules, deadlines with lead times and
grace, every action and unknown mode), exemptions and attestations, then assesses a few
instants while devices change, appear and disappear between them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from appwarden.core.assess import assess_device
from appwarden.core.catalog import Catalog
from appwarden.core.exemptions import (
    Attestation,
    AttestationBook,
    Exemption,
    ExemptionBook,
    TargetKind,
)
from appwarden.core.fleet import FleetIndex, load_device
from appwarden.core.fleet_assess import MatchCache, assess_fleet
from appwarden.core.inventory import (
    AppRef,
    Device,
    DeviceFacts,
    Employee,
    InstalledApp,
    MailIdentities,
    Ownership,
    Platform,
    Visibility,
)
from appwarden.core.matching import BarredApps
from appwarden.core.policy import PolicyVersion
from appwarden.core.policy_spec import policy_from_data
from appwarden.core.verdict import Verdict, VerdictKey, diff_verdicts
from tests.support.builders import shipped_catalog

T0 = datetime(2020, 7, 1, 16, 0, tzinfo=UTC)
EMAILS = ["a@corp.example", "b@corp.example", "c@corp.example", "ghost@corp.example"]
DEPARTMENTS = ["Sales", "Legal", "Engineering", ""]
GROUPS = ["travel", "exec", "research"]
APP_IDS = [
    "com.zhiliaoapp.musically",
    "com.ss.android.ugc.trill",
    "com.zhiliaoapp.musically.go",
    "com.ss.android.ugc.aweme",
    "com.ss.iphone.ugc.Aweme",
    "com.lemon.lvoverseas",
    "com.tencent.mm",
    "com.tencent.xin",
    "com.lenovo.anyshare.gps",
    "sg.bigo.live",
    "com.whatsapp",
    "com.example.unlisted",
]
NAMES = ["TikTok", "TikTok Lite", "WeChat", "CapCut", "Notes"]
REPORTED = [("com.example.clone", "Clone", "TikTok Ltd"), ("com.example.tool", "Tool", "Tencent")]
MATCHERS = [
    {"id": "com.zhiliaoapp.musically"},
    {"id": "com.ss.android.ugc.trill", "platform": "android"},
    {"id": "com.tencent.xin", "platform": "ios"},
    {"pattern": "com.ss.*"},
    {"name": "TikTok Lite"},
    {"name": "WeChat"},
    {"publisher": "TikTok Pte. Ltd."},
    {"parent": "ByteDance"},
    {"parent": "Tencent", "platform": "android"},
    {"jurisdiction": "CN"},
    {"jurisdiction": "SG"},
]


def _subset(options: list[str]) -> st.SearchStrategy[list[str]]:
    return st.lists(st.sampled_from(options), unique=True, max_size=len(options))


def _often_empty(options: list[str]) -> st.SearchStrategy[list[str]]:
    return st.one_of(st.just([]), st.just([]), _subset(options))


@st.composite
def employees(draw: st.DrawFn) -> list[Employee]:
    return [
        Employee(
            email=email,
            department=draw(st.sampled_from(DEPARTMENTS)),
            groups=frozenset(draw(_subset(GROUPS))),
        )
        for email in EMAILS[:3]
    ]


@st.composite
def apps(draw: st.DrawFn, platform: Platform) -> frozenset[InstalledApp]:
    chosen: set[InstalledApp] = set()
    for ident in draw(_subset(APP_IDS)):
        chosen.add(InstalledApp(AppRef.of(platform, ident), ident))
    for name in draw(_subset(NAMES)):
        chosen.add(InstalledApp(None, name, space=platform.app_space))
    for ident, name, publisher in draw(st.lists(st.sampled_from(REPORTED), unique=True)):
        chosen.add(InstalledApp(AppRef.of(platform, ident), name, publisher=publisher))
    return frozenset(chosen)


@st.composite
def devices(draw: st.DrawFn, key: str) -> Device:
    platform = draw(
        st.sampled_from([Platform.ANDROID, Platform.IOS, Platform.IPADOS, Platform.MACOS])
    )
    patch = draw(st.sampled_from([None, date(2020, 3, 1), date(2020, 4, 10), date(2020, 6, 1)]))
    return Device(
        key=key,
        platform=platform,
        owner=draw(st.sampled_from([*EMAILS, None])),
        ownership=draw(st.sampled_from(list(Ownership))),
        visibility=draw(st.sampled_from(list(Visibility))),
        os_version=draw(st.sampled_from(["", "9", "12", "13", "16.3.1", "16.4", "17.1"])),
        android_patch=patch if platform is Platform.ANDROID else None,
        mail=MailIdentities(tuple(draw(st.lists(st.sampled_from([f"EAS-{key}"]), max_size=1)))),
        has_mail_access=draw(st.booleans()),
        apps=draw(apps(platform)),
    )


@st.composite
def policy_data(draw: st.DrawFn, slug: str) -> dict[str, Any]:
    scope = {  # each dimension is often "everyone", so that devices are often in scope
        "platforms": draw(_often_empty(["ios", "ipados", "android", "macos"])),
        "ownership": draw(_often_empty([o.value for o in Ownership])),
        "mail_access": draw(st.sampled_from(["required", "any", "any"])),
        "departments": draw(_often_empty(DEPARTMENTS[:3])),
        "groups": draw(_often_empty(GROUPS)),
        "exclude_departments": draw(_often_empty(DEPARTMENTS[:3])),
        "exclude_groups": draw(_often_empty(GROUPS)),
    }
    rule: dict[str, Any] = {"barred_apps": draw(st.lists(st.sampled_from(MATCHERS), max_size=3))}
    if draw(st.booleans()):
        rule["minimum_os"] = draw(
            st.sampled_from([{"android": "13"}, {"ios": "16.4", "android": "10"}])
        )
    if draw(st.booleans()):
        rule["minimum_android_patch"] = "2020-04-01"
    if draw(st.booleans()):
        rule["maximum_patch_age"] = draw(st.sampled_from(["P90D", "P120D"]))
    if not any(rule.values()):
        rule["barred_apps"] = [{"parent": "ByteDance"}]
    deadline: dict[str, Any] = draw(
        st.sampled_from(
            [
                {"at": "2020-07-10T18:00", "timezone": "America/Los_Angeles"},
                {"at": "2020-07-05T00:00:00Z"},
                {"after_publication": "P14D"},
                {"after_publication": "PT36H"},
            ]
        )
    )
    if draw(st.booleans()):
        deadline["late_grace"] = draw(st.sampled_from(["P3D", "PT12H"]))
    return {
        "slug": slug,
        "title": {"en": slug, "ar": slug},
        "reason": {"en": "r", "ar": "r"},
        "owner": "security@corp.example",
        "scope": scope,
        "rule": rule,
        "deadline": deadline,
        "after_deadline": draw(st.sampled_from(["block_mail", "warn", "report"])),
        "unknown": draw(st.sampled_from(["allow", "attest", "block"])),
    }


def instants(lo: int = 0, hi: int = 30 * 24) -> st.SearchStrategy[datetime]:
    return st.integers(lo, hi).map(lambda h: T0 + timedelta(hours=h))


@st.composite
def exemptions(draw: st.DrawFn, slugs: list[str], keys: list[str]) -> ExemptionBook:
    rows = []
    for i in range(draw(st.integers(0, 3))):
        device = draw(st.booleans())
        created = draw(instants(-48, 20 * 24))
        rows.append(
            Exemption(
                id=f"ex{i}",
                target_kind=TargetKind.DEVICE if device else TargetKind.EMPLOYEE,
                target=draw(st.sampled_from(keys))
                if device
                else draw(st.sampled_from(EMAILS)).upper(),
                policy=draw(st.sampled_from([*slugs, "*"])),
                reason="r",
                approver="boss@corp.example",
                created_by="it@corp.example",
                created_at=created,
                expires_at=created + timedelta(hours=draw(st.integers(1, 20 * 24))),
                revoked_at=draw(st.none() | instants()),
            )
        )
    return ExemptionBook(rows)


@st.composite
def attestations(draw: st.DrawFn, slugs: list[str], keys: list[str]) -> AttestationBook:
    rows = []
    for i in range(draw(st.integers(0, 3))):
        signed = draw(instants(-48, 20 * 24))
        rows.append(
            Attestation(
                id=f"att{i}",
                device=draw(st.sampled_from(keys)),
                policy=draw(st.sampled_from(slugs)),
                employee="a@corp.example",
                statement="no barred app",
                signed_at=signed,
                expires_at=signed + timedelta(hours=draw(st.integers(1, 20 * 24))),
                revoked_at=draw(st.none() | instants()),
            )
        )
    return AttestationBook(rows)


@st.composite
def worlds(draw: st.DrawFn) -> dict[str, Any]:
    keys = [f"d{i}" for i in range(draw(st.integers(1, 7)))]
    slugs = [f"policy-{i}" for i in range(draw(st.integers(1, 3)))]
    versions = []
    for slug in slugs:
        policy = policy_from_data(draw(policy_data(slug)), slug)
        published = draw(instants(-72, 72))
        versions.append(PolicyVersion(policy, 1, published, policy.deadline.resolve(published)))
    steps = []
    for _ in range(draw(st.integers(1, 4))):
        changed = {k: draw(devices(k)) for k in draw(_subset(keys))}
        removed = draw(_subset(keys))
        steps.append((draw(instants()), changed, removed))
    return {
        "employees": draw(employees()),
        "devices": {k: draw(devices(k)) for k in keys},
        "versions": versions,
        "exemptions": draw(exemptions(slugs, keys)),
        "attestations": draw(attestations(slugs, keys)),
        "steps": sorted(steps, key=lambda s: s[0]),
    }


def single_path(
    world: dict[str, Any],
    devices_now: dict[str, Device],
    catalog: Catalog,
    previous: dict[str, dict[str, Verdict]],
    now: datetime,
) -> dict[VerdictKey, Verdict]:
    people = {e.email: e for e in world["employees"]}
    out: dict[VerdictKey, Verdict] = {}
    for key, dev in devices_now.items():
        owner = people.get(dev.owner.lower()) if dev.owner else None
        for pv in world["versions"]:
            got = assess_device(
                DeviceFacts(dev, owner),
                pv,
                BarredApps(pv.policy.rule.barred, catalog),
                world["exemptions"],
                world["attestations"],
                previous.get(pv.slug, {}).get(key),
                now,
            )
            if got is not None and not got.is_plain_compliant:
                out[(key, pv.slug)] = got
    return out


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(worlds())
def test_fleet_and_single_device_paths_agree(world: dict[str, Any]) -> None:
    catalog = shipped_catalog()
    fleet = FleetIndex()
    for person in world["employees"]:
        fleet.upsert_employee(person)
    current: dict[str, Device] = dict(world["devices"])
    for dev in current.values():
        load_device(fleet, dev)
    caches: dict[str, MatchCache] = {}
    previous: dict[str, dict[str, Verdict]] = {}
    for now, changed, removed in world["steps"]:
        for key, dev in changed.items():
            current[key] = dev
            load_device(fleet, dev)
        for key in removed:
            if key in current and key not in changed:
                del current[key]
                fleet.remove_device(key)
        result = assess_fleet(
            fleet,
            world["versions"],
            catalog,
            world["exemptions"],
            world["attestations"],
            previous,
            now,
            caches,
        )
        fleet_verdicts = result.verdicts()
        singles = single_path(world, current, catalog, previous, now)
        assert fleet_verdicts == singles
        flat_previous = {(d, slug): v for slug, vs in previous.items() for d, v in vs.items()}
        expected = diff_verdicts(flat_previous, singles, now)
        assert sorted(result.transitions) == sorted(expected)
        for slug, policy_result in result.results.items():
            counted = sum(policy_result.counts().values())
            assert counted == policy_result.in_scope, slug
        previous = result.by_policy()
