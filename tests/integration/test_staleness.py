"""Staleness in the engine: a device silent for `stale_after` is judged by `stale_effect`, and
its next report (any source) makes it current again."""

from __future__ import annotations

import json
from datetime import timedelta

from appwarden.adapters.importers.native import parse_jsonl
from appwarden.core.timeutil import parse_instant
from tests.support.inventory import make_app


def line(key: str, seen: str, apps: list[str]) -> str:
    return json.dumps(
        {
            "key": key,
            "platform": "android",
            "owner": "a@corp.example",
            "mail": {"eas": [f"E-{key}"]},
            "last_seen": seen,
            "apps": [{"id": a} for a in apps],
        }
    )


def test_silent_devices_become_stale_and_reporting_again_resolves_them(tmp_path):
    app = make_app(tmp_path / "home", stale_after="P14D", stale_effect="unknown")
    try:
        text = "\n".join(
            [
                line("quiet", "2020-06-01T00:00:00Z", ["com.whatsapp"]),
                line("busy", "2020-07-01T08:00:00Z", ["com.whatsapp"]),
            ]
        )
        app.engine.import_inventory(parse_jsonl(text, "a.jsonl"), "test", app.clock.now())
        statuses = {
            v.device: v for v in app.engine.assess(app.clock.now(), "t", "t").all_verdicts()
        }
        assert set(statuses) == {"quiet"}
        quiet = statuses["quiet"]
        assert quiet.status.value == "unknown"
        assert [f.kind.value for f in quiet.findings] == ["device_stale"]
        assert "2020-06-01T00:00:00Z" in quiet.findings[0].detail
        # the device reports again: the same import path, a fresh report time
        fresh = line("quiet", "2020-07-01T15:00:00Z", ["com.whatsapp"])
        summary, report = app.engine.import_inventory(
            parse_jsonl(fresh, "b.jsonl"), "test", app.clock.now()
        )
        assert summary.devices_unchanged == 1  # nothing but the report time changed ...
        assert report is not None and report.transition_counts() == {"resolved": 1}  # ... enough
        assert app.engine.device_verdicts("quiet") == []
    finally:
        app.close()


def test_block_effect_blocks_after_the_deadline(tmp_path):
    # about staleness, not announcements: blocks are enforced without a campaign here
    app = make_app(
        tmp_path / "home",
        stale_after="P14D",
        stale_effect="block",
        enforcement_requires_notice="false",
    )
    try:
        text = line("quiet", "2020-06-01T00:00:00Z", ["com.whatsapp"])
        app.engine.import_inventory(parse_jsonl(text, "a.jsonl"), "test", app.clock.now())
        after = parse_instant("2020-07-11T01:00:00Z") + timedelta(seconds=1)
        app.engine.assess(after, "t", "t")
        decision = app.engine.decide("eas", "E-quiet", after)
        assert decision.outcome.effect.value == "deny"
    finally:
        app.close()
