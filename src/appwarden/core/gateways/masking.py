"""Identities masked for the decision log (`decision_log_mask`).

none     kept as they are
partial  kind, then the first 3 and last 2 characters: `eas:ABC…89`, `user:ali…le` (enough to
         recognise a device you already know, not enough to find one you don't)
hash     kind, then 16 hex characters of SHA-256(salt + value): stable, so one identity's
         decisions still group together, but not reversible without the salt
"""

from __future__ import annotations

import hashlib
from enum import StrEnum


class MaskMode(StrEnum):
    NONE = "none"
    PARTIAL = "partial"
    HASH = "hash"


def mask_identity(identity: str, mode: MaskMode, salt: str = "") -> str:
    if mode is MaskMode.NONE or not identity:
        return identity
    kind, sep, value = identity.partition(":")
    if not sep:
        kind, value = "", identity
    if mode is MaskMode.HASH:
        digest = hashlib.sha256((salt + value).encode()).hexdigest()[:16]
        shown = f"#{digest}"
    elif len(value) <= 6:
        shown = "…"
    else:
        shown = f"{value[:3]}…{value[-2:]}"
    return f"{kind}:{shown}" if kind else shown
