"""Horizontal (stacked) bar charts as inline SVG, drawn on the server; mirrored for Arabic.

Used by the campaign pages: people per department / country / platform / ownership, people who
lose mail per day, and notices per wave by state. Labels are isolated (FSI ... PDI) so Latin
names keep their order inside Arabic and the reverse; colours come from CSS classes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from markupsafe import Markup, escape

W = 640
ROW, PAD, LABEL, VALUE = 24, 6, 180, 80
FSI, PDI = "\u2068", "\u2069"

Segment = tuple[str, int]  # (css class, value)
Row = tuple[str, Sequence[Segment]]  # (label, segments)


def stacked_svg(
    rows: Sequence[Row], number: Callable[[int], str], title: str, rtl: bool = False
) -> Markup:
    """One bar per row, its segments side by side; the bars share one scale."""
    if not rows:
        return Markup("")
    top = max(max(sum(v for _, v in segments) for _, segments in rows), 1)
    span = W - LABEL - VALUE - 2 * PAD
    height = PAD * 2 + ROW * len(rows)
    parts = [
        f'<svg class="chart bars" viewBox="0 0 {W} {height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg" direction="ltr">',
        f"<title>{escape(title)}</title>",
    ]
    for i, (label, segments) in enumerate(rows):
        y = PAD + i * ROW
        total = sum(v for _, v in segments)
        parts.append(_label(label, y, rtl))
        offset = 0.0
        for css, value in segments:
            width = span * value / top
            x = (W - LABEL - offset - width) if rtl else (LABEL + offset)
            if value:
                parts.append(
                    f'<rect class="{escape(css)}" x="{x:.1f}" y="{y + 3}" '
                    f'width="{max(width, 1):.1f}" height="{ROW - 8}"/>'
                )
            offset += width
        end = (W - LABEL - offset - PAD) if rtl else (LABEL + offset + PAD)
        anchor = "end" if rtl else "start"
        parts.append(
            f'<text class="tick" x="{end:.1f}" y="{y + ROW - 8}" text-anchor="{anchor}">'
            f"{FSI}{escape(number(total))}{PDI}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (every value above is escaped)


def _label(text: str, y: int, rtl: bool) -> str:
    short = text if len(text) <= 26 else text[:25] + "…"
    x, anchor = (W - LABEL + PAD, "start") if rtl else (LABEL - PAD, "end")
    return (
        f'<text class="mark" x="{x}" y="{y + ROW - 8}" text-anchor="{anchor}">'
        f"<title>{escape(text)}</title>{FSI}{escape(short)}{PDI}</text>"
    )


def bars_svg(
    rows: Sequence[tuple[str, int]],
    number: Callable[[int], str],
    title: str,
    rtl: bool = False,
    css: str = "bar",
) -> Markup:
    return stacked_svg([(label, [(css, value)]) for label, value in rows], number, title, rtl)
