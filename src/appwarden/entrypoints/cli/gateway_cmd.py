"""`appwarden gateway config nginx|dovecot|postfix`: a working snippet for your own gateway."""

from __future__ import annotations

import secrets
from enum import StrEnum
from typing import Annotated

import typer

from appwarden.adapters.gateways.snippets import (
    TOKEN_PLACEHOLDER,
    SnippetParams,
    dovecot,
    nginx_http,
    nginx_server,
    postfix,
)
from appwarden.entrypoints.api.gateway_runtime import gateway_rules
from appwarden.entrypoints.cli.context import STATE, err

app = typer.Typer(help="Mail gateways: configuration for nginx, Dovecot and Postfix.")


class Gateway(StrEnum):
    NGINX = "nginx"
    DOVECOT = "dovecot"
    POSTFIX = "postfix"


@app.command()
def config(
    gateway: Annotated[Gateway, typer.Argument(help="nginx, dovecot or postfix.")],
    token: Annotated[
        str,
        typer.Option(help="Gateway token to embed (`appwarden token create --role gateway`)."),
    ] = TOKEN_PLACEHOLDER,
    backend: Annotated[
        str, typer.Option(help="nginx: the ActiveSync server to protect (no path).")
    ] = "https://exchange.example.internal",
    eas_path: Annotated[
        str, typer.Option(help="nginx: the ActiveSync path clients use.")
    ] = "/Microsoft-Server-ActiveSync",
) -> None:
    """Print a configuration snippet (docs/gateways.md explains every line)."""
    settings = STATE.settings()
    gateway_rules(settings)  # refuse settings the gateway could not use
    params = SnippetParams(
        decision_host=settings.raw("decision_host"),
        decision_port=int(settings.raw("decision_port")),
        token=token,
        fail_open=settings.raw("gateway_fail_mode") == "open",
        cache_seconds=int(settings.raw("gateway_cache_seconds")),
        backend=backend.rstrip("/"),
        eas_path=eas_path,
        policy_host=settings.raw("postfix_policy_host"),
        policy_port=int(settings.raw("postfix_policy_port")) or 8472,
        hash_nonce=secrets.token_hex(16),
    )
    if "/" in backend.split("://", 1)[-1].rstrip("/"):
        err.print("warning: --backend should have no path; nginx appends the request's own")
    if gateway is Gateway.NGINX:
        text = nginx_http(params) + "\n" + nginx_server(params)
    elif gateway is Gateway.DOVECOT:
        text = dovecot(params)
    else:
        text = postfix(params)
        if not int(settings.raw("postfix_policy_port")):
            err.print(
                "note: the Postfix policy listener is off; set postfix_policy_port "
                "(e.g. APPWARDEN_POSTFIX_POLICY_PORT=8472) and restart `appwarden serve`"
            )
    if token == TOKEN_PLACEHOLDER and gateway is not Gateway.POSTFIX:
        err.print(f"note: replace {TOKEN_PLACEHOLDER} with a token of role gateway")
    print(text, end="")
