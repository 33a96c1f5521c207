"""Accounts: people and their role. Roles gate actions on the server, never only in the UI."""

from __future__ import annotations

import re
from datetime import datetime

from appwarden.core.errors import Forbidden, InvalidInput, NotFound, Problem
from appwarden.core.events import AuditEvent, EventType
from appwarden.services.access import RANKED_ROLES, role_allows
from appwarden.services.ports import Account, UnitOfWork

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def save_account(
    uow: UnitOfWork,
    email: str,
    role: str,
    actor: str,
    now: datetime,
    name: str = "",
    locale: str = "en",
) -> Account:
    email = email.strip().lower()
    problems = []
    if not EMAIL.match(email):
        problems.append(Problem(f"{email!r} is not an email address", "email"))
    if role not in RANKED_ROLES:
        problems.append(
            Problem(f"{role!r} is not a role", "role", f"use {', '.join(RANKED_ROLES)}")
        )
    if problems:
        raise InvalidInput(problems)
    before = uow.accounts.get(email)
    account = Account(
        email,
        name or (before.name if before else ""),
        role,
        locale,
        before.created_by if before else actor,
        before.created_at if before else now,
    )
    uow.accounts.upsert(account, now)
    kind = EventType.USER_CREATED if before is None else EventType.USER_ROLE_CHANGED
    uow.audit.append(
        AuditEvent(
            kind,
            actor,
            now,
            subject=f"account:{email}",
            before={"role": before.role} if before else None,
            after={"role": role},
        )
    )
    return account


def require_account_role(uow: UnitOfWork, email: str, needed: str) -> Account:
    """The acting person must have an active account with at least `needed`."""
    account = uow.accounts.get(email)
    if account is None:
        raise NotFound(f"no account {email!r}; an admin adds it with `appwarden account add`")
    if not account.active:
        raise Forbidden(f"account {email} is disabled")
    if not role_allows(account.role, needed):
        raise Forbidden(f"{email} has the {account.role} role; this needs {needed}")
    return account
