"""Languages: Babel message catalogs (en, ar), locale choice, and formatting per locale."""

from __future__ import annotations

import datetime as dt
from functools import cache
from importlib import resources
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_date, format_datetime, format_timedelta
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations
from starlette.requests import Request

LOCALES = ("en", "ar")
RTL = frozenset({"ar"})
DEFAULT = "en"


@cache
def translations(locale: str) -> NullTranslations:
    folder = resources.files("appwarden.entrypoints.console") / "locale"
    with resources.as_file(folder) as path:
        return Translations.load(str(path), [locale], domain="messages")


def supported(value: str | None) -> str | None:
    base = (value or "").strip().lower().replace("-", "_").split("_")[0]
    return base if base in LOCALES else None


def negotiate(request: Request, preferred: str | None = None) -> str:
    """?lang= beats the cookie, which beats the person's own setting and the browser."""
    for candidate in (
        request.query_params.get("lang"),
        request.cookies.get("aw_lang"),
        preferred,
    ):
        found = supported(candidate)
        if found:
            return found
    for part in request.headers.get("accept-language", "").split(",")[:10]:
        found = supported(part.split(";")[0])
        if found:
            return found
    return DEFAULT


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


class Formats:
    """Numbers, dates and durations in one locale (and, for dates, one time zone)."""

    def __init__(self, locale: str, tz: str = "UTC") -> None:
        self.locale = locale
        self.tz = zone(tz)

    def with_zone(self, tz: str) -> Formats:
        return Formats(self.locale, tz)

    def number(self, value: int | float) -> str:
        return format_decimal(value, locale=self.locale)

    def datetime(self, value: dt.datetime | None) -> str:
        if value is None:
            return "—"
        return format_datetime(value, "long", tzinfo=self.tz, locale=self.locale)

    def date(self, value: dt.datetime | None) -> str:
        if value is None:
            return "—"
        return format_date(value.astimezone(self.tz).date(), "medium", locale=self.locale)

    def day(self, iso_date: str) -> str:
        """A calendar day given as YYYY-MM-DD (already in the zone it belongs to)."""
        try:
            return format_date(dt.date.fromisoformat(iso_date), "medium", locale=self.locale)
        except ValueError:
            return iso_date

    def until(self, value: dt.datetime | None, now: dt.datetime) -> str:
        """ "in 9 days" / "3 hours ago", never rounded up to a larger unit."""
        if value is None:
            return ""
        return format_timedelta(
            value - now, threshold=2, add_direction=True, granularity="minute", locale=self.locale
        )

    def span(self, delta: dt.timedelta) -> str:
        return format_timedelta(delta, threshold=2, granularity="minute", locale=self.locale)
