"""Directory exports: a CSV of people, or SCIM 2.0 `User` resources as JSON.

CSV columns (header names are matched case-insensitively; unknown columns are refused):
    email (required), name, department, groups (`;`-separated), manager (email), locale,
    timezone, country, upn, aliases (`;`-separated), active (true/false)

SCIM: a `ListResponse` (`{"Resources": [...]}`), a list of users, or JSON Lines. Used: `userName`,
`emails[]` (the `primary` one is the email; the others and `userName` become aliases),
`displayName` / `name.formatted`, `preferredLanguage` / `locale`, `timezone`, `active`, `groups[]`
(`display`), and the enterprise extension's `department` and `manager` (`value` is the manager's
SCIM id, resolved to their email within the same export).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from appwarden.adapters.importers.records import EMAIL, RecordError, employee_from
from appwarden.adapters.importers.text_files import read_text
from appwarden.core.errors import ImportRejected, Problem
from appwarden.services.directory import DirectoryBatch, DirectoryEntry

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
CSV_COLUMNS = (
    "email",
    "name",
    "department",
    "groups",
    "manager",
    "locale",
    "timezone",
    "country",
    "upn",
    "aliases",
    "active",
)
FALSE = frozenset({"false", "0", "no", "n", "inactive", "disabled"})


def parse_directory(path: Path) -> DirectoryBatch:
    text = read_text(path)
    origin = str(path)
    if path.suffix.lower() in (".csv", ".txt"):
        return parse_csv(text, origin)
    return parse_scim(text, origin)


def parse_csv(text: str, origin: str) -> DirectoryBatch:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip().lower() for h in reader.fieldnames or []]
    reader.fieldnames = header
    extra = [h for h in header if h not in CSV_COLUMNS]
    if "email" not in header or extra:
        what = f"unknown column(s): {', '.join(extra)}" if extra else "no `email` column"
        raise ImportRejected(
            Problem(what, file=origin, line=1, fix=f"columns: {', '.join(CSV_COLUMNS)}")
        )
    batch = DirectoryBatch("csv", origin)
    seen: dict[str, int] = {}
    for row in reader:
        batch.rows += 1
        line = reader.line_num
        if None in row:
            batch.rejected.append(Problem("has more cells than the header", file=origin, line=line))
            continue
        try:
            employee = employee_from({k: v for k, v in row.items() if k in CSV_COLUMNS[:8]})
        except RecordError as err:
            batch.rejected.append(Problem(err.message, err.field, err.fix, origin, line))
            continue
        if employee.email in seen:
            batch.rejected.append(
                Problem(f"duplicates line {seen[employee.email]}", "email", "", origin, line)
            )
            continue
        seen[employee.email] = line
        aliases = [row.get("upn") or "", *(row.get("aliases") or "").split(";")]
        active = (row.get("active") or "true").strip().lower() not in FALSE
        batch.entries.append(DirectoryEntry(employee, _aliases(aliases), active))
    return batch


def parse_scim(text: str, origin: str) -> DirectoryBatch:
    users = _scim_users(text, origin)
    ids = {
        str(u.get("id")): _primary_email(u) for u in users if isinstance(u, dict) and u.get("id")
    }
    batch = DirectoryBatch("scim", origin)
    seen: dict[str, int] = {}
    for i, user in enumerate(users):
        batch.rows += 1
        where = f"{origin} Resources[{i}]"
        try:
            entry = _scim_entry(user, ids)
        except RecordError as err:
            batch.rejected.append(Problem(err.message, err.field, err.fix, where))
            continue
        email = entry.employee.email
        if email in seen:
            batch.rejected.append(
                Problem(f"duplicates Resources[{seen[email]}]", "emails", "", where)
            )
            continue
        seen[email] = i
        batch.entries.append(entry)
    return batch


def _scim_users(text: str, origin: str) -> list[Any]:
    stripped = text.strip()
    try:
        if stripped.startswith("{") and "\n{" in stripped:  # JSON Lines
            return [json.loads(line) for line in stripped.splitlines() if line.strip()]
        data = json.loads(stripped)
    except json.JSONDecodeError as exc:
        raise ImportRejected(
            Problem(
                f"is not valid JSON ({exc.msg})",
                file=origin,
                line=exc.lineno,
                fix="export it again",
            )
        ) from exc
    if isinstance(data, dict):
        data = data.get("Resources", [data])
    if not isinstance(data, list):
        raise ImportRejected(Problem("must hold SCIM User resources", file=origin))
    return data


def _primary_email(user: Mapping[str, Any]) -> str:
    emails = user.get("emails") or []
    if isinstance(emails, list):
        primary = [e for e in emails if isinstance(e, dict) and e.get("primary")]
        for item in primary + [e for e in emails if isinstance(e, dict)]:
            value = str(item.get("value") or "").strip().lower()
            if EMAIL.match(value):
                return value
    name = str(user.get("userName") or "").strip().lower()
    return name if EMAIL.match(name) else ""


def _scim_entry(user: Any, ids: Mapping[str, str]) -> DirectoryEntry:
    if not isinstance(user, dict):
        raise RecordError("", "each user must be a JSON object")
    email = _primary_email(user)
    if not email:
        raise RecordError("emails", "no email address", "give the user a primary email")
    extension = user.get(ENTERPRISE) or {}
    if not isinstance(extension, dict):
        raise RecordError(ENTERPRISE, "must be an object")
    manager = extension.get("manager") or {}
    manager_id = str(manager.get("value") or "") if isinstance(manager, dict) else ""
    groups = [
        g.get("display") or g.get("value") for g in user.get("groups") or [] if isinstance(g, dict)
    ]
    raw_name = user.get("name")
    name: dict[str, Any] = raw_name if isinstance(raw_name, dict) else {}
    locale = str(user.get("preferredLanguage") or user.get("locale") or "en")
    record = {
        "email": email,
        "name": user.get("displayName") or name.get("formatted") or "",
        "locale": locale.replace("_", "-"),
        "timezone": user.get("timezone") or "UTC",
        "department": extension.get("department") or "",
        "groups": [g for g in groups if g],
        "manager": ids.get(manager_id, ""),
    }
    employee = employee_from(record)
    emails = [e for e in user.get("emails") or [] if isinstance(e, dict)]
    aliases = _aliases([str(user.get("userName") or ""), *(str(e.get("value")) for e in emails)])
    active = user.get("active") is not False
    return DirectoryEntry(employee, tuple(a for a in aliases if a != email), active)


def _aliases(values: list[str]) -> tuple[str, ...]:
    out = []
    for value in values:
        alias = value.strip().lower()
        if alias and EMAIL.match(alias) and alias not in out:
            out.append(alias)
    return tuple(out)
