"""Returned mail as wave signals, shared by `appwarden campaign returns` and the API."""

from __future__ import annotations

from datetime import datetime

from appwarden.adapters.mail.returns import Return, classify
from appwarden.bootstrap import App
from appwarden.core.errors import NotFound
from appwarden.services.outbox import domain_of


def take_return(app: App, raw: bytes, actor: str, now: datetime) -> tuple[str, Return]:
    """Classify one returned message and record it: (bounce | reply | unmatched | ignored)."""
    found = classify(raw, domain_of(app.notices.config.sender))
    if found.kind == "ignored":
        return "ignored", found
    try:
        app.notices.signal(found.message_id, found.kind, actor, now, found.detail)
    except NotFound:
        return "unmatched", found
    return found.kind, found
