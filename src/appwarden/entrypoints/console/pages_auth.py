"""Signing in and out: console accounts with a password, employees with an e-mailed link."""

from __future__ import annotations

import logging
import time
from datetime import datetime

from starlette.responses import Response

from appwarden.adapters.mail.wiring import public_base_url
from appwarden.core.errors import Unauthorized
from appwarden.core.inventory import Employee
from appwarden.entrypoints.console.i18n import Formats
from appwarden.entrypoints.console.web import (
    EMPLOYEE,
    PUBLIC,
    Ctx,
    PageRoute,
    clear_session_cookie,
    safe_next,
    set_session_cookie,
)
from appwarden.services.magic_links import LinkLimits, link_is_usable, redeem_link, send_link
from appwarden.services.ports import MailUnavailable, OutgoingMail
from appwarden.services.signin import check_password, close_session, open_session

log = logging.getLogger("appwarden.console")
MAX_FAILURES = 10  # per e-mail address per 15 minutes
WINDOW = 900.0


def _throttled(ctx: Ctx, email: str) -> bool:
    recent = [t for t in ctx.state.failures.get(email, []) if time.monotonic() - t < WINDOW]
    ctx.state.failures[email] = recent
    return len(recent) >= MAX_FAILURES


def sign_in_form(ctx: Ctx) -> Response:
    if ctx.viewer.kind == "account":
        return ctx.redirect("/console/")
    return ctx.render("sign_in.html", error="", email="", next=ctx.param("next", 300))


def sign_in(ctx: Ctx) -> Response:
    email = ctx.field("email", 320).lower()
    target = safe_next(ctx.field("next", 300), "/console/")
    if _throttled(ctx, email):
        message = ctx._("Too many failed attempts. Wait 15 minutes and try again.")
        return ctx.render("sign_in.html", status=429, error=message, email=email, next=target)
    try:
        with ctx.app.store.unit_of_work() as uow:
            account = check_password(uow, ctx.app.passwords, email, ctx.form.get("password", ""))
            ttl = ctx.app.settings.duration("session_ttl")
            secret, _session = open_session(uow, "account", account.email, ctx.now, ttl)
    except Unauthorized:
        ctx.state.failures.setdefault(email, []).append(time.monotonic())
        message = ctx._("Wrong e-mail or password.")
        return ctx.render("sign_in.html", status=401, error=message, email=email, next=target)
    response = ctx.redirect(target)
    set_session_cookie(ctx, response, "account", secret)
    return response


def sign_out(ctx: Ctx) -> Response:
    kind = "employee" if ctx.request.url.path.startswith("/me") else "account"
    cookie = ctx.request.cookies.get("aw_me" if kind == "employee" else "aw_console", "")
    with ctx.app.store.unit_of_work() as uow:
        close_session(uow, cookie, ctx.now)
    response = ctx.redirect("/me/sign-in" if kind == "employee" else "/console/sign-in", done="out")
    clear_session_cookie(response, kind)
    return response


# -- employees: magic links ----------------------------------------------------------------------
def limits(ctx: Ctx) -> LinkLimits:
    settings = ctx.app.settings
    return LinkLimits(
        settings.duration("magic_link_ttl"),
        int(settings.raw("magic_links_per_hour")),
        settings.duration("session_ttl"),
    )


def base_url(ctx: Ctx) -> str:
    return public_base_url(ctx.app.settings)


def composer(ctx: Ctx):  # type: ignore[no-untyped-def]
    def compose(employee: Employee, url: str, expires: datetime) -> OutgoingMail:
        locale = employee.locale if employee.locale in ("en", "ar") else "en"
        env = ctx.state.env(locale)
        fmt = Formats(locale, employee.timezone)
        values = {
            "name": employee.name or employee.email,
            "url": url,
            "expires": fmt.datetime(expires),
            "dir": "rtl" if locale == "ar" else "ltr",
            "locale": locale,
        }
        subject = env.get_template("mail_link_subject.txt").render(**values).strip()
        text = env.get_template("mail_link.txt").render(**values)
        html = env.get_template("mail_link.html").render(**values)
        return OutgoingMail(employee.email, subject, text, html)

    return compose


def me_sign_in_form(ctx: Ctx) -> Response:
    if ctx.viewer.kind == "employee":
        return ctx.redirect("/me")
    return ctx.render("me_sign_in.html", sent=False, error="", email="")


def me_sign_in(ctx: Ctx) -> Response:
    email = ctx.field("email", 320).lower()
    if not ctx.app.settings.raw("smtp_host"):
        error = ctx._("E-mail sign-in is not set up here. Ask your IT team.")
        return ctx.render("me_sign_in.html", status=503, sent=False, error=error, email=email)
    try:
        send_link(
            ctx.app.store,
            ctx.app.mailer,
            composer(ctx),
            email,
            lambda secret: f"{base_url(ctx)}/me/link?token={secret}",
            ctx.now,
            limits(ctx),
        )
    except MailUnavailable as exc:
        log.warning("sign-in link not sent: %s", exc)
        error = ctx._("We could not send the e-mail just now. Try again in a few minutes.")
        return ctx.render("me_sign_in.html", status=503, sent=False, error=error, email=email)
    return ctx.render("me_sign_in.html", sent=True, error="", email=email)


def me_link_form(ctx: Ctx) -> Response:
    token = ctx.param("token", 100)
    with ctx.app.store.read() as uow:
        usable = link_is_usable(uow, token, ctx.now)
    return ctx.render("me_link.html", status=200 if usable else 410, token=token, usable=usable)


def me_link(ctx: Ctx) -> Response:
    try:
        with ctx.app.store.unit_of_work() as uow:
            secret, _session = redeem_link(uow, ctx.field("token", 100), ctx.now, limits(ctx))
    except Unauthorized:
        return ctx.render("me_link.html", status=410, token="", usable=False)
    response = ctx.redirect("/me")
    set_session_cookie(ctx, response, "employee", secret)
    return response


PAGES = [
    PageRoute("GET", "/console/sign-in", PUBLIC, sign_in_form),
    PageRoute("POST", "/console/sign-in", PUBLIC, sign_in),
    PageRoute("POST", "/console/sign-out", "viewer", sign_out),
    PageRoute("GET", "/me/sign-in", PUBLIC, me_sign_in_form),
    PageRoute("POST", "/me/sign-in", PUBLIC, me_sign_in),
    PageRoute("GET", "/me/link", PUBLIC, me_link_form),
    PageRoute("POST", "/me/link", PUBLIC, me_link),
    PageRoute("POST", "/me/sign-out", EMPLOYEE, sign_out),
]
