"""The public notice check: "is this notice genuine, and still in force?"

`/verify/{token}` is the link every notice carries (setting `notice_verify_url`). It is public,
limited per client address (`verify_per_minute`), in the notice's language unless the reader
picks another, and shows only what the notice itself said: the policy, its owner and reason, the
deadline, and whether the notice is active, retracted or superseded. Never who received it.
`/me/notice` takes a token or a pasted link and leads there.
"""

from __future__ import annotations

import re

from starlette.responses import JSONResponse, Response

from appwarden.core.errors import InvalidInput, NotFound, Problem
from appwarden.entrypoints.console.i18n import supported
from appwarden.entrypoints.console.web import PUBLIC, Ctx, PageRoute
from appwarden.entrypoints.rate_limit import ClientLimiter, client_address

TOKEN = re.compile(r"[A-Za-z0-9_-]{8,64}")
LINK = re.compile(r"/verify/([A-Za-z0-9_-]{8,64})(?:[/?#]|$)")


def limiter(ctx: Ctx) -> ClientLimiter:
    found = ctx.state.limits.get("verify")
    if found is None:
        per_minute = int(ctx.app.settings.get("verify_per_minute"))
        found = ctx.state.limits.setdefault("verify", ClientLimiter(per_minute))
    return found


def too_many(ctx: Ctx, wait: float) -> Response:
    response = ctx.render(
        "error.html",
        status=429,
        status_code=429,
        detail=ctx._("Too many checks from your address. Wait a minute and try again."),
        problems=[],
    )
    response.headers["retry-after"] = str(int(wait) + 1)
    return response


def verify(ctx: Ctx) -> Response:
    wait = limiter(ctx).allow(client_address(ctx.request))
    if wait:
        return too_many(ctx, wait)
    token = str(ctx.request.path_params["token"])
    chosen = ctx.param("lang", 10) or ctx.request.cookies.get("aw_lang", "")
    try:
        found = ctx.app.notices.verify(token if TOKEN.fullmatch(token) else "", ctx.locale)
    except NotFound:
        return ctx.render("verify.html", status=404, found=None)
    if ctx.param("format", 10) == "json":
        return JSONResponse(found, headers={"cache-control": "no-store"})
    if not supported(chosen) and supported(found["locale"]):
        ctx.locale = supported(found["locale"]) or ctx.locale  # the notice's own language
        found = ctx.app.notices.verify(token, ctx.locale)
    return ctx.render("verify.html", found=found)


def token_from(text: str) -> str:
    """A token, or a link that ends in /verify/<token> (as pasted from the notice)."""
    text = text.strip()
    if TOKEN.fullmatch(text):
        return text
    match = LINK.search(text)
    if match:
        return match.group(1)
    raise InvalidInput(
        Problem(
            "is neither a notice link nor the code at its end",
            "token",
            "paste the link “Check that this notice is genuine” from the notice",
        )
    )


def check_notice(ctx: Ctx) -> Response:
    """The employee page's notice check: paste the link (or its code) from a notice."""
    pasted = ctx.param("token", 600)
    if not pasted:
        return ctx.render("me_notice.html", pasted="", problems=[])
    try:
        token = token_from(pasted)
    except InvalidInput as exc:
        return ctx.render("me_notice.html", status=422, pasted=pasted, problems=exc.problems)
    return ctx.redirect(f"/verify/{token}")


PAGES = [
    PageRoute("GET", "/verify/{token}", PUBLIC, verify),
    PageRoute("GET", "/me/notice", PUBLIC, check_notice),
]
