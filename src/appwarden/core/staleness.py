"""Devices that stopped reporting: what we knew about them is getting old.

A device whose newest report is older than `after` is *stale*. What follows is configured once
for the fleet (`stale_effect`):

    ignore    keep judging the device by its last report
    unknown   treat its apps as unseen: the policy's `unknown:` mode decides (allow, attest, block),
              exactly as for a phone whose apps cannot be seen (the default)
    block     treat staleness itself as failing: pending until the deadline, then the policy's
              action (`block_mail` blocks)

A device with no known report time is never stale. Every verdict of a stale device (unless the
effect is `ignore`) carries a `device_stale` finding that says since when.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from pyroaring import BitMap

from appwarden.core.fleet import FleetIndex
from appwarden.core.timeutil import iso, to_epoch
from appwarden.core.verdict import Finding, FindingKind


class StaleEffect(StrEnum):
    IGNORE = "ignore"
    UNKNOWN = "unknown"
    BLOCK = "block"


@dataclass(frozen=True, slots=True)
class StaleMark:
    """A device is stale under this effect, last heard from at `last_seen`."""

    effect: StaleEffect
    last_seen: datetime

    @property
    def fails(self) -> bool:
        return self.effect is StaleEffect.BLOCK

    def finding(self) -> Finding:
        return Finding(FindingKind.DEVICE_STALE, detail=f"no report since {iso(self.last_seen)}")


@dataclass(frozen=True, slots=True)
class Staleness:
    after: timedelta
    effect: StaleEffect = StaleEffect.UNKNOWN

    def cutoff(self, now: datetime) -> datetime:
        return now - self.after

    def is_stale(self, last_seen: datetime | None, now: datetime) -> bool:
        return last_seen is not None and last_seen < self.cutoff(now)

    def mark(self, last_seen: datetime | None, now: datetime) -> StaleMark | None:
        """The mark to pass to assessment, or None when fresh or the effect is `ignore`."""
        if self.effect is StaleEffect.IGNORE or last_seen is None:
            return None
        return StaleMark(self.effect, last_seen) if self.is_stale(last_seen, now) else None


def seen_before(fleet: FleetIndex, instant: datetime) -> BitMap:
    """Live devices of the index whose newest report is older than `instant`."""
    cutoff = to_epoch(instant)
    stale = BitMap(i for i, seen in enumerate(fleet.last_seen) if 0 < seen < cutoff)
    return stale & fleet.live


def mark_seen(fleet: FleetIndex, key: str, seen: datetime) -> None:
    """A report that changed nothing still says the device is alive."""
    slot = fleet.slot_of.get(key)
    if slot is not None:
        fleet.last_seen[slot] = max(fleet.last_seen[slot], int(to_epoch(seen)))
