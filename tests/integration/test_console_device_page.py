"""The console's device page over HTTP on real SQLite: the device's own recent gateway decisions,
newest first, from the decision log (and nobody else's), in English and Arabic."""

from __future__ import annotations

import pytest

from appwarden.services.ports import LoggedDecision
from tests.support.console_app import LiveServer, build_world
from tests.support.console_flow import As


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    world = build_world(tmp_path_factory.mktemp("device-page"))
    live = LiveServer(world)
    yield world, live
    live.stop()
    world.app.close()


def logged(
    decision_id: str, at: str, device: str, result: str, policies: str = ""
) -> LoggedDecision:
    allow = result in ("allowed", "exempt", "would_deny")
    return LoggedDecision(
        decision_id, at, 7, "nginx", "eas:AB***", "em***", device, allow, result, "", policies
    )


def test_device_page_lists_its_own_decisions_newest_first(site):
    world, live = site
    mine, other = world.employee_device, world.unseen_device
    with world.app.store.unit_of_work() as uow:
        uow.decision_log.append(
            [
                logged("dec-0001", "2020-07-10T20:00:00.000Z", mine, "allowed"),
                logged("dec-0002", "2020-07-11T01:00:01.000Z", mine, "denied", "tiktok-mail"),
                logged("dec-0003", "2020-07-11T01:00:02.000Z", other, "denied", "tiktok-mail"),
                logged("dec-0004", "2020-07-11T01:00:03.000Z", "", "unknown"),
            ]
        )
    admin = As(world, live.url, "viewer@corp.example")
    admin.client.cookies.set("aw_lang", "en")
    page = admin.get(f"/console/devices/{mine}").text
    section = page[page.index("Recent gateway decisions") : page.index("Verdict changes")]
    assert section.index("dec-0002") < section.index("dec-0001")  # newest first
    assert "dec-0003" not in section and "dec-0004" not in section
    row = next(r for r in section.split("</tr>") if "dec-0002" in r)
    assert "denied" in row and "<code>tiktok-mail</code>" in row and "nginx" in row
    third = next(k for k in world.app.engine.fleet.keys if k and k not in (mine, other))
    empty = admin.get(f"/console/devices/{third}").text
    assert "No gateway has asked about this device yet" in empty and "dec-0001" not in empty
    admin.client.cookies.set("aw_lang", "ar")
    arabic = admin.get(f"/console/devices/{mine}").text
    assert "Recent gateway decisions" not in arabic and "dec-0002" in arabic
    admin.close()


def test_the_lookup_uses_the_device_index(site):
    world, _live = site
    with world.app.store.read() as uow:
        plan = uow.decision_log.conn.execute(  # type: ignore[attr-defined]
            "EXPLAIN QUERY PLAN SELECT seq FROM decision_log"
            " WHERE device = ? AND device <> '' ORDER BY seq DESC LIMIT 20",
            ("x",),
        ).fetchall()
    assert "decision_log_device" in " ".join(str(row) for row in plan)
