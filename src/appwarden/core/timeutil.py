"""Instants, durations and time zones without a clock.

Every instant in the core is an aware `datetime` in UTC. Durations use the ISO 8601 subset that
policies need (`P14D`, `PT36H`, `P2W`, `P1DT12H`). Time-zone names are IANA names, resolved through
the standard library's `zoneinfo` data (a lookup table, not a clock).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_DURATION = re.compile(
    r"^P(?:(?P<w>\d+)W)?(?:(?P<d>\d+)D)?(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+)S)?)?$"
)


class TimeFormatError(ValueError):
    """A time value could not be understood; the message says what is expected."""


def parse_duration(text: str) -> timedelta:
    """Parse an ISO 8601 duration of weeks, days, hours, minutes and seconds."""
    match = _DURATION.match(text.strip().upper())
    if not match or text.strip().upper() in ("P", "PT"):
        raise TimeFormatError(
            f"{text!r} is not a duration; write it like P14D (14 days), PT36H (36 hours) or P2W"
        )
    parts = {k: int(v) if v else 0 for k, v in match.groupdict().items()}
    try:
        return timedelta(
            weeks=parts["w"],
            days=parts["d"],
            hours=parts["h"],
            minutes=parts["m"],
            seconds=parts["s"],
        )
    except OverflowError as exc:
        raise TimeFormatError(f"{text!r} is too long; durations go up to P999999999D") from exc


def format_duration(delta: timedelta) -> str:
    """Render a timedelta as an ISO 8601 duration (inverse of parse_duration)."""
    total = int(delta.total_seconds())
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    out = "P"
    if days:
        out += f"{days}D"
    if hours or minutes or seconds:
        out += "T"
        out += f"{hours}H" if hours else ""
        out += f"{minutes}M" if minutes else ""
        out += f"{seconds}S" if seconds else ""
    return out if out != "P" else "PT0S"


def zone(name: str) -> tzinfo:
    """Resolve an IANA time-zone name, or explain what is wrong."""
    if name.upper() in ("UTC", "Z", "ETC/UTC"):
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:  # OSError: absurd names
        raise TimeFormatError(
            f"{name!r} is not a known IANA time zone; use a name like Europe/London or Asia/Riyadh"
        ) from exc


def is_zone(name: str) -> bool:
    try:
        zone(name)
    except TimeFormatError:
        return False
    return True


def parse_instant(text: str, default_zone: str | None = None) -> datetime:
    """Parse an ISO 8601 date-time; naive values take `default_zone`, else they are an error.

    Returns the instant in UTC.
    """
    raw = text.strip()
    if raw.endswith(("Z", "z")):
        raw = raw[:-1] + "+00:00"
    try:
        value = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise TimeFormatError(
            f"{text!r} is not a date-time; write it like 2020-07-10T18:00 (with a time zone) "
            "or 2020-07-10T18:00:00-07:00"
        ) from exc
    if value.tzinfo is None:
        if default_zone is None:
            raise TimeFormatError(
                f"{text!r} has no time zone; add an offset (e.g. -07:00) or name a timezone"
            )
        value = value.replace(tzinfo=zone(default_zone))
    try:
        return value.astimezone(UTC)
    except OverflowError as exc:
        raise TimeFormatError(f"{text!r} is outside the calendar in UTC") from exc


def parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError as exc:
        raise TimeFormatError(f"{text!r} is not a date; write it like 2024-01-05") from exc


def utc(value: datetime) -> datetime:
    """Normalise an aware datetime to UTC; naive datetimes are refused."""
    if value.tzinfo is None:
        raise TimeFormatError("naive datetime: every instant must carry a time zone")
    return value.astimezone(UTC)


def iso(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a Z suffix, seconds precision."""
    if value is None:
        return None
    return _iso(value)


@lru_cache(maxsize=4096)
def _iso(value: datetime) -> str:
    # a batch of writes stamps the same few instants thousands of times; equal instants in other
    # zones hash alike and format alike (UTC), so they share an entry
    return utc(value).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def in_zone(value: datetime, zone_name: str) -> datetime:
    return utc(value).astimezone(zone(zone_name))


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_epoch(value: datetime) -> float:
    return (utc(value) - EPOCH).total_seconds()


def from_epoch(seconds: float) -> datetime:
    return EPOCH + timedelta(seconds=seconds)
