"""What a person sees when a gateway refuses them, in their locale (English and Arabic).

Dovecot shows `msg` to the IMAP client as `NO [ALERT] <msg>`; nginx passes a reason header;
Postfix puts the text in the SMTP reply (which must be ASCII, so it always uses English).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

TEMPLATES: dict[str, dict[str, str]] = {
    "en": {
        "blocked_apps": "{title}. Mail is blocked on this device: remove {apps} to restore access.",
        "blocked": "{title}. Mail is blocked on this device until it complies.",
        "more": " More: {url}",
        "not_enrolled": "This device is not enrolled for company mail; enrol it to get access.",
        "enrol": " Enrol: {url}",
        "no_identity": "This mail client does not identify its device; use the company mail "
        "app on an enrolled device.",
        "and": " and ",
    },
    "ar": {
        "blocked_apps": "{title}. تم حظر البريد على هذا الجهاز: احذف {apps} لاستعادة الوصول.",
        "blocked": "{title}. تم حظر البريد على هذا الجهاز حتى يصبح ممتثلاً.",
        "more": " للمزيد: {url}",
        "not_enrolled": "هذا الجهاز غير مسجل للوصول إلى بريد الشركة؛ سجّله للحصول على الوصول.",
        "enrol": " التسجيل: {url}",
        "no_identity": "برنامج البريد هذا لا يعرّف جهازه؛ استخدم تطبيق بريد الشركة على جهاز مسجل.",
        "and": " و",
    },
}


def _table(locale: str) -> dict[str, str]:
    base = (locale or "en").replace("_", "-").split("-")[0].lower()
    return TEMPLATES.get(base, TEMPLATES["en"])


def localised(values: Mapping[str, str], locale: str, fallback: str) -> str:
    base = (locale or "en").replace("_", "-").split("-")[0].lower()
    for candidate in (locale, base, "en"):
        if candidate in values:
            return values[candidate]
    return fallback


def blocked_message(title: str, apps: Sequence[str], url: str, locale: str) -> str:
    t = _table(locale)
    if apps:
        text = t["blocked_apps"].format(title=title.rstrip("."), apps=t["and"].join(apps))
    else:
        text = t["blocked"].format(title=title.rstrip("."))
    return text + (t["more"].format(url=url) if url else "")


def not_enrolled_message(enroll_url: str, locale: str) -> str:
    t = _table(locale)
    return t["not_enrolled"] + (t["enrol"].format(url=enroll_url) if enroll_url else "")


def no_identity_message(enroll_url: str, locale: str) -> str:
    t = _table(locale)
    return t["no_identity"] + (t["enrol"].format(url=enroll_url) if enroll_url else "")


def ascii_line(text: str, limit: int = 400) -> str:
    """One printable-ASCII line (HTTP header values, SMTP replies)."""
    return "".join(c if 32 <= ord(c) < 127 else "?" for c in text.replace("\n", " "))[:limit]
