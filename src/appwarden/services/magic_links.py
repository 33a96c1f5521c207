"""Employee sign-in by e-mail: single-use links that expire within minutes.

The link's secret goes only into the e-mail; the database keeps its SHA-256. A link is spent by
an explicit POST (a mail scanner that follows the link does not sign anyone in), and spending
it is one conditional UPDATE, so two clicks cannot both succeed.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from appwarden.core.errors import Unauthorized
from appwarden.core.events import AuditEvent, EventType
from appwarden.core.inventory import Employee
from appwarden.services.ports import (
    ConsoleSession,
    MagicLink,
    Mailer,
    OutgoingMail,
    Store,
    UnitOfWork,
)
from appwarden.services.signin import open_session, secret_hash

LINK_UNUSABLE = "this sign-in link is expired or was already used; ask for a new one"


@dataclass(frozen=True, slots=True)
class LinkLimits:
    ttl: timedelta
    per_hour: int
    session_ttl: timedelta


# Builds the message for one employee from the link URL and its expiry (localised by the caller).
Composer = Callable[[Employee, str, datetime], OutgoingMail]


def issue_link(
    uow: UnitOfWork, email: str, now: datetime, limits: LinkLimits
) -> tuple[Employee, str] | None:
    """A new link for a known employee, or None (unknown address, or too many links)."""
    email = email.strip().lower()
    employee = uow.inventory.employee(email) if email else None
    if employee is None:
        return None
    if uow.sessions.links_since(email, now - timedelta(hours=1)) >= limits.per_hour:
        return None
    secret = secrets.token_urlsafe(32)
    uow.sessions.add_link(MagicLink(secret_hash(secret), email, now, now + limits.ttl))
    uow.audit.append(
        AuditEvent(EventType.SIGN_IN_LINK_SENT, "system", now, subject=f"employee:{email}")
    )
    return employee, secret


def send_link(
    store: Store,
    mailer: Mailer,
    compose: Composer,
    email: str,
    link_url: Callable[[str], str],
    now: datetime,
    limits: LinkLimits,
) -> bool:
    """Issue and mail a link. The answer to the browser never says whether the address exists."""
    with store.unit_of_work() as uow:
        issued = issue_link(uow, email, now, limits)
    if issued is None:
        return False
    employee, secret = issued
    mailer.send(compose(employee, link_url(secret), now + limits.ttl))
    return True


def redeem_link(
    uow: UnitOfWork, secret: str, now: datetime, limits: LinkLimits
) -> tuple[str, ConsoleSession]:
    """Spend a link once and open an employee session; Unauthorized when it cannot be used."""
    if not secret or len(secret) > 100:
        raise Unauthorized(LINK_UNUSABLE)
    digest = secret_hash(secret)
    link = uow.sessions.get_link(digest)
    if link is None or link.used_at is not None or now >= link.expires_at:
        raise Unauthorized(LINK_UNUSABLE)
    if not uow.sessions.use_link(digest, now):
        raise Unauthorized(LINK_UNUSABLE)
    return open_session(uow, "employee", link.email, now, limits.session_ttl)


def link_is_usable(uow: UnitOfWork, secret: str, now: datetime) -> bool:
    link = uow.sessions.get_link(secret_hash(secret)) if 0 < len(secret) <= 100 else None
    return link is not None and link.used_at is None and now < link.expires_at
