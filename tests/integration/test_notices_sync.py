"""Enforcement armed or disarmed by one process reaches a running server's decisions by sync."""

from __future__ import annotations

from datetime import timedelta

from appwarden.services.notices import Actor
from tests.support.builders import T0, at, engine
from tests.support.notices import APPROVER, AUTHOR, TIKTOK, announce, apply, fleet

AFTER = at("2020-07-11T02:00Z")


def effect(eng, device):
    return eng.decide("device", device, AFTER).outcome.effect.value


def test_a_server_follows_arming_and_retraction_done_elsewhere(tmp_path):
    cli = engine(tmp_path / "aw.db")
    fleet(
        cli,
        [
            ("p0@corp.example", "en", "UTC", [f"d0:{TIKTOK}"]),
            ("p1@corp.example", "ar", "Asia/Riyadh", [f"d1:{TIKTOK}"]),
        ],
    )
    apply(cli)
    server = engine(tmp_path / "aw.db")
    server.load()
    assert effect(server, "d0") == "allow"  # applied, not announced

    svc = announce(cli)
    assert effect(cli, "d0") == "deny"
    assert effect(server, "d0") == "allow"  # stale until it syncs
    assert server.sync().devices == 2
    assert effect(server, "d0") == "deny" and effect(server, "d1") == "deny"

    [campaign] = [c for c in svc.list_campaigns() if c.status.value in ("sending", "sent")]
    later = T0 + timedelta(hours=1)
    correction = svc.retract(campaign.id, AUTHOR, "sent in error", later)
    preview = svc.preview(correction.id, AUTHOR, later)
    svc.approve(correction.id, Actor(APPROVER, True), later, preview.digest)
    assert effect(cli, "d0") == "allow"
    server.sync()
    assert effect(server, "d0") == "allow" and effect(server, "d1") == "allow"
    cli.store.close()
    server.store.close()
