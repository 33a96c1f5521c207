"""Build one MIME message (text + HTML alternative) with stable identifying headers."""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime

from appwarden.services.ports import Rendered


def build_message(
    rendered: Rendered,
    sender: str,
    recipient: str,
    message_id: str,
    idem_key: str,
    at: datetime,
    test: bool,
    tokens: list[str],
) -> bytes:
    msg = EmailMessage(policy=SMTP)
    msg["From"] = sender
    msg["To"] = recipient
    msg["Subject"] = rendered.subject
    msg["Date"] = format_datetime(at)
    msg["Message-ID"] = f"<{message_id}>"
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to this
    msg["X-AppWarden-Idempotency-Key"] = idem_key
    msg["X-AppWarden-Mode"] = "test" if test else "live"
    msg["X-AppWarden-Notices"] = " ".join(tokens)
    msg.set_content(rendered.text)
    msg.add_alternative(rendered.html, subtype="html")
    msg["Content-Language"] = rendered.locale  # after set_content, which clears Content-*
    return msg.as_bytes()
