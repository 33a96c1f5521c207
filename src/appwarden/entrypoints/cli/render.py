"""Human-readable tables for the CLI (JSON output never goes through here)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from rich.table import Table

from appwarden.core.verdict import Status

STATUS_ORDER = [s.value for s in Status]
STATUS_STYLE = {
    "compliant": "green",
    "pending": "yellow",
    "overdue": "dark_orange",
    "blocked": "bold red",
    "exempt": "cyan",
    "unknown": "magenta",
}


def status_cell(status: str) -> str:
    return f"[{STATUS_STYLE.get(status, 'white')}]{status}[/]"


def breakdown_table(title: str, rows: Mapping[str, Mapping[str, int]], first: str) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column(first)
    for status in STATUS_ORDER:
        table.add_column(status_cell(status), justify="right")
    table.add_column("total", justify="right")
    for name, counts in rows.items():
        total = sum(counts.values())
        table.add_row(name, *(str(counts.get(s, 0) or "") for s in STATUS_ORDER), str(total))
    return table


def kv_table(pairs: Iterable[tuple[str, Any]], title: str = "") -> Table:
    table = Table(show_header=False, title=title or None, title_justify="left", box=None)
    table.add_column(style="bold")
    table.add_column()
    for key, value in pairs:
        table.add_row(key, "" if value is None else str(value))
    return table
