"""The console's request plumbing: who is asking, may they, CSRF, language, rendering.

Every page is declared once in a table with the role it needs; `wrap` turns it into a Starlette
endpoint that resolves the session, checks the role on the server, checks CSRF on every POST,
and renders errors as pages (never a stack trace). Handlers run in a worker thread.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from appwarden.bootstrap import App
from appwarden.core.errors import Forbidden, InvalidInput, Problem
from appwarden.core.timeutil import parse_instant
from appwarden.entrypoints.api.auth import SESSION_COOKIE
from appwarden.entrypoints.api.errors import error_body
from appwarden.entrypoints.console.i18n import RTL, Formats, negotiate, translations
from appwarden.entrypoints.rate_limit import ClientLimiter
from appwarden.services.access import RANKED_ROLES, role_allows
from appwarden.services.audit_view import ChainWatch
from appwarden.services.overview import BurnDown
from appwarden.services.ports import ConsoleSession
from appwarden.services.signin import session_for

log = logging.getLogger("appwarden.console")
CONSOLE_COOKIE = SESSION_COOKIE
EMPLOYEE_COOKIE = "aw_me"
PRE_CSRF_COOKIE = "aw_csrf"
MAX_FORM = 256 * 1024
PUBLIC = "public"  # anyone, signed in or not
EMPLOYEE = "employee"  # a signed-in employee (self-service page)
ACCESS_LEVELS = (PUBLIC, EMPLOYEE, *RANKED_ROLES)


@dataclass(frozen=True, slots=True)
class Viewer:
    kind: str  # anonymous | account | employee
    email: str = ""
    role: str = ""
    name: str = ""
    locale: str = ""
    timezone: str = "UTC"
    session: ConsoleSession | None = None

    def may(self, needed: str) -> bool:
        if needed == PUBLIC:
            return True
        if needed == EMPLOYEE:
            return self.kind == "employee"
        return self.kind == "account" and role_allows(self.role, needed)


ANONYMOUS = Viewer("anonymous")


@dataclass
class ConsoleState:
    """What the console keeps between requests (caches; nothing that must survive a restart)."""

    app: App
    burndown: BurnDown = field(default_factory=BurnDown)
    chain: ChainWatch = field(default_factory=ChainWatch)
    envs: dict[str, Environment] = field(default_factory=dict)
    failures: dict[str, list[float]] = field(default_factory=dict)  # sign-in throttle
    limits: dict[str, ClientLimiter] = field(default_factory=dict)  # public pages, per address

    def env(self, locale: str) -> Environment:
        env = self.envs.get(locale)
        if env is None:
            env = Environment(
                loader=PackageLoader("appwarden.entrypoints.console", "templates"),
                autoescape=select_autoescape(default=True, default_for_string=True),
                undefined=StrictUndefined,
                extensions=["jinja2.ext.i18n"],
                trim_blocks=True,
                lstrip_blocks=True,
            )
            env.install_gettext_translations(translations(locale), newstyle=True)  # type: ignore[attr-defined]
            env.filters["instant"] = parse_instant
            self.envs[locale] = env
        return env


@dataclass
class Ctx:
    """One request as a handler sees it."""

    state: ConsoleState
    request: Request
    viewer: Viewer
    locale: str
    form: Mapping[str, str]
    csrf: str

    @property
    def app(self) -> App:
        return self.state.app

    @property
    def now(self) -> datetime:
        return self.app.clock.now().replace(microsecond=0)

    def _(self, message: str, **values: Any) -> str:
        text = translations(self.locale).gettext(message)
        return text % values if values else text

    @property
    def fmt(self) -> Formats:
        return Formats(self.locale, self.viewer.timezone)

    def param(self, name: str, limit: int = 200) -> str:
        return (self.request.query_params.get(name) or "")[:limit]

    def field(self, name: str, limit: int = 2000) -> str:
        value = self.form.get(name, "")
        if len(value) > limit:
            raise InvalidInput(Problem(f"is longer than {limit} characters", name, "shorten it"))
        return value.strip()

    def render(self, template: str, status: int = 200, **values: Any) -> Response:
        env = self.state.env(self.locale)
        html = env.get_template(template).render(
            ctx=self,
            viewer=self.viewer,
            locale=self.locale,
            dir="rtl" if self.locale in RTL else "ltr",
            fmt=self.fmt,
            csrf=self.csrf,
            now=self.now,
            done=self.param("done", 40),
            **values,
        )
        return HTMLResponse(html, status_code=status)

    def redirect(self, path: str, **query: str) -> Response:
        target = path + ("?" + urlencode(query) if query else "")
        return RedirectResponse(target, status_code=303)


Handler = Callable[[Ctx], Response]


@dataclass(frozen=True, slots=True)
class PageRoute:
    method: str
    path: str
    access: str  # one of ACCESS_LEVELS
    handler: Handler


def resolve_viewer(app: App, request: Request, now: datetime) -> Viewer:
    """The account session (console) or, on /me, the employee session; anonymous otherwise."""
    employee_area = request.url.path.startswith("/me")
    name = EMPLOYEE_COOKIE if employee_area else CONSOLE_COOKIE
    secret = request.cookies.get(name, "")
    if not secret:
        return ANONYMOUS
    with app.store.read() as uow:
        session = session_for(uow, secret, now)
        if session is None:
            return ANONYMOUS
        if session.kind == "employee" and employee_area:
            person = uow.inventory.employee(session.subject)
            if person is None:
                return ANONYMOUS
            return Viewer(
                "employee",
                person.email,
                EMPLOYEE,
                person.name,
                person.locale,
                person.timezone,
                session,
            )
        account = uow.accounts.get(session.subject) if session.kind == "account" else None
        if account is None or not account.active or employee_area:
            return ANONYMOUS
        return Viewer(
            "account", account.email, account.role, account.name, account.locale, "UTC", session
        )


def same_origin(request: Request) -> bool:
    """Browsers send Origin on POST; when present it must be this site."""
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return origin is None
    return urlsplit(origin).netloc == request.headers.get("host", "")


def csrf_ok(request: Request, viewer: Viewer, sent: str) -> bool:
    if not same_origin(request):
        return False
    expected = viewer.session.csrf_token if viewer.session else request.cookies.get(PRE_CSRF_COOKIE)
    if not expected or not sent:
        return False
    return hmac.compare_digest(expected.encode(), sent.encode())


SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
    "cache-control": "no-store",
}


def secure_cookies(app: App, request: Request) -> bool:
    mode = app.settings.raw("cookie_secure")
    if mode in ("always", "never"):
        return mode == "always"
    forwarded = request.headers.get("x-forwarded-proto", "")
    return request.url.scheme == "https" or forwarded == "https"


async def read_form(request: Request) -> dict[str, str]:
    size = int(request.headers.get("content-length") or 0)
    if size > MAX_FORM:
        raise InvalidInput(Problem("the form is larger than 256 KB", "body", "send less"))
    form = await request.form(max_files=0, max_fields=200)
    return {k: v for k, v in form.items() if isinstance(v, str)}


def error_page(ctx: Ctx, exc: BaseException) -> Response:
    status, body = error_body(exc)
    if status == 500:
        log.exception("console page %s failed", ctx.request.url.path, exc_info=exc)
    problems = body.get("problems") or []
    return ctx.render(
        "error.html", status=status, status_code=status, detail=body["detail"], problems=problems
    )


def wrap(state: ConsoleState, page: PageRoute) -> Callable[[Request], Awaitable[Response]]:
    app = state.app

    async def endpoint(request: Request) -> Response:
        now = app.clock.now().replace(microsecond=0)
        viewer = await run_in_threadpool(resolve_viewer, app, request, now)
        locale = negotiate(request, viewer.locale or None)
        pre = request.cookies.get(PRE_CSRF_COOKIE) or secrets.token_urlsafe(24)
        csrf = viewer.session.csrf_token if viewer.session else pre
        ctx = Ctx(state, request, viewer, locale, {}, csrf)
        try:
            if not viewer.may(page.access):
                response = denied(ctx, page.access)
            else:
                if page.method == "POST":
                    ctx.form = await read_form(request)
                    if not csrf_ok(request, viewer, ctx.form.get("csrf", "")):
                        raise Forbidden("the form expired or came from another site; reload")
                response = await run_in_threadpool(page.handler, ctx)
        except Exception as exc:  # mapped to a page in one place
            response = error_page(ctx, exc)
        finish(app, request, ctx, response, pre)
        return response

    return endpoint


def denied(ctx: Ctx, needed: str) -> Response:
    if ctx.viewer.kind == "anonymous" and ctx.request.method == "GET":
        target = "/me/sign-in" if needed == EMPLOYEE else "/console/sign-in"
        return ctx.redirect(target, next=ctx.request.url.path)
    if ctx.viewer.kind == "anonymous":
        return ctx.render(
            "error.html",
            status=401,
            status_code=401,
            detail=ctx._("Please sign in first."),
            problems=[],
        )
    return ctx.render(
        "error.html",
        status=403,
        status_code=403,
        detail=ctx._(
            "This needs the %(role)s role; you have %(have)s.",
            role=ctx._(needed),
            have=ctx._(ctx.viewer.role),
        ),
        problems=[],
    )


def finish(app: App, request: Request, ctx: Ctx, response: Response, pre: str) -> None:
    for key, value in SECURITY_HEADERS.items():
        response.headers.setdefault(key, value)
    secure = secure_cookies(app, request)
    if ctx.viewer.session is None and request.cookies.get(PRE_CSRF_COOKIE) != pre:
        response.set_cookie(
            PRE_CSRF_COOKIE, pre, httponly=True, samesite="strict", secure=secure, path="/"
        )
    lang = request.query_params.get("lang")
    if lang and lang == ctx.locale:
        response.set_cookie("aw_lang", lang, max_age=365 * 86400, samesite="lax", secure=secure)


def set_session_cookie(ctx: Ctx, response: Response, kind: str, secret: str) -> None:
    name, path = (CONSOLE_COOKIE, "/") if kind == "account" else (EMPLOYEE_COOKIE, "/me")
    ttl = int(ctx.app.settings.duration("session_ttl").total_seconds())
    response.set_cookie(
        name,
        secret,
        max_age=ttl,
        httponly=True,
        samesite="strict",
        secure=secure_cookies(ctx.app, ctx.request),
        path=path,
    )


def clear_session_cookie(response: Response, kind: str) -> None:
    name, path = (CONSOLE_COOKIE, "/") if kind == "account" else (EMPLOYEE_COOKIE, "/me")
    response.delete_cookie(name, path=path, httponly=True, samesite="strict")


def safe_next(value: str, default: str) -> str:
    """Only local paths: never an open redirect."""
    if value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value[:300]
    return default
