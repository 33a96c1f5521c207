"""Server-drawn bar charts: one scale, escaped and isolated labels, mirrored for Arabic."""

from __future__ import annotations

import re

from appwarden.entrypoints.console.campaign_view import sample_groups
from appwarden.entrypoints.console.charts_bars import LABEL, W, bars_svg, stacked_svg


def rects(svg: str) -> list[tuple[float, float]]:
    return [
        (float(x), float(w))
        for x, w in re.findall(r'<rect class="[^"]+" x="([\d.]+)" y="[\d.]+" width="([\d.]+)"', svg)
    ]


def test_bars_share_one_scale_and_grow_from_the_start_side():
    ltr = str(bars_svg([("Sales", 6), ("HR", 3)], str, "People"))
    (x1, w1), (x2, w2) = rects(ltr)
    assert x1 == x2 == LABEL and abs(w1 - 2 * w2) < 0.2
    rtl = str(bars_svg([("Sales", 6), ("HR", 3)], str, "People", rtl=True))
    (r1, v1), (r2, v2) = rects(rtl)
    assert abs((r1 + v1) - (W - LABEL)) < 0.2 and abs((r2 + v2) - (W - LABEL)) < 0.2  # mirrored
    assert abs(v1 - w1) < 0.2


def test_labels_are_escaped_and_isolated():
    svg = str(bars_svg([("<script>x</script>", 1)], str, 'a "title"'))
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert "\u2068&lt;script&gt;x&lt;/script&gt;\u2069" in svg
    assert 'aria-label="a &#34;title&#34;"' in svg


def test_stacked_segments_follow_each_other_and_zero_draws_nothing():
    svg = str(stacked_svg([("canary", [("sent", 2), ("bounced", 0), ("waiting", 2)])], str, "t"))
    (x1, w1), (x2, w2) = rects(svg)  # the empty segment has no rectangle
    assert abs(x1 + w1 - x2) < 0.2 and abs(w1 - w2) < 0.2
    assert str(stacked_svg([], str, "t")) == ""


def test_sample_groups_put_what_is_sent_now_first():
    kept = {
        "samples": {
            f"{lang}/{k}": {} for lang in ("en", "ar") for k in ("restored", "announce", "reminder")
        }
    }
    groups = sample_groups(kept)
    assert [k for k, _ in groups] == ["announce", "reminder", "restored"]
    assert [code for code, _ in groups[0][1]] == ["ar", "en"]
    assert sample_groups(None) == []
