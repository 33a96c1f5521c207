"""Values <-> SQLite columns: instants as ISO 8601 UTC text, structures as compact JSON."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from appwarden.core.timeutil import iso, parse_instant


def t(value: datetime | None) -> str | None:
    return iso(value)


def from_t(text: str | None) -> datetime | None:
    return parse_instant(text) if text else None


def must_t(text: str) -> datetime:
    return parse_instant(text)


def d(value: date | None) -> str | None:
    return value.isoformat() if value else None


def from_d(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def js(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def from_js(text: str | None) -> Any:
    return json.loads(text) if text else None
