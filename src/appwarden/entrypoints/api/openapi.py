"""The OpenAPI document, built from the route table so the two cannot drift apart."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from appwarden import __version__


@dataclass(frozen=True, slots=True)
class RouteDoc:
    method: str
    path: str
    summary: str
    role: str | None  # None: no authentication
    params: tuple[tuple[str, str, str, bool], ...] = ()  # (name, in, description, required)
    body: str | None = None  # media type of the request body
    responses: dict[int, str] = field(default_factory=dict)


def operation_id(route: RouteDoc) -> str:
    path = route.path.strip("/").replace("/", "_").replace("{", "").replace("}", "")
    return f"{route.method.lower()}_{path}"


def build_openapi(routes: list[RouteDoc]) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for route in routes:
        op: dict[str, Any] = {
            "summary": route.summary,
            "operationId": operation_id(route),
            "responses": {
                str(code): {"description": text}
                for code, text in ({200: "OK"} | route.responses).items()
            },
        }
        if route.role is None:
            op["security"] = []
        else:
            op["description"] = f"Needs the `{route.role}` role (or higher)."
            op["responses"].setdefault("401", {"description": "no or bad token"})
            op["responses"].setdefault("403", {"description": "role too low"})
        if route.params:
            op["parameters"] = [
                {
                    "name": n,
                    "in": where,
                    "description": d,
                    "required": req,
                    "schema": {"type": "string"},
                }
                for n, where, d, req in route.params
            ]
        if route.body:
            op["requestBody"] = {
                "required": True,
                "content": {
                    route.body: {"schema": {"type": "string" if "yaml" in route.body else "object"}}
                },
            }
        paths.setdefault(route.path, {})[route.method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "AppWarden API",
            "version": __version__,
            "description": "Inventory, policies, verdicts and mail-access decisions.",
        },
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearer": []}],
        "paths": paths,
    }
