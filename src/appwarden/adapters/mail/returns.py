"""Mail that comes back: delivery status notifications (bounces) and replies to our notices.

A campaign halts itself when a wave's signals are off (docs/notices.md); the signals come from
the bounce mailbox. This module reads what a mail server put there (a Maildir, an mbox file or
single .eml files, or one message piped to the API) and says, for each message, which of our
messages it is about and whether it is a bounce or a person's reply:

* a bounce is a delivery status notification (RFC 3464: `multipart/report;
  report-type=delivery-status`) with at least one recipient whose `Action` is `failed`; the
  original's Message-ID is read from the returned headers (`text/rfc822-headers` or
  `message/rfc822`). Delays, relays and successes are not bounces.
* a reply is a message whose `In-Reply-To` or `References` names one of our Message-IDs and
  that is not automatic (RFC 3834 `Auto-Submitted`, `X-Autoreply`, `Precedence: auto_reply`,
  bulk or junk): out-of-office answers say nothing about the notice.
Everything else is ignored and counted.
"""

from __future__ import annotations

import mailbox
import re
from collections.abc import Iterator
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import Message
from pathlib import Path

MAX_MESSAGE_BYTES = 5_000_000
_MSG_ID = re.compile(r"<([^<>\s]+@[^<>\s]+)>")


@dataclass(frozen=True, slots=True)
class Return:
    kind: str  # bounce | reply | ignored
    message_id: str = ""  # ours, without angle brackets
    detail: str = ""  # the status and diagnostic of a bounce; why a message was ignored


def classify(raw: bytes, domain: str) -> Return:
    """What one returned message says about our messages (`domain`: our Message-ID domain)."""
    if len(raw) > MAX_MESSAGE_BYTES:
        return Return("ignored", detail=f"larger than {MAX_MESSAGE_BYTES} bytes")
    msg = message_from_bytes(raw, policy=policy.default)
    if _is_report(msg):
        return _bounce(msg, domain)
    if _automatic(msg):
        return Return("ignored", detail="an automatic reply")
    for header in ("In-Reply-To", "References"):
        found = _ours(str(msg.get(header, "")), domain)
        if found:
            return Return("reply", found)
    return Return("ignored", detail="not about a message of ours")


def _is_report(msg: Message) -> bool:
    return (
        msg.get_content_type() == "multipart/report"
        and str(msg.get_param("report-type", "")).lower() == "delivery-status"
    )


def _bounce(msg: Message, domain: str) -> Return:
    failed, status, diagnostic = False, "", ""
    original = ""
    for part in msg.walk():
        kind = part.get_content_type()
        if kind == "message/delivery-status":
            for block in _status_blocks(part):
                if str(block.get("Action", "")).strip().lower() == "failed":
                    failed = True
                    status = status or str(block.get("Status", "")).strip()
                    diagnostic = diagnostic or str(block.get("Diagnostic-Code", "")).strip()
        elif kind in ("text/rfc822-headers", "message/rfc822") and not original:
            original = _original_id(part, domain)
    if not failed:
        return Return("ignored", detail="a delivery report without a failed recipient")
    if not original:
        return Return("ignored", detail="a bounce of a message that is not ours")
    detail = " ".join(x for x in (status, diagnostic) if x)[:200]
    return Return("bounce", original, detail)


def _status_blocks(part: Message) -> list[Message]:
    payload = part.get_payload()
    if isinstance(payload, list):  # the parser splits the per-message and per-recipient fields
        return [p for p in payload if isinstance(p, Message)]
    text = payload if isinstance(payload, str) else ""
    blocks: list[Message] = []
    for chunk in re.split(r"\r?\n\r?\n", text):
        if chunk.strip():
            blocks.append(
                message_from_bytes(chunk.encode("utf-8", "replace"), policy=policy.default)
            )
    return blocks


def _original_id(part: Message, domain: str) -> str:
    if part.get_content_type() == "message/rfc822":
        inner = part.get_payload()
        headers = inner[0] if isinstance(inner, list) and inner else None
        value = str(headers.get("Message-ID", "")) if isinstance(headers, Message) else ""
    else:
        body = part.get_payload(decode=True)
        raw = body if isinstance(body, bytes) else b""
        value = str(message_from_bytes(raw, policy=policy.default).get("Message-ID", ""))
    return _ours(value, domain)


def _ours(value: str, domain: str) -> str:
    """The first Message-ID in a header value that carries our domain, or ""."""
    for found in _MSG_ID.findall(value):
        if str(found).lower().endswith("@" + domain.lower()):
            return str(found)
    return ""


def _automatic(msg: Message) -> bool:
    submitted = str(msg.get("Auto-Submitted", "no")).strip().lower()
    precedence = str(msg.get("Precedence", "")).strip().lower()
    return (
        submitted != "no"
        or "X-Autoreply" in msg
        or "X-Autorespond" in msg
        or precedence in ("auto_reply", "bulk", "junk", "list")
    )


def read_messages(path: Path) -> Iterator[tuple[str, bytes, mailbox.Maildir | None]]:
    """(label, raw bytes, the Maildir it came from) for every unread message at `path`: a
    Maildir (messages not yet flagged seen), an mbox file, or a single message file."""
    if path.is_dir():
        box = mailbox.Maildir(path, create=False)
        for key in list(box.iterkeys()):  # a snapshot: reading flags messages seen
            if "S" in box.get_message(key).get_flags():
                continue
            yield key, box.get_bytes(key), box
        return
    with path.open("rb") as handle:
        head = handle.read(5)
    if head == b"From ":
        folder = mailbox.mbox(path, create=False)
        for number, key in enumerate(folder.iterkeys()):
            yield f"{path.name}#{number + 1}", folder.get_bytes(key), None
        return
    yield path.name, path.read_bytes(), None


def mark_seen(box: mailbox.Maildir, key: str) -> None:
    """Flag a Maildir message seen (moved to cur/), so the next run skips it."""
    message = box.get_message(key)
    message.set_subdir("cur")
    message.add_flag("S")
    box[key] = message


__all__ = ["Return", "classify", "mark_seen", "read_messages"]
