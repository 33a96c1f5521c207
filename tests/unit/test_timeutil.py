"""Durations, instants with and without zones, and time-zone names, without a clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from appwarden.core.timeutil import (
    TimeFormatError,
    format_duration,
    from_epoch,
    in_zone,
    is_zone,
    iso,
    parse_date,
    parse_duration,
    parse_instant,
    to_epoch,
    utc,
    zone,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("P14D", timedelta(days=14)),
        ("PT36H", timedelta(hours=36)),
        ("P2W", timedelta(weeks=2)),
        ("P1DT12H", timedelta(days=1, hours=12)),
        ("PT90M", timedelta(minutes=90)),
        ("PT45S", timedelta(seconds=45)),
        ("P1W2DT3H4M5S", timedelta(days=9, hours=3, minutes=4, seconds=5)),
        (" p14d ", timedelta(days=14)),
        ("PT0S", timedelta(0)),
    ],
)
def test_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "P", "PT", "14D", "P14", "P1.5D", "P-1D", "-P1D", "P1M", "P1Y", "two weeks", "PT1D"],
)
def test_bad_durations_say_how_to_write_one(text: str) -> None:
    with pytest.raises(TimeFormatError, match="P14D"):
        parse_duration(text)


def test_an_overlong_duration_is_refused_not_crashed() -> None:
    with pytest.raises(TimeFormatError, match="too long"):
        parse_duration("P99999999999D")


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(days=14), "P14D"),
        (timedelta(hours=36), "P1DT12H"),
        (timedelta(minutes=90), "PT1H30M"),
        (timedelta(seconds=5), "PT5S"),
        (timedelta(0), "PT0S"),
    ],
)
def test_durations_are_written_canonically(delta: timedelta, text: str) -> None:
    assert format_duration(delta) == text


@given(st.integers(0, 10**9 * 86400 - 1))
def test_format_and_parse_are_inverse_to_the_second(seconds: int) -> None:
    delta = timedelta(seconds=seconds)
    assert parse_duration(format_duration(delta)) == delta


@pytest.mark.parametrize(
    ("text", "default", "expected"),
    [
        ("2020-07-10T18:00", "America/Los_Angeles", "2020-07-11T01:00:00Z"),
        ("2020-01-10T18:00", "America/Los_Angeles", "2020-01-11T02:00:00Z"),  # PST in winter
        ("2020-07-10T18:00:00Z", None, "2020-07-10T18:00:00Z"),
        ("2020-07-10T18:00:00z", None, "2020-07-10T18:00:00Z"),
        ("2020-07-10T18:00:00-07:00", "Asia/Tokyo", "2020-07-11T01:00:00Z"),  # offset wins
        ("2020-07-10T00:00", "Asia/Riyadh", "2020-07-09T21:00:00Z"),
        ("2020-07-10T18:00", "UTC", "2020-07-10T18:00:00Z"),
        ("2020-07-10T18:00", "utc", "2020-07-10T18:00:00Z"),
        ("2020-07-10T18:00", "Etc/UTC", "2020-07-10T18:00:00Z"),
        ("2020-07-10", "Asia/Riyadh", "2020-07-09T21:00:00Z"),
        ("2020-11-01T09:00", "America/Los_Angeles", "2020-11-01T17:00:00Z"),  # after fall-back
        ("2020-03-08T12:00", "America/New_York", "2020-03-08T16:00:00Z"),  # after spring-forward
        ("2020-11-01T01:30", "America/New_York", "2020-11-01T05:30:00Z"),  # repeated: first one
    ],
)
def test_instants(text: str, default: str | None, expected: str) -> None:
    got = parse_instant(text, default)
    assert got.tzinfo is UTC
    assert iso(got) == expected


def test_a_naive_instant_without_a_zone_is_refused_with_the_fix() -> None:
    with pytest.raises(TimeFormatError, match="no time zone; add an offset"):
        parse_instant("2020-07-10T18:00")


@pytest.mark.parametrize("text", ["tomorrow", "2020-13-01T00:00", "2020-07-10T25:00", ""])
def test_unreadable_instants_say_how_to_write_one(text: str) -> None:
    with pytest.raises(TimeFormatError, match="2020-07-10T18:00"):
        parse_instant(text, "UTC")


def test_instants_beyond_the_calendar_are_refused_not_crashed() -> None:
    with pytest.raises(TimeFormatError, match="outside the calendar"):
        parse_instant("9999-12-31T23:00", "America/Los_Angeles")
    with pytest.raises(TimeFormatError, match="outside the calendar"):
        parse_instant("0001-01-01T00:00+05:00")


@pytest.mark.parametrize(
    "name", ["Europe/London", "Asia/Riyadh", "America/Los_Angeles", "UTC", "Z"]
)
def test_zone_names(name: str) -> None:
    assert is_zone(name)
    assert zone(name).utcoffset(datetime(2020, 7, 1)) is not None


@pytest.mark.parametrize(
    "name",
    ["Pacific Time", "PST8PDT/x", "", "../../etc/passwd", "a\x00b", "Zone" * 80, "Mars/Olympus"],
)
def test_bad_zone_names_are_explained(name: str) -> None:
    assert not is_zone(name)
    with pytest.raises(TimeFormatError, match="IANA time zone"):
        zone(name)
    with pytest.raises(TimeFormatError):
        parse_instant("2020-07-10T18:00", name)


def test_dates() -> None:
    assert parse_date(" 2024-01-05 ") == date(2024, 1, 5)
    with pytest.raises(TimeFormatError, match="2024-01-05"):
        parse_date("5 January")


def test_iso_is_utc_with_z_and_whole_seconds() -> None:
    riyadh = datetime(2020, 7, 10, 3, 0, 0, 999_999, tzinfo=timezone(timedelta(hours=3)))
    assert iso(riyadh) == "2020-07-10T00:00:00Z"
    assert iso(None) is None


def test_naive_datetimes_are_refused_everywhere() -> None:
    with pytest.raises(TimeFormatError, match="naive"):
        utc(datetime(2020, 7, 10))
    with pytest.raises(TimeFormatError):
        iso(datetime(2020, 7, 10))
    with pytest.raises(TimeFormatError):
        to_epoch(datetime(2020, 7, 10))


def test_zones_and_epochs() -> None:
    instant = datetime(2020, 7, 11, 1, 0, tzinfo=UTC)
    local = in_zone(instant, "America/Los_Angeles")
    assert (local.day, local.hour, local.utcoffset()) == (10, 18, timedelta(hours=-7))
    assert to_epoch(instant) == 1594429200.0
    assert from_epoch(1594429200.0) == instant
    assert from_epoch(to_epoch(instant) - 0.5) < instant
