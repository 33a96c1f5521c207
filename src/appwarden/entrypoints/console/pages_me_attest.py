"""The employee attests for a device whose apps cannot be seen, or withdraws that attestation.

The statement is rendered on the server in the employee's language, naming the barred apps on
the device's platform; the page shows it (Latin names isolated in <bdi>) and the POST signs the
same words, rendered again from the server's state (never taken from the form).
"""

from __future__ import annotations

from markupsafe import Markup, escape
from starlette.responses import Response

from appwarden.core.errors import InvalidInput, Problem
from appwarden.core.inventory import Device
from appwarden.entrypoints.console.i18n import translations
from appwarden.entrypoints.console.web import EMPLOYEE, Ctx, PageRoute
from appwarden.services.self_attest import AttestOffer
from appwarden.services.self_service import attest_mine, offer_mine, withdraw_mine


def N_(message: str) -> str:  # the marker pybabel extracts; translated when shown
    return message


STATEMENT = N_("None of these apps is installed on %(device)s: %(apps)s.")
MORE = N_("%(apps)s and %(count)s more")
SEPARATOR = N_(", ")  # between app names in a statement (Arabic: its own comma)


def statement_text(ctx: Ctx, device: Device, offer: AttestOffer) -> str:
    """The statement as signed: plain text in the page's language."""
    apps = _gettext(ctx, SEPARATOR).join(offer.apps)
    if offer.more:
        apps = _gettext(ctx, MORE) % {"apps": apps, "count": ctx.fmt.number(offer.more)}
    return _gettext(ctx, STATEMENT) % {"device": device.name or device.key, "apps": apps}


def statement_html(ctx: Ctx, device: Device, offer: AttestOffer) -> Markup:
    """The same statement for the page, each Latin name isolated for right-to-left text."""
    apps = escape(_gettext(ctx, SEPARATOR)).join(
        Markup("<bdi>{}</bdi>").format(name) for name in offer.apps
    )
    if offer.more:
        apps = escape(_gettext(ctx, MORE)) % {
            "apps": apps,
            "count": ctx.fmt.number(offer.more),
        }
    label = Markup("<bdi>{}</bdi>").format(device.name or device.key)
    return escape(_gettext(ctx, STATEMENT)) % {"device": label, "apps": apps}


def _gettext(ctx: Ctx, message: str) -> str:
    return translations(ctx.locale).gettext(message)


def attest(ctx: Ctx) -> Response:
    key, policy = ctx.field("device", 200), ctx.field("policy", 100)
    engine, email = ctx.app.engine, ctx.viewer.email
    facts, offer = offer_mine(engine, email, key, policy, ctx.now)  # 403 unless it is mine
    if ctx.field("confirm", 10) != "yes":
        raise InvalidInput(
            Problem(
                "is not ticked",
                "confirm",
                "tick the box to confirm that the statement is true, then submit again",
            )
        )
    attest_mine(
        ctx.app.attestations, email, key, policy, statement_text(ctx, facts.device, offer), ctx.now
    )
    return ctx.redirect("/me", done="attested")


def withdraw(ctx: Ctx) -> Response:
    withdraw_mine(ctx.app.attestations, ctx.viewer.email, ctx.request.path_params["id"], ctx.now)
    return ctx.redirect("/me", done="withdrawn")


PAGES = [
    PageRoute("POST", "/me/attestations", EMPLOYEE, attest),
    PageRoute("POST", "/me/attestations/{id}/withdraw", EMPLOYEE, withdraw),
]
