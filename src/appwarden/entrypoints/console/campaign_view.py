"""What the campaign page shows each person (which buttons, and why not), and its charts.

Showing a button is a courtesy: every step is checked again on the server (the page table for
the role, NoticeService for who may approve or resume).
"""

from __future__ import annotations

from typing import Any

from babel import Locale, UnknownLocaleError
from markupsafe import Markup

from appwarden.core.campaign import Campaign, CampaignStatus, needs_second_person
from appwarden.entrypoints.console.charts_bars import bars_svg, stacked_svg
from appwarden.entrypoints.console.i18n import RTL
from appwarden.entrypoints.console.web import Ctx
from appwarden.services.campaign_console import Progress

DIMENSIONS = ("department", "country", "platform", "ownership")
CHART_ROWS = 12
WAVE_SEGMENTS = (
    ("sent", ("sent",)),
    ("bounced", ("bounced", "failed")),
    ("waiting", ("planned", "queued", "held")),
    ("cancelled", ("cancelled",)),
)


def may(ctx: Ctx, c: Campaign, proposer: str) -> dict[str, Any]:
    """Which steps this viewer may take now, and why approval is not theirs to give."""
    me = ctx.viewer.email.lower()
    role = ctx.viewer.may
    own = me == c.author.lower() or (proposer and me == proposer.lower())
    second = needs_second_person(c, ctx.app.notices.config.approval_threshold)
    why = ""
    if not role("approver"):
        why = "role"
    elif own and second:
        why = "own"
    status = c.status
    in_window = c.undo_until is not None and ctx.now < c.undo_until
    return {
        "preview": role("author") and status.open,
        "approve": status is CampaignStatus.PREVIEWED and not why,
        "why_not": why,
        "halt": role("author") and status in (CampaignStatus.APPROVED, CampaignStatus.SENDING),
        "resume": status is CampaignStatus.HALTED and role("approver") and me != c.author.lower(),
        "undo": role("author") and status is CampaignStatus.APPROVED and in_window,
        "retract": role("author") and status.live,
    }


def campaign_charts(ctx: Ctx, kept: dict[str, Any] | None, shown: Progress) -> dict[str, Markup]:
    rtl = ctx.locale in RTL
    fmt = ctx.fmt
    charts: dict[str, Markup] = {}
    if kept:
        for dim in DIMENSIONS:
            people = kept["breakdown"].get(dim, {}).get("people", {})
            rows = sorted(people.items(), key=lambda kv: (-kv[1], kv[0]))[:CHART_ROWS]
            labels = [(dimension_value(ctx, dim, k), v) for k, v in rows]
            charts[dim] = bars_svg(
                labels, fmt.number, ctx._("People by %(d)s", d=dimension_name(ctx, dim)), rtl
            )
        days = [(fmt.day(d["day"]), d["people"]) for d in kept["lose_mail"]]
        charts["lose_mail"] = bars_svg(
            days, fmt.number, ctx._("People who lose mail, by day"), rtl, "bad"
        )
    rows = []
    for wave, states in sorted(shown.waves.items()):
        segments = [(css, sum(states.get(s, 0) for s in group)) for css, group in WAVE_SEGMENTS]
        label = ctx._("canary") if wave == 1 else ctx._("wave %(n)s", n=fmt.number(wave))
        rows.append((label, segments))
    charts["waves"] = stacked_svg(rows, fmt.number, ctx._("Notices per wave"), rtl)
    return charts


KIND_ORDER = ("announce", "correction", "reminder", "blocked", "restored")


def sample_groups(
    kept: dict[str, Any] | None,
) -> list[tuple[str, list[tuple[str, dict[str, Any]]]]]:
    """[(kind, [(locale, sample), ...]), ...]: the first kind is what the campaign sends now."""
    groups: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for key, sample in sorted((kept or {}).get("samples", {}).items()):
        code, _, kind = key.partition("/")
        groups.setdefault(kind, []).append((code, sample))
    order = {k: i for i, k in enumerate(KIND_ORDER)}
    return sorted(groups.items(), key=lambda kv: order.get(kv[0], len(order)))


def dimension_name(ctx: Ctx, dim: str) -> str:
    names = {
        "department": ctx._("department"),
        "country": ctx._("country"),
        "platform": ctx._("platform"),
        "ownership": ctx._("ownership"),
    }
    return names.get(dim, dim)


def locale_name(ctx: Ctx, code: str) -> str:
    try:
        return str(Locale.parse(code).get_display_name(ctx.locale) or code)
    except (ValueError, UnknownLocaleError):
        return code


def dimension_value(ctx: Ctx, dim: str, value: str) -> str:
    if value == "(none)":
        return ctx._("(not set)")
    if dim == "platform":
        return {"ios": "iOS", "ipados": "iPadOS", "android": "Android"}.get(value, value)
    if dim == "ownership":
        return {"corporate": ctx._("corporate"), "personal": ctx._("personal")}.get(value, value)
    return value
