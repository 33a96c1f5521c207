"""Who is calling: bearer API tokens now; the console adds session cookies beside them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from starlette.requests import Request

from appwarden.bootstrap import App
from appwarden.core.errors import Unauthorized
from appwarden.services.access import authenticate, require


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


RESOLVERS.append(bearer_principal)


def principal(app: App, request: Request, needed: str) -> Principal:
    for resolve in RESOLVERS:
        found = resolve(app, request)
        if found is not None:
            require(found.role, needed)
            return found
    raise Unauthorized("authentication required: send `Authorization: Bearer <token>`")
