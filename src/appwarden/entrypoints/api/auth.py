"""Who is calling: bearer API tokens now; the console adds session cookies beside them."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass

from starlette.requests import Request

from appwarden.bootstrap import App
from appwarden.core.errors import Unauthorized
from appwarden.services.access import authenticate, require
from appwarden.services.signin import session_for

SESSION_COOKIE = "aw_console"  # the console's session (entrypoints/console)
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


@dataclass(frozen=True, slots=True)
class Principal:
    name: str  # shown in audit events as the actor
    role: str
    via: str  # "token" | "session"


# Other ways of authenticating (sessions, single sign-on) register a resolver here.
RESOLVERS: list[Callable[[App, Request], Principal | None]] = []


def bearer_principal(app: App, request: Request) -> Principal | None:
    header = request.headers.get("authorization", "")
    if not header:
        return None
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Unauthorized("use `Authorization: Bearer <token>`")
    with app.store.read() as uow:
        token = authenticate(uow, secret.strip())
    return Principal(f"token:{token.name}", token.role, "token")


def session_principal(app: App, request: Request) -> Principal | None:
    """A signed-in console session; changes also need its CSRF token in X-CSRF-Token."""
    secret = request.cookies.get(SESSION_COOKIE, "")
    if not secret:
        return None
    with app.store.read() as uow:
        session = session_for(uow, secret, app.clock.now())
        account = (
            uow.accounts.get(session.subject) if session and session.kind == "account" else None
        )
    if session is None or account is None or not account.active:
        raise Unauthorized("the console session has ended; sign in again")
    if request.method not in SAFE_METHODS:
        sent = request.headers.get("x-csrf-token", "")
        if not sent or not hmac.compare_digest(sent.encode(), session.csrf_token.encode()):
            raise Unauthorized("changes from a console session need the X-CSRF-Token header")
    return Principal(account.email, account.role, "session")


RESOLVERS.append(bearer_principal)
RESOLVERS.append(session_principal)


def principal(app: App, request: Request, needed: str) -> Principal:
    for resolve in RESOLVERS:
        found = resolve(app, request)
        if found is not None:
            require(found.role, needed)
            return found
    raise Unauthorized("authentication required: send `Authorization: Bearer <token>`")
