"""Matching installed apps against barred-apps rules, and how sure each match is.

High confidence: the identifier itself, or catalog facts about it. Low confidence: a match that
rests only on an app name or on a publisher string the MDM reported.
"""

from __future__ import annotations

from functools import cache

import pytest

from appwarden.adapters.catalog_file import merge_data, shipped_catalog_data
from appwarden.core.catalog import Catalog, catalog_from_data
from appwarden.core.inventory import AppPlatform, AppRef, InstalledApp
from appwarden.core.matching import AppMatch, BarredApps, Confidence
from appwarden.core.policy import AppMatcher, MatchKind

A, IOS, OTHER = AppPlatform.ANDROID, AppPlatform.IOS, AppPlatform.OTHER


@cache
def catalog() -> Catalog:
    local = {
        "companies": [
            {"key": "tx-co", "name": "Lone Star Apps LLC", "jurisdiction": {"value": "US-TX"}},
            {"key": "us-co", "name": "Acme Apps Inc.", "jurisdiction": {"value": "US"}},
        ],
        "apps": [
            {
                "key": "tx-app",
                "name": "Lone Star",
                "publisher": {"company": "tx-co"},
                "identifiers": [{"platform": "android", "id": "com.lonestar.app"}],
            },
            {
                "key": "us-app",
                "name": "Acme",
                "publisher": {"company": "us-co"},
                "identifiers": [{"platform": "android", "id": "com.acme.app"}],
            },
        ],
    }
    return catalog_from_data(merge_data(shipped_catalog_data(), local))


def rule(*matchers: tuple[str, str] | tuple[str, str, AppPlatform]) -> BarredApps:
    built = tuple(
        AppMatcher(MatchKind(m[0]), m[1], m[2] if len(m) == 3 else None)  # type: ignore[misc]
        for m in matchers
    )
    return BarredApps(built, catalog())


def match(barred: BarredApps, app: InstalledApp) -> AppMatch | None:
    return barred.match(app.key, app.name, app.publisher)


def by_id(platform: AppPlatform, ident: str, name: str = "", publisher: str = "") -> InstalledApp:
    return InstalledApp(AppRef(platform, ident), name, publisher=publisher)


def by_name(name: str, space: AppPlatform = A) -> InstalledApp:
    return InstalledApp(None, name, space=space)


def level(barred: BarredApps, app: InstalledApp) -> tuple[Confidence, str] | None:
    found = match(barred, app)
    return (found.confidence, found.catalog_app) if found else None


HIGH, LOW = Confidence.HIGH, Confidence.LOW


def test_exact_ids_are_high_confidence_and_say_which_catalog_app() -> None:
    barred = rule(("id", "com.zhiliaoapp.musically"), ("id", "com.example.unlisted"))
    assert level(barred, by_id(A, "com.zhiliaoapp.musically")) == (HIGH, "tiktok")
    assert level(barred, by_id(IOS, "com.zhiliaoapp.musically")) == (HIGH, "tiktok")
    assert level(barred, by_id(A, "com.example.unlisted")) == (HIGH, "")
    assert match(barred, by_id(A, "com.zhiliaoapp.Musically")) is None
    assert match(barred, by_id(A, "com.zhiliaoapp.musically.go")) is None


def test_a_platform_limits_an_id_to_its_identifier_space() -> None:
    barred = rule(("id", "com.ss.android.ugc.trill", A), ("id", "com.ss.iphone.ugc.Ame", IOS))
    assert level(barred, by_id(A, "com.ss.android.ugc.trill")) == (HIGH, "tiktok")
    assert match(barred, by_id(IOS, "com.ss.android.ugc.trill")) is None
    assert level(barred, by_id(IOS, "com.ss.iphone.ugc.Ame")) == (HIGH, "tiktok")
    assert match(barred, by_id(A, "com.ss.iphone.ugc.Ame")) is None


def test_patterns_are_high_confidence_whole_id_wildcards() -> None:
    barred = rule(("pattern", "com.ss.android.*"))
    assert level(barred, by_id(A, "com.ss.android.ugc.aweme")) == (HIGH, "douyin")
    assert level(barred, by_id(A, "com.ss.android.anything")) == (HIGH, "")
    assert match(barred, by_id(A, "xcom.ss.android.ugc.aweme")) is None
    assert match(barred, by_id(A, "com.ss.androidx")) is None


def test_a_name_rule_is_high_through_the_catalog_and_low_on_names_alone() -> None:
    barred = rule(("name", "TikTok Lite"))
    assert level(barred, by_id(A, "com.ss.android.ugc.tiktok.lite")) == (HIGH, "tiktok-lite")
    assert level(barred, by_name("TIKTOK LITE")) == (LOW, "")
    assert level(barred, by_id(A, "com.example.unknown", name="TikTok Lite")) == (LOW, "")
    assert match(barred, by_id(A, "com.zhiliaoapp.musically", name="TikTok")) is None
    assert match(barred, by_name("TikTok")) is None


