"""Burn-down charts as inline SVG, rendered on the server (no script, no external library)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

from markupsafe import Markup, escape

from appwarden.services.overview import BurnPoint

W, H = 640, 220
FSI, PDI = "\u2068", "\u2069"  # isolate each label: Arabic dates keep their order in the chart
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 16, 36


def burndown_svg(
    points: Sequence[BurnPoint],
    deadline: date | None,
    today: date,
    number: Callable[[int], str],
    day_label: Callable[[date], str],
    title: str,
    labels: dict[str, str],
) -> Markup:
    """`points` is one point per day (see services.overview.daily); labels: deadline, today."""
    if not points:
        return Markup("")
    start, end = points[0].day, points[-1].day
    span = max((end - start).days, 1)
    top = max(max(p.carrying for p in points), 1)

    def x(day: date) -> float:
        return LEFT + (W - LEFT - RIGHT) * (day - start).days / span

    def y(value: float) -> float:
        return TOP + (H - TOP - BOTTOM) * (1 - value / top)

    seen = [p for p in points if p.day <= today]
    parts = [
        f'<svg class="chart" viewBox="0 0 {W} {H}" role="img" aria-label="{escape(title)}" '
        'xmlns="http://www.w3.org/2000/svg" direction="ltr">',
        f"<title>{escape(title)}</title>",
    ]
    for value in (0, top // 2, top):
        parts.append(
            f'<line class="grid" x1="{LEFT}" x2="{W - RIGHT}" '
            f'y1="{y(value):.1f}" y2="{y(value):.1f}"/>'
            f'<text class="tick" x="{LEFT - 6}" y="{y(value) + 4:.1f}" text-anchor="end">'
            f"{FSI}{escape(number(value))}{PDI}</text>"
        )
    for day, anchor in ((start, "start"), (end, "end")):
        parts.append(
            f'<text class="tick" x="{x(day):.1f}" y="{H - 8}" text-anchor="{anchor}">'
            f"{FSI}{escape(day_label(day))}{PDI}</text>"
        )
    if deadline is not None and start <= deadline <= end:
        first = seen[0].carrying if seen else points[0].carrying
        parts.append(
            f'<line class="ideal" x1="{x(start):.1f}" y1="{y(first):.1f}" '
            f'x2="{x(deadline):.1f}" y2="{y(0):.1f}"/>'
            f'<line class="deadline" x1="{x(deadline):.1f}" x2="{x(deadline):.1f}" '
            f'y1="{TOP}" y2="{H - BOTTOM}"/>'
            f'<text class="mark" x="{x(deadline) - 4:.1f}" y="{TOP + 10}" text-anchor="end">'
            f"{FSI}{escape(labels['deadline'])}{PDI}</text>"
        )
    if seen:
        coords = " ".join(f"{x(p.day):.1f},{y(p.carrying):.1f}" for p in seen)
        last = seen[-1]
        parts.append(
            f'<polyline class="actual" points="{coords}"/>'
            f'<circle class="now" cx="{x(last.day):.1f}" cy="{y(last.carrying):.1f}" r="4"/>'
            f'<text class="mark" x="{x(last.day):.1f}" y="{y(last.carrying) - 8:.1f}" '
            f'text-anchor="start">{FSI}{escape(labels["today"])}: '
            f"{escape(number(last.carrying))}{PDI}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (every value above is escaped)
