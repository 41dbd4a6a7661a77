"""Run charts for Lean follow-up: monthly points, the median line, the signals of
non-random variation, and improvement notes as annotations. Drawn on the server as SVG.

Signals (the run chart rules used in healthcare quality improvement; Perla RJ, Provost LP,
Murray SK. BMJ Qual Saf 2011;20:46-51):
- shift: six or more consecutive points all above or all below the median (points on the
  median neither break nor count);
- trend: five or more consecutive points all going up or all going down (equal neighbours
  neither break nor count).
"""

from dataclasses import dataclass
from datetime import date
from statistics import median

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

SHIFT = 6
TREND = 5
WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM = 560, 200, 40, 12, 12, 28


@dataclass(frozen=True)
class RunPoint:
    month: date
    value: float


def shift_points(values: list[float], centre: float) -> set[int]:
    """Indexes of points that are part of a shift."""
    marked: set[int] = set()
    run: list[int] = []
    side = 0
    for index, value in enumerate(values):
        if value == centre:
            continue
        this = 1 if value > centre else -1
        if this != side:
            if len(run) >= SHIFT:
                marked.update(run)
            run, side = [], this
        run.append(index)
    if len(run) >= SHIFT:
        marked.update(run)
    return marked


def trend_points(values: list[float]) -> set[int]:
    """Indexes of points that are part of a trend."""
    marked: set[int] = set()
    run = [0] if values else []
    direction = 0
    for index in range(1, len(values)):
        step = values[index] - values[index - 1]
        if step == 0:
            continue
        this = 1 if step > 0 else -1
        if this != direction:
            if len(run) >= TREND:
                marked.update(run)
            run, direction = [run[-1]] if run else [index - 1], this
        run.append(index)
    if len(run) >= TREND:
        marked.update(run)
    return marked


def _n(value: float) -> str:
    return f"{value:.1f}"


def run_chart(points: list[RunPoint], *, title: str, notes=(), unit: str = "") -> dict:
    """The SVG and the signals of a monthly series (empty months are left out)."""
    values = [p.value for p in points]
    if not values:
        return {"svg": "", "median": None, "shift": set(), "trend": set(), "points": []}
    centre = median(values)
    shift, trend = shift_points(values, centre), trend_points(values)
    top = max(max(values), centre) * 1.1 or 1
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(index: int) -> float:
        return LEFT + (plot_w * index / (len(values) - 1) if len(values) > 1 else plot_w / 2)

    def y(value: float) -> float:
        return TOP + plot_h - plot_h * value / top

    line = " ".join(f"{_n(x(i))},{_n(y(v))}" for i, v in enumerate(values))
    dots = format_html_join(
        "",
        '<circle cx="{}" cy="{}" r="3.5" fill="{}"><title>{}: {}{}</title></circle>',
        (
            (
                _n(x(i)),
                _n(y(v)),
                "#a61b1b" if i in shift else ("#8a5a00" if i in trend else "#1f5f8b"),
                p.month.strftime("%m.%Y"),
                _n(v),
                unit,
            )
            for i, (p, v) in enumerate(zip(points, values, strict=True))
        ),
    )
    labels = format_html_join(
        "",
        '<text x="{}" y="{}" font-size="9" text-anchor="middle" fill="#55606b">{}</text>',
        (
            (_n(x(i)), HEIGHT - 10, p.month.strftime("%m.%y"))
            for i, p in enumerate(points)
            if i % 3 == 0
        ),
    )
    first, last = points[0].month, points[-1].month
    annotations = []
    for note in notes:
        if first <= note.date <= last and len(points) > 1:
            span = (last - first).days or 1
            nx = LEFT + plot_w * (note.date - first).days / span
            annotations.append(
                (_n(nx), TOP, _n(nx), TOP + plot_h, _n(nx + 2), TOP + 10, note.title[:30])
            )
    notes_svg = format_html_join(
        "",
        '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#6b4fa0" stroke-dasharray="4 3"/>'
        '<text x="{}" y="{}" font-size="9" fill="#6b4fa0">{}</text>',
        annotations,
    )
    svg = format_html(
        '<svg class="run-chart" viewBox="0 0 {} {}" role="img" aria-label="{}">'
        '<rect x="{}" y="{}" width="{}" height="{}" fill="#ffffff" stroke="#d5dee6"/>'
        '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#55606b" stroke-dasharray="6 4"/>'
        '<text x="{}" y="{}" font-size="9" text-anchor="end" fill="#55606b">{}</text>'
        '<polyline points="{}" fill="none" stroke="#1f5f8b" stroke-width="1.5"/>{}{}{}</svg>',
        WIDTH, HEIGHT, title, LEFT, TOP, plot_w, plot_h,
        LEFT, _n(y(centre)), LEFT + plot_w, _n(y(centre)), LEFT - 3, _n(y(centre) + 3), _n(centre),
        line, dots, labels, notes_svg,
    )  # fmt: skip
    return {
        "svg": SafeString(svg),
        "median": centre,
        "shift": shift,
        "trend": trend,
        "points": points,
    }