def test_name_only_rows_match_id_rules_through_the_catalog_with_low_confidence() -> None:
    barred = rule(("id", "com.zhiliaoapp.musically"))
    assert level(barred, by_name("TikTok", A)) == (LOW, "tiktok")
    assert level(barred, by_name("tiktok", IOS)) == (LOW, "tiktok")
    assert level(barred, by_name("TikTok", OTHER)) == (LOW, "tiktok")
    assert match(barred, by_name("TikTok Lite", A)) is None
    android_only = rule(("id", "com.ss.android.ugc.trill", A))
    assert level(android_only, by_name("TikTok", A)) == (LOW, "tiktok")
    assert match(android_only, by_name("TikTok", IOS)) is None


def test_publisher_rules_use_the_catalog_or_else_the_reported_publisher() -> None:
    barred = rule(("publisher", "TikTok Pte. Ltd."))
    assert level(barred, by_id(A, "com.zhiliaoapp.musically")) == (HIGH, "tiktok")
    assert level(barred, by_id(A, "com.zhiliaoapp.musically.go")) == (HIGH, "tiktok-lite")
    assert match(barred, by_id(A, "com.ss.android.ugc.aweme")) is None  # ByteDance's own
    assert level(barred, by_id(A, "com.example.x", publisher="TikTok Ltd")) == (LOW, "")
    assert match(barred, by_id(A, "com.example.x", publisher="ByteDance")) is None
    assert match(barred, by_id(A, "com.example.x", publisher="Someone Else")) is None


def test_a_reported_publisher_that_contradicts_the_catalog_is_only_ever_low() -> None:
    barred = rule(("publisher", "Tencent"))
    # the MDM claims TikTok is Tencent's; the catalog says otherwise: flagged, never certain
    assert level(barred, by_id(A, "com.zhiliaoapp.musically", publisher="Tencent")) == (LOW, "")
    assert level(barred, by_id(A, "com.tencent.mm", publisher="ByteDance")) == (HIGH, "wechat")


def test_parent_rules_reach_subsidiaries() -> None:
    barred = rule(("parent", "ByteDance Ltd."))
    assert level(barred, by_id(A, "com.zhiliaoapp.musically")) == (HIGH, "tiktok")
    assert level(barred, by_id(A, "com.lemon.lvoverseas")) == (HIGH, "capcut")
    assert level(barred, by_id(A, "com.example.x", publisher="TikTok Pte. Ltd.")) == (LOW, "")
    assert match(barred, by_id(A, "com.tencent.mm")) is None
    refs = set(barred.catalog_refs())
    assert AppRef(A, "com.zhiliaoapp.musically") in refs
    assert AppRef(IOS, "com.ss.iphone.ugc.Aweme") in refs
    assert not any(r.identifier.startswith("com.tencent") for r in refs)


def test_parent_rules_do_not_reach_affiliates_or_parents() -> None:
    assert match(rule(("parent", "Alibaba")), by_id(A, "com.eg.android.AlipayGphone")) is None
    assert match(rule(("parent", "TikTok Pte. Ltd.")), by_id(A, "com.ss.android.ugc.aweme")) is None


@pytest.mark.parametrize(
    ("code", "ident", "hit"),
    [
        ("CN", "com.zhiliaoapp.musically", True),  # SG publisher, CN parent
        ("SG", "com.zhiliaoapp.musically", True),  # the publisher itself is in SG
        ("CN", "com.lenovo.anyshare.gps", False),  # SG, no parent
        ("RU", "com.kms.free", True),
        ("US", "com.lonestar.app", True),
        ("US", "com.acme.app", True),
        ("US-TX", "com.lonestar.app", True),
        ("US-TX", "com.acme.app", False),
        ("US-T", "com.lonestar.app", False),
        ("CN", "com.example.unlisted", False),
    ],
)
def test_jurisdiction_rules_walk_the_company_chain(code: str, ident: str, hit: bool) -> None:
    found = level(rule(("jurisdiction", code)), by_id(A, ident))
    assert (found is not None and found[0] is HIGH) if hit else found is None


def test_an_empty_rule_matches_nothing_and_says_so() -> None:
    barred = rule()
    assert barred.is_empty
    assert match(barred, by_id(A, "com.zhiliaoapp.musically")) is None
    assert barred.catalog_refs() == []


def test_the_most_specific_matcher_explains_a_match() -> None:
    barred = rule(("parent", "ByteDance"), ("id", "com.zhiliaoapp.musically"))
    found = match(barred, by_id(A, "com.zhiliaoapp.musically"))
    assert found is not None and found.matcher.kind is MatchKind.ID
    assert found.explain() == "id com.zhiliaoapp.musically (catalog: tiktok)"
    low = match(rule(("name", "TikTok Lite")), by_name("tiktok lite"))
    assert low is not None and low.explain() == "name TikTok Lite [low confidence]"
