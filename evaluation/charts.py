"""Score-over-time charts drawn on the server as SVG: no script, no network, fine under
the strict CSP; each chart comes with a table for screen readers."""

from dataclasses import dataclass
from datetime import date

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

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
    # Built with f-strings: a course page draws five charts, and format_html's escaping of
    # every coordinate cost more than the rest of the chart. Numbers go in formatted by _n
    # or as ints; the only text (title, point labels) is escaped here.
    parts = [
        f'<svg class="score-chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(title)}">'
        f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="#ffffff" '
        'stroke="#d5dee6"/>'
    ]
    parts += (
        f'<rect x="{x}" y="{top}" width="{w}" height="{h}" fill="{colour}"/>'
        for x, top, w, h, colour in bands
    )
    parts += (
        f'<text x="{LEFT - 4}" y="{_n(y(lower) + 3)}" font-size="10" text-anchor="end" '
        f'fill="#55606b">{int(lower)}</text>'
        for lower, _colour in edges
    )
    if len(coords) > 1:
        path = " ".join(f"{x:.1f},{yy:.1f}" for x, yy, _p in coords)
        parts.append(f'<polyline points="{path}" fill="none" stroke="#1f5f8b" stroke-width="2"/>')
    for x, yy, p in coords:
        label = escape(p.label)
        parts.append(
            f'<circle cx="{_n(x)}" cy="{_n(yy)}" r="4" fill="#1f5f8b"><title>{label}: '
            f'{int(p.total)}</title></circle><text x="{_n(x)}" y="{HEIGHT - 8}" font-size="9" '
            f'text-anchor="middle" fill="#1d2d3a">{label}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text part is escaped above
