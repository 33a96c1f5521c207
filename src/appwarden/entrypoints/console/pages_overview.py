"""The console overview: fleet size, each policy's scope and statuses, burn-down per deadline."""

from __future__ import annotations

from datetime import UTC, date, datetime

from starlette.responses import Response

from appwarden.entrypoints.console.charts import burndown_svg
from appwarden.entrypoints.console.web import Ctx, PageRoute
from appwarden.services.overview import chart_window, daily, fleet_summary, policy_cards


def overview(ctx: Ctx) -> Response:
    app = ctx.app
    with app.store.read() as uow:
        cards = policy_cards(uow, app.engine.fleet, ctx.state.burndown)
        proposals = uow.proposals.list("proposed", 20)
        requests = uow.exemption_requests.list("requested", None, 20)
        campaigns = uow.campaigns.find(None, ["previewed"])[-20:]
    charts = {}
    fmt = ctx.fmt
    for card in cards:
        pv = card.stored.version
        start, end = chart_window(card.burndown, pv.published_at, pv.deadline_at, ctx.now)
        points = daily(card.burndown, start, end)
        charts[pv.slug] = burndown_svg(
            points,
            pv.deadline_at.date() if pv.deadline_at else None,
            ctx.now.date(),
            fmt.number,
            lambda d: fmt.date(datetime(d.year, d.month, d.day, 12, tzinfo=UTC)),
            ctx._(
                "Devices still carrying a barred app, day by day: %(title)s",
                title=pv.policy.text("title", ctx.locale),
            ),
            {"deadline": ctx._("deadline"), "today": ctx._("today")},
        )
    return ctx.render(
        "overview.html",
        fleet=fleet_summary(app.engine.fleet),
        cards=cards,
        charts=charts,
        proposals=proposals,
        requests=requests,
        campaigns=campaigns,
        today=date.today(),
    )


PAGES = [PageRoute("GET", "/console/", "viewer", overview)]
