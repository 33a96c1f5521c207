"""Templates: sandboxed, both locales complete, bidi isolation, Babel dates, errors located."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from appwarden.adapters.notice_templates import FSI, PDI, JinjaNoticeRenderer
from appwarden.core.errors import InvalidInput

KINDS = ("announce", "reminder", "blocked", "restored", "correction")
DEADLINE = datetime(2020, 7, 11, 1, 0, tzinfo=UTC)


def context(locale, kind, tz="UTC", test=False):
    return {
        "test": test,
        "locale": locale,
        "timezone": tz,
        "person": {"name": "Mary", "email": "m@x.example"},
        "notices": [
            {
                "kind": kind,
                "title": "T",
                "reason": "R",
                "remediation": "",
                "owner": "o@x.example",
                "blocks": True,
                "deadline": DEADLINE,
                "retraction_reason": "error",
                "devices": [
                    {"name": "Mary's ‫phone", "platform": "ios", "apps": ["TikTok", "抖音"]}
                ],
                "verify_url": "https://aw.example/v1/verify/tok",
            }
        ],
    }


@pytest.mark.parametrize("locale", ["en", "ar"])
@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_renders_in_both_locales(locale, kind):
    out = JinjaNoticeRenderer().render(context(locale, kind))
    assert out.subject and "\n" not in out.subject
    assert "https://aw.example/v1/verify/tok" in out.text and "verify/tok" in out.html
    assert out.locale == locale


def test_arabic_isolates_names_and_dates_and_is_rtl():
    out = JinjaNoticeRenderer().render(context("ar", "announce", "Asia/Riyadh"))
    assert f"{FSI}Mary's \u202bphone{PDI}" in out.text
    assert f"{FSI}TikTok{PDI}" in out.text and f"{FSI}抖音{PDI}" in out.text
    assert 'dir="rtl"' in out.html and "<bdi>TikTok</bdi>" in out.html
    assert "يوليو" in out.text and "4:00:00" in out.text  # Babel, Riyadh local time


def test_english_dates_in_the_employees_zone():
    out = JinjaNoticeRenderer().render(context("en", "announce", "America/Los_Angeles"))
    assert "July 10, 2020" in out.text and "PDT" in out.text


def test_html_escapes_hostile_names():
    ctx = context("en", "announce")
    ctx["notices"][0]["devices"][0]["name"] = "<script>alert(1)</script>"
    out = JinjaNoticeRenderer().render(ctx)
    assert "<script>" not in out.html and "&lt;script&gt;" in out.html


def test_test_messages_are_marked():
    out = JinjaNoticeRenderer().render(context("en", "announce", test=True))
    assert out.subject.startswith("[TEST]") and "TEST MESSAGE" in out.text


def test_unknown_locale_falls_back_to_english():
    assert JinjaNoticeRenderer().render(context("fr-CA", "announce")).locale == "en"


def test_sandbox_and_errors_name_the_template(tmp_path):
    for name, body in {
        "subject.txt": "x",
        "body.html": "x",
        "body.txt": "{{ person.__class__.__mro__ }}\n{{ missing_name }}",
    }.items():
        (tmp_path / "xx").mkdir(exist_ok=True)
        (tmp_path / "xx" / name).write_text(body, encoding="utf-8")
    renderer = JinjaNoticeRenderer(tmp_path)
    assert "xx" in renderer.locales()
    with pytest.raises(InvalidInput) as caught:
        renderer.render(context("xx", "announce"))
    assert "xx/body.txt" in str(caught.value)


def test_digest_covers_every_template(tmp_path):
    base = JinjaNoticeRenderer().digest()
    (tmp_path / "en").mkdir()
    for name in ("subject.txt", "body.txt", "body.html"):
        (tmp_path / "en" / name).write_text("changed", encoding="utf-8")
    assert JinjaNoticeRenderer(tmp_path).digest() != base


@pytest.mark.parametrize("locale", ["en", "ar"])
def test_unseen_devices_are_asked_to_confirm_not_told_of_apps(locale):
    ctx = context(locale, "announce")
    ctx["notices"][0]["devices"][0].update(status="unknown", apps=["apps_unseen"])
    out = JinjaNoticeRenderer().render(ctx)
    assert "apps_unseen" not in out.text and "apps_unseen" not in out.html
    assert ("cannot see" in out.text) if locale == "en" else ("لا يمكننا رؤية" in out.text)


@pytest.mark.parametrize(
    ("count", "subject"),
    [
        (2, "إشعاران بخصوص أجهزتك"),  # the dual, no numeral
        (3, "3 إشعارات بخصوص أجهزتك"),
        (10, "10 إشعارات بخصوص أجهزتك"),
        (11, "11 إشعارًا بخصوص أجهزتك"),
        (100, "100 إشعار بخصوص أجهزتك"),
    ],
)
def test_arabic_subject_counts_follow_arabic_plural_rules(count, subject):
    ctx = context("ar", "announce")
    ctx["notices"] = ctx["notices"] * count
    assert JinjaNoticeRenderer().render(ctx).subject == subject
