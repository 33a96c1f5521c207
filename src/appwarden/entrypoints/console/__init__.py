"""The web console (admins, authors, approvers, viewers) and the employee self-service page.

`console_routes(app)` returns the Starlette routes to mount beside the admin API. Every page is
declared in one table (`PAGES`) with the access it needs; a test walks that table for every role.
"""

from __future__ import annotations

from importlib import resources

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from appwarden.bootstrap import App
from appwarden.entrypoints.console import (
    pages_audit,
    pages_auth,
    pages_campaigns,
    pages_fleet,
    pages_me,
    pages_me_attest,
    pages_overview,
    pages_policies,
    pages_tokens,
    pages_verify,
)
from appwarden.entrypoints.console.web import ConsoleState, PageRoute, wrap

PAGES: list[PageRoute] = [
    *pages_auth.PAGES,
    *pages_overview.PAGES,
    *pages_policies.PAGES,
    *pages_campaigns.PAGES,
    *pages_fleet.PAGES,
    *pages_audit.PAGES,
    *pages_tokens.PAGES,
    *pages_me.PAGES,
    *pages_me_attest.PAGES,
    *pages_verify.PAGES,
]


STATIC_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}


async def static(request: Request) -> Response:
    """The console's own two files (no directory listing, no path traversal: names only)."""
    name = request.path_params["name"]
    suffix = name[name.rfind(".") :] if "." in name else ""
    folder = resources.files("appwarden.entrypoints.console") / "static"
    if "/" in name or suffix not in STATIC_TYPES or not (folder / name).is_file():
        return Response("not found", status_code=404, media_type="text/plain")
    return Response(
        (folder / name).read_bytes(),
        media_type=STATIC_TYPES[suffix],
        headers={"cache-control": "public, max-age=300", "x-content-type-options": "nosniff"},
    )


def console_routes(app: App) -> list[Route]:
    state = ConsoleState(app)
    by_path: dict[str, dict[str, PageRoute]] = {}
    for page in PAGES:
        by_path.setdefault(page.path, {})[page.method] = page
    routes: list[Route] = [
        Route("/console", lambda _r: RedirectResponse("/console/", 308)),
        Route("/", lambda _r: RedirectResponse("/console/", 307)),
        Route("/console/static/{name}", static),
    ]
    for path, methods in by_path.items():
        for method, page in methods.items():
            routes.append(Route(path, wrap(state, page), methods=[method]))
    return routes
