"""A realistic synthetic fleet, seeded and reproducible, from 5,000 employees to a million devices.

Shape (choices documented in docs/demo.md, drawn from the research notes in shared/reference):
* 1-3 devices per employee (about 1.4 on average); iOS 58 %, Android 38 %, iPadOS 4 %;
  corporate 55 %, personal 45 %.
* Personal devices: 75 % report every app (a consenting agent), 18 % only managed apps (user
  enrolment / work profile), 7 % nothing (mail-only): the last two are `unknown` to app rules.
* 40-110 apps per device, drawn from a skewed (Zipf-Mandelbrot) popularity over real popular apps
  and a long tail of synthetic ones; barred apps from the catalog appear at realistic rates
  (TikTok on about 4 % of devices).
* About 93 % of devices reach corporate mail (an EAS DeviceId, some with a client certificate).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import accumulate

from appwarden.core.inventory import (
    AppRef,
    Device,
    Employee,
    InstalledApp,
    MailIdentities,
    Ownership,
    Platform,
    Visibility,
)

DEPARTMENTS = (
    ("Sales", 18),
    ("Engineering", 20),
    ("Operations", 12),
    ("Support", 10),
    ("Marketing", 8),
    ("Finance", 7),
    ("Logistics", 7),
    ("HR", 4),
    ("Legal", 3),
    ("Research", 6),
    ("Security", 2),
    ("Executive", 1),
)
# (country, locale, time zones, weight)
REGIONS = (
    ("US", "en", ("America/Los_Angeles", "America/New_York", "America/Chicago"), 40),
    ("GB", "en", ("Europe/London",), 10),
    ("SA", "ar", ("Asia/Riyadh",), 14),
    ("AE", "ar", ("Asia/Dubai",), 8),
    ("EG", "ar", ("Africa/Cairo",), 8),
    ("IN", "en", ("Asia/Kolkata",), 12),
    ("DE", "en", ("Europe/Berlin",), 8),
)
FIRST_EN = (
    "James",
    "Mary",
    "Robert",
    "Patricia",
    "John",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Priya",
    "Arjun",
    "Anika",
    "Rahul",
    "Lena",
    "Jonas",
    "Emma",
    "Noah",
)
LAST_EN = (
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Wilson",
    "Anderson",
    "Taylor",
    "Thomas",
    "Moore",
    "Martin",
    "Patel",
    "Sharma",
    "Iyer",
    "Schmidt",
    "Weber",
    "Clarke",
    "Evans",
    "Hughes",
)
FIRST_AR = (
    "محمد",
    "أحمد",
    "فاطمة",
    "عائشة",
    "علي",
    "عمر",
    "خديجة",
    "مريم",
    "يوسف",
    "نورة",
    "سارة",
    "خالد",
    "ليلى",
    "حسن",
    "ريم",
    "عبدالله",
)
LAST_AR = (
    "العتيبي",
    "القحطاني",
    "الشمري",
    "الحربي",
    "المصري",
    "الزهراني",
    "الدوسري",
    "السيد",
    "النجار",
    "الخطيب",
    "الحسيني",
    "العلي",
)
GROUPS = ("all-staff", "mobile-users", "contractors", "gov-contracts", "travel", "managers")

# Real popular apps: (name, android package, iOS bundle id, publisher)
POPULAR = (
    ("WhatsApp", "com.whatsapp", "net.whatsapp.WhatsApp", "WhatsApp LLC"),
    (
        "Microsoft Outlook",
        "com.microsoft.office.outlook",
        "com.microsoft.Office.Outlook",
        "Microsoft Corporation",
    ),
    (
        "Microsoft Teams",
        "com.microsoft.teams",
        "com.microsoft.skype.teams",
        "Microsoft Corporation",
    ),
    ("Google Chrome", "com.android.chrome", "com.google.chrome.ios", "Google LLC"),
    ("YouTube", "com.google.android.youtube", "com.google.ios.youtube", "Google LLC"),
    ("Instagram", "com.instagram.android", "com.burbn.instagram", "Instagram"),
    ("Facebook", "com.facebook.katana", "com.facebook.Facebook", "Meta Platforms, Inc."),
    ("Messenger", "com.facebook.orca", "com.facebook.Messenger", "Meta Platforms, Inc."),
    ("Spotify", "com.spotify.music", "com.spotify.client", "Spotify AB"),
    ("Zoom", "us.zoom.videomeetings", "us.zoom.videomeetings", "Zoom Video Communications"),
    ("Slack", "com.Slack", "com.tinyspeck.chatlyio", "Slack Technologies"),
    ("Google Maps", "com.google.android.apps.maps", "com.google.Maps", "Google LLC"),
    ("Gmail", "com.google.android.gm", "com.google.Gmail", "Google LLC"),
    ("Netflix", "com.netflix.mediaclient", "com.netflix.Netflix", "Netflix, Inc."),
    ("LinkedIn", "com.linkedin.android", "com.linkedin.LinkedIn", "LinkedIn"),
    ("X", "com.twitter.android", "com.atebits.Tweetie2", "X Corp."),
    ("Snapchat", "com.snapchat.android", "com.toyopagroup.picaboo", "Snap Inc."),
    ("Uber", "com.ubercab", "com.ubercab.UberClient", "Uber Technologies"),
    (
        "Microsoft Authenticator",
        "com.azure.authenticator",
        "com.microsoft.azureauthenticator",
        "Microsoft Corporation",
    ),
    (
        "Microsoft Word",
        "com.microsoft.office.word",
        "com.microsoft.Office.Word",
        "Microsoft Corporation",
    ),
    (
        "Microsoft Excel",
        "com.microsoft.office.excel",
        "com.microsoft.Office.Excel",
        "Microsoft Corporation",
    ),
    ("OneDrive", "com.microsoft.skydrive", "com.microsoft.skydrive", "Microsoft Corporation"),
    ("Google Drive", "com.google.android.apps.docs", "com.google.Drive", "Google LLC"),
    ("Dropbox", "com.dropbox.android", "com.getdropbox.Dropbox", "Dropbox, Inc."),
    ("Amazon Shopping", "com.amazon.mShop.android.shopping", "com.amazon.Amazon", "Amazon"),
    ("Telegram", "org.telegram.messenger", "ph.telegra.Telegraph", "Telegram FZ-LLC"),
    ("Signal", "org.thoughtcrime.securesms", "org.whispersystems.signal", "Signal Messenger"),
    ("Duolingo", "com.duolingo", "com.duolingo.DuolingoMobile", "Duolingo"),
    ("Waze", "com.waze", "com.waze.iphone", "Waze"),
    ("Booking.com", "com.booking", "com.booking.BookingApp", "Booking.com"),
    ("Airbnb", "com.airbnb.android", "com.airbnb.app", "Airbnb"),
    ("Pinterest", "com.pinterest", "pinterest", "Pinterest"),
    ("Reddit", "com.reddit.frontpage", "com.reddit.Reddit", "Reddit"),
    ("PayPal", "com.paypal.android.p2pmobile", "com.yourcompany.PPClient", "PayPal"),
    ("Careem", "com.careem.acma", "com.careem.passenger", "Careem"),
    ("Noon", "com.noon.buyerapp", "com.noon.buyerapp", "Noon"),
    ("Talabat", "com.talabat", "com.talabat.talabat", "Talabat"),
)
# Barred apps from the catalog and how many devices carry them (fraction of devices).
BARRED_RATES = (
    ("TikTok", "com.zhiliaoapp.musically", "com.zhiliaoapp.musically", 0.040),
    ("TikTok Lite", "com.zhiliaoapp.musically.go", "", 0.004),
    ("CapCut", "com.lemon.lvoverseas", "com.lemon.lvoverseas", 0.015),
    ("WeChat", "com.tencent.mm", "com.tencent.xin", 0.020),
    ("Alipay", "com.eg.android.AlipayGphone", "com.alipay.iphoneclient", 0.006),
    ("CamScanner", "com.intsig.camscanner", "", 0.012),
    ("SHAREit", "com.lenovo.anyshare.gps", "", 0.005),
    ("WPS Office", "cn.wps.moffice_eng", "", 0.008),
    ("Lemon8", "com.bd.nproject", "", 0.003),
    ("QQ", "com.tencent.mobileqq", "com.tencent.mqq", 0.003),
)
WORDS = (
    "note",
    "scan",
    "fit",
    "pay",
    "chat",
    "photo",
    "maps",
    "news",
    "bank",
    "train",
    "shop",
    "music",
    "cloud",
    "task",
    "mail",
    "weather",
    "calc",
    "trip",
    "food",
    "learn",
    "game",
    "health",
    "docs",
    "vpn",
    "radio",
    "sports",
    "quiz",
    "camera",
    "wallet",
    "flight",
)
VENDORS = (
    "acme",
    "globex",
    "initech",
    "umbrella",
    "hooli",
    "vandelay",
    "stark",
    "wayne",
    "cyberdyne",
    "tyrell",
    "wonka",
    "soylent",
    "aperture",
    "massive",
    "gringotts",
    "oceanic",
    "monarch",
)


@dataclass(frozen=True, slots=True)
class DemoShape:
    employees: int = 5000
    seed: int = 7
    long_tail: int = 6000  # synthetic apps per platform
    min_apps: int = 40
    max_apps: int = 110


def _pick(rng: random.Random, weighted: tuple[tuple[object, ...], ...]) -> tuple[object, ...]:
    return rng.choices(weighted, weights=[w[-1] for w in weighted])[0]  # type: ignore[misc]


class _Universe:
    """Per platform: the app list and cumulative Zipf-Mandelbrot weights."""

    def __init__(self, long_tail: int) -> None:
        self.apps: dict[Platform, list[InstalledApp]] = {}
        self.cum: dict[Platform, list[float]] = {}
        for platform, pos in ((Platform.ANDROID, 1), (Platform.IOS, 2)):
            apps = [
                InstalledApp(AppRef.of(platform, row[pos]), row[0], publisher=row[3])
                for row in POPULAR
            ]
            for i in range(long_tail):
                vendor = VENDORS[i % len(VENDORS)]
                word = WORDS[(i // len(VENDORS)) % len(WORDS)]
                ident = f"com.{vendor}.{word}{i // (len(VENDORS) * len(WORDS)) or ''}"
                if platform is Platform.IOS:
                    ident = f"com.{vendor}.ios.{word}{i // (len(VENDORS) * len(WORDS)) or ''}"
                name = f"{vendor.title()} {word.title()}"
                apps.append(
                    InstalledApp(AppRef.of(platform, ident), name, publisher=vendor.title())
                )
            weights = [1.0 / (rank + 2.7) ** 1.08 for rank in range(len(apps))]
            self.apps[platform] = apps
            self.cum[platform] = list(accumulate(weights))

    def draw(self, rng: random.Random, platform: Platform, count: int) -> set[InstalledApp]:
        space = Platform.ANDROID if platform is Platform.ANDROID else Platform.IOS
        apps, cum = self.apps[space], self.cum[space]
        chosen: set[InstalledApp] = set()
        while len(chosen) < count:
            chosen.update(rng.choices(apps, cum_weights=cum, k=count - len(chosen) + 8))
        while len(chosen) > count:
            chosen.pop()
        return chosen


def _employee(rng: random.Random, index: int) -> Employee:
    country, locale, zones, _ = _pick(rng, REGIONS)
    if locale == "ar":
        name = f"{rng.choice(FIRST_AR)} {rng.choice(LAST_AR)}"
    else:
        name = f"{rng.choice(FIRST_EN)} {rng.choice(LAST_EN)}"
    department = str(_pick(rng, DEPARTMENTS)[0])
    groups = {"all-staff", "mobile-users"}
    for group, p in (("contractors", 0.08), ("gov-contracts", 0.12), ("travel", 0.2)):
        if rng.random() < p:
            groups.add(group)
    if rng.random() < 0.1:
        groups.add("managers")
    return Employee(
        email=f"user{index:07d}@corp.example",
        name=name,
        locale=str(locale),
        timezone=rng.choice(zones),  # type: ignore[arg-type]
        department=department,
        country=str(country),
        groups=frozenset(groups),
    )


def _os(rng: random.Random, platform: Platform) -> tuple[str, date | None]:
    if platform is Platform.ANDROID:
        major = rng.choices((12, 13, 14, 15, 16), weights=(6, 12, 28, 34, 20))[0]
        patch = date(2026, 11, 1) - timedelta(
            days=30
            * rng.choices(
                range(20), weights=[18, 16, 13, 11, 9, 7, 6, 5, 4, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1]
            )[0]
        )
        return str(major), patch.replace(day=rng.choice((1, 5)))
    major = rng.choices((16, 17, 18, 26), weights=(5, 15, 40, 40))[0]
    return f"{major}.{rng.randint(0, 6)}", None


def _device(
    rng: random.Random, universe: _Universe, owner: Employee, serial: int, shape: DemoShape
) -> Device:
    platform = rng.choices((Platform.IOS, Platform.ANDROID, Platform.IPADOS), weights=(58, 38, 4))[
        0
    ]
    ownership = Ownership.CORPORATE if rng.random() < 0.55 else Ownership.PERSONAL
    visibility = Visibility.ALL
    if ownership is Ownership.PERSONAL:
        roll = rng.random()
        visibility = (
            Visibility.ALL
            if roll < 0.75
            else Visibility.MANAGED
            if roll < 0.93
            else Visibility.NONE
        )
    count = rng.randint(shape.min_apps, shape.max_apps)
    apps = universe.draw(rng, platform, count)
    space = 2 if platform is not Platform.ANDROID else 1
    for row in BARRED_RATES:
        ident = str(row[space])
        if ident and rng.random() < row[3]:
            apps.add(InstalledApp(AppRef.of(platform, ident), row[0]))
    if visibility is Visibility.NONE:
        apps = set()
    elif visibility is Visibility.MANAGED:
        apps = {a for a in apps if a.publisher.startswith("Microsoft")}
    os_version, patch = _os(rng, platform)
    eas: tuple[str, ...] = ()
    certs: tuple[str, ...] = ()
    roll = rng.random()
    if roll < 0.93:
        eas = (
            f"{'APPL' if platform is not Platform.ANDROID else 'ANDR'}{rng.getrandbits(96):024X}",
        )
        if ownership is Ownership.CORPORATE and rng.random() < 0.15:
            certs = (f"{rng.getrandbits(160):040x}",)
    model = {
        Platform.IOS: rng.choice(("iPhone 15", "iPhone 16", "iPhone 17", "iPhone 14")),
        Platform.IPADOS: rng.choice(("iPad Air", "iPad Pro")),
        Platform.ANDROID: rng.choice(("Pixel 9", "Galaxy S25", "Galaxy A55", "Pixel 8a")),
    }[platform]
    return Device(
        key=f"dev-{serial:07d}",
        platform=platform,
        owner=owner.email,
        ownership=ownership,
        visibility=visibility,
        os_version=os_version,
        android_patch=patch,
        mail=MailIdentities(eas, certs),
        has_mail_access=bool(eas or certs),
        apps=frozenset(apps),
        name=f"{owner.name.split()[0]}'s {model}",
        model=model,
        serial=f"SN{rng.getrandbits(40):010X}",
    )


def generate(shape: DemoShape = DemoShape()) -> Iterator[tuple[Employee, list[Device]]]:
    """Yield each employee with their devices, in a reproducible order for a given seed."""
    rng = random.Random(shape.seed)  # noqa: S311 (reproducible demo data, not security)
    universe = _Universe(shape.long_tail)
    serial = 0
    for index in range(1, shape.employees + 1):
        employee = _employee(rng, index)
        devices = []
        for _ in range(rng.choices((1, 2, 3), weights=(65, 30, 5))[0]):
            serial += 1
            devices.append(_device(rng, universe, employee, serial, shape))
        yield employee, devices
