"""Score-over-time charts drawn on the server as SVG: no script, no network, fine under
the strict CSP; each chart comes with a table for screen readers."""

from dataclasses import dataclass
from datetime import date

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from evaluation.instruments import INSTRUMENTS

# Band boundaries on the total score, for shading (lower edges as in instruments.py).
BAND_EDGES = {
    "WHO-5": [(0, "#f6d5d5"), (8, "#fbe9c8"), (13, "#dcefe2")],
    "PHQ-9": [(0, "#dcefe2"), (5, "#eef5d9"), (10, "#fbe9c8"), (15, "#f8dcc4"), (20, "#f6d5d5")],
    "GAD-7": [(0, "#dcefe2"), (5, "#eef5d9"), (10, "#fbe9c8"), (15, "#f6d5d5")],
    "AUDIT": [(0, "#dcefe2"), (8, "#fbe9c8"), (16, "#f8dcc4"), (20, "#f6d5d5")],
    "DUDIT": [(0, "#dcefe2"), (6, "#fbe9c8"), (25, "#f6d5d5")],
}
WIDTH, HEIGHT, LEFT, BOTTOM, TOP, RIGHT = 360, 180, 32, 24, 8, 8


@dataclass(frozen=True)
class Point:
    day: date
    total: int
    label: str


def _n(value: float) -> str:
    """A coordinate as text: format_html escapes its arguments, so numbers go in formatted."""
    return f"{value:.1f}"


def svg_chart(instrument: str, points: list[Point], *, title: str) -> SafeString:
    """A line of the totals over time on shaded bands of the instrument."""
    maximum = INSTRUMENTS[instrument].max_total
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def y(value: float) -> float:
        return TOP + plot_h - plot_h * value / maximum

    bands = []
    edges = BAND_EDGES[instrument]
    for index, (lower, colour) in enumerate(edges):
        upper = edges[index + 1][0] if index + 1 < len(edges) else maximum
        bands.append((_n(LEFT), _n(y(upper)), _n(plot_w), _n(y(lower) - y(upper)), colour))
    if len(points) > 1:
        span = (points[-1].day - points[0].day).days or 1
        xs = [LEFT + plot_w * (p.day - points[0].day).days / span for p in points]
    else:
        xs = [LEFT + plot_w / 2 for _p in points]
    coords = [(x, y(p.total), p) for x, p in zip(xs, points, strict=True)]
    band_rects = format_html_join(
        "", '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"/>', bands
    )
    ticks = format_html_join(
        "",
        '<text x="{}" y="{}" font-size="10" text-anchor="end" fill="#55606b">{}</text>',
        ((LEFT - 4, _n(y(lower) + 3), lower) for lower, _colour in edges),
    )
    line = ""
    if len(coords) > 1:
        path = " ".join(f"{x:.1f},{yy:.1f}" for x, yy, _p in coords)
        line = format_html(
            '<polyline points="{}" fill="none" stroke="#1f5f8b" stroke-width="2"/>', path
        )
    dots = format_html_join(
        "",
        '<circle cx="{}" cy="{}" r="4" fill="#1f5f8b"><title>{}: {}</title></circle>'
        '<text x="{}" y="{}" font-size="9" text-anchor="middle" fill="#1d2d3a">{}</text>',
        ((_n(x), _n(yy), p.label, p.total, _n(x), HEIGHT - 8, p.label) for x, yy, p in coords),
    )
    return format_html(
        '<svg class="score-chart" viewBox="0 0 {} {}" role="img" aria-label="{}">'
        '<rect x="{}" y="{}" width="{}" height="{}" fill="#ffffff" stroke="#d5dee6"/>'
        "{}{}{}{}</svg>",
        WIDTH,
        HEIGHT,
        title,
        LEFT,
        TOP,
        plot_w,
        plot_h,
        band_rects,
        ticks,
        line,
        dots,
    )
