"""The Lean dashboard: filters, the KPI run charts and tables, and their exports."""

import csv
import io
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django import forms
from django.conf import settings
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from openpyxl import Workbook

from apu.models import Municipality, User
from evaluation import kpis
from evaluation.models import DashboardSnapshot, ImprovementNote, SnapshotDecoder
from evaluation.runcharts import RunPoint, run_chart

DEFAULT_MONTHS = 18
# Part of each snapshot's key: raise it when the figures' layout changes, so old snapshots
# are never read back into new code.
FIGURES_VERSION = 2


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _months_back(day: date, months: int) -> date:
    total = day.year * 12 + day.month - 1 - months
    return date(total // 12, total % 12 + 1, 1)


class DashboardFilterForm(forms.Form):
    start = forms.DateField(
        label=_("From month"),
        required=False,
        widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"),
        input_formats=["%Y-%m", "%Y-%m-%d"],
    )
    end = forms.DateField(
        label=_("To month"),
        required=False,
        widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"),
        input_formats=["%Y-%m", "%Y-%m-%d"],
    )
    municipality = forms.ModelChoiceField(
        label=_("Municipality"),
        queryset=Municipality.objects.filter(participating=True),
        required=False,
        empty_label=_("All"),
    )

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        if user.is_coordinator:
            del self.fields["municipality"]

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and start > end:
            raise forms.ValidationError(_("The period must start before it ends."))
        return cleaned

    def filters(self, user: User) -> kpis.Filters:
        data = self.cleaned_data if self.is_valid() else {}
        municipality = (
            user.municipality_id
            if user.is_coordinator
            else getattr(data.get("municipality"), "pk", None)
        )
        return period_filters(data.get("start"), data.get("end"), municipality_id=municipality)


def period_filters(
    start: date | None = None, end: date | None = None, *, municipality_id: int | None = None
) -> kpis.Filters:
    """The months from ``start`` to ``end``; by default the last 18 months up to this one."""
    end = _month_start(end or timezone.localdate())
    start = _month_start(start or _months_back(end, DEFAULT_MONTHS - 1))
    return kpis.Filters(start=start, end=end, municipality_id=municipality_id)


@dataclass(frozen=True)
class Kpi:
    key: str
    title: str
    unit: str
    series: list


KPI_TITLES = [
    ("courses_started", _("Courses started per month"), ""),
    ("intake_days", _("Days from first contact to intake meeting (median)"), ""),
    ("intake_on_time", _("Intake meetings on time (within 21 days), %"), " %"),
    ("first_no_show", _("No-show at the first conversation, %"), " %"),
    ("attendance", _("Attendance at group sessions, %"), " %"),
    ("norm_hours", _("Norm hours used per discharged course (median)"), ""),
    ("treatment_hours", _("Treatment hours received per discharged course (median)"), ""),
    ("drop_out", _("Drop-out among discharged courses, %"), " %"),
]


def compute_figures(user: User, filters: kpis.Filters) -> dict:
    """Every KPI of the dashboard, one query each, as plain data that a snapshot can keep."""
    median_days, on_time = kpis.intake_timeliness(user, filters)
    no_show, reasons = kpis.first_conversation_no_show(user, filters)
    used, received = kpis.hours_per_discharged_course(user, filters)
    groups, modules = kpis.attendance_tables(user, filters)
    series = {
        "courses_started": kpis.courses_started(user, filters),
        "intake_days": median_days,
        "intake_on_time": on_time,
        "first_no_show": no_show,
        "attendance": kpis.attendance_rate(user, filters),
        "norm_hours": used,
        "treatment_hours": received,
        "drop_out": kpis.drop_out(user, filters),
    }
    return {
        "series": series,
        "reasons": list(reasons),
        "groups": groups,
        "modules": modules,
        # JSON has no tuple keys: each quadrant as [mental, substance, counts].
        "quadrants": [[m, s, row] for (m, s), row in kpis.quadrant_mix(user, filters).items()],
        "outcomes": kpis.outcome_change(user, filters),
        "years": kpis.courses_per_year(user, filters),
    }


def snapshot_key(filters: kpis.Filters) -> str:
    where = filters.municipality_id or "all"
    return f"v{FIGURES_VERSION}:{filters.start:%Y-%m}:{filters.end:%Y-%m}:{where}"


def store_figures(user: User, filters: kpis.Filters) -> tuple[dict, datetime]:
    """Compute the figures for ``filters`` now and keep them as the snapshot of their key."""
    started = time.monotonic()
    data = compute_figures(user, filters)
    now = timezone.now()
    # One upsert: two requests computing the same new key at once cannot collide.
    DashboardSnapshot.objects.bulk_create(
        [
            DashboardSnapshot(
                key=snapshot_key(filters),
                data=data,
                computed_at=now,
                seconds=time.monotonic() - started,
            )
        ],
        update_conflicts=True,
        unique_fields=["key"],
        update_fields=["data", "computed_at", "seconds"],
    )
    # Read back through the JSON field, so a fresh result looks exactly like a kept one.
    return DashboardSnapshot.objects.get(key=snapshot_key(filters)).data, now


def _fresh(snapshot: DashboardSnapshot | None) -> bool:
    max_age = timedelta(minutes=settings.DASHBOARD_MAX_AGE_MINUTES)
    return snapshot is not None and timezone.now() - snapshot.computed_at <= max_age


def _snapshots(key: str, *, groups: bool) -> models.QuerySet[DashboardSnapshot]:
    """The snapshot of ``key`` with its figures as ``figures``: without the per-group table
    unless asked for. That table is only exported, never shown, and at regional scale it is
    most of the JSON: PostgreSQL drops it (``data - 'groups'``) rather than Python decoding it
    on every view."""
    figures = (
        models.F("data")
        if groups
        else models.Func(
            models.F("data"),
            models.Value("groups"),
            template="(%(expressions)s::text)",
            arg_joiner=" - ",
            output_field=models.JSONField(decoder=SnapshotDecoder),
        )
    )
    return DashboardSnapshot.objects.filter(key=key).defer("data").annotate(figures=figures)


def figures(user: User, filters: kpis.Filters, *, groups: bool = False) -> tuple[dict, datetime]:
    """The KPI figures and when they were computed: the snapshot while fresh, else new ones.
    The per-group table (``groups``) only when asked for."""
    # A snapshot holds one municipality's or everyone's figures; the clinic sees everyone and
    # a coordinator only their own municipality (the filter form sets it), so the figures of
    # a key are the same for every user who may ask for it.
    if not (user.is_clinic_staff or filters.municipality_id == user.municipality_id):
        return compute_figures(user, filters), timezone.now()
    key = snapshot_key(filters)
    snapshot = _snapshots(key, groups=groups).first()
    if snapshot is None:
        return store_figures(user, filters)
    if _fresh(snapshot):
        return snapshot.figures, snapshot.computed_at
    with transaction.atomic():
        # One request recomputes a stale snapshot while it holds the row; the others skip
        # the locked row and show the figures they already read.
        locked = _snapshots(key, groups=groups).select_for_update(skip_locked=True).first()
        if locked is None:
            return snapshot.figures, snapshot.computed_at
        if _fresh(locked):  # refreshed by another request meanwhile
            return locked.figures, locked.computed_at
        return store_figures(user, filters)


def build(user: User, filters: kpis.Filters, *, groups: bool = False) -> dict:
    """The dashboard: the KPI figures as run charts, the tables, and the notes on the charts;
    the per-group table (only exported) when ``groups``."""
    data, computed_at = figures(user, filters, groups=groups)
    notes = list(ImprovementNote.objects.filter(date__gte=filters.start).order_by("date"))
    charts = []
    for key, title, unit in KPI_TITLES:
        kpi = Kpi(key, title, unit, [(month, value) for month, value in data["series"][key]])
        points = [RunPoint(month=month, value=value) for month, value in kpi.series]
        chart = run_chart(points, title=str(kpi.title), notes=notes, unit=kpi.unit)
        charts.append({"kpi": kpi, **chart})
    quadrants = {(m, s): row for m, s, row in data["quadrants"]}
    return {
        "charts": charts,
        "computed_at": computed_at,
        "reasons": data["reasons"],
        "groups": data["groups"] if groups else None,
        "modules": data["modules"],
        "quadrants": quadrants,
        # A template cannot look a tuple key up: each quadrant's cell by "mental_substance",
        # so a quadrant nobody was referred to still gets its own (empty) cell.
        "quadrant_cells": {f"{m}_{s}": row for (m, s), row in quadrants.items()},
        "outcomes": data["outcomes"],
        "notes": notes,
        "years": data["years"],
    }


TABLES = {
    "kpis": _("Monthly KPIs"),
    "groups": _("Attendance and fill rate per group"),
    "outcomes": _("Outcome change per instrument"),
    "reasons": _("Reasons for not coming to the first conversation"),
    "years": _("Courses started per year against the norm"),
    "quadrants": _("Quadrant model: referred / accepted"),
}


def table_rows(table: str, data: dict) -> tuple[list[str], list[list]]:
    """Header and rows of one dashboard table, for CSV and XLSX."""
    if table == "kpis":
        header = ["kpi", "month", "value", "median", "shift", "trend"]
        rows = []
        for chart in data["charts"]:
            for index, point in enumerate(chart["points"]):
                rows.append(
                    [
                        chart["kpi"].key,
                        point.month.isoformat(),
                        round(point.value, 2),
                        chart["median"],
                        index in chart["shift"],
                        index in chart["trend"],
                    ]
                )
        return header, rows
    if table == "groups":
        header = ["module", "group", "sessions", "attendance_rate_pct", "fill_rate_pct"]
        return header, [
            [g["module"], g["group"], g["sessions"], g["attendance_rate"], g["fill_rate"]]
            for g in data["groups"]
        ]
    if table == "outcomes":
        header = [
            "instrument",
            "n",
            "mean_change",
            "reliable_improvement_pct",
            "reliable_deterioration_pct",
            "recovered_pct",
        ]
        return header, [
            [
                o["instrument"],
                o["n"],
                o["mean_change"],
                o["improved"],
                o["deteriorated"],
                o["recovered"],
            ]
            for o in data["outcomes"]
        ]
    if table == "reasons":
        return ["reason", "count"], [
            [r["no_show_reason__name"] or "", r["n"]] for r in data["reasons"]
        ]
    if table == "years":
        return ["year", "started", "norm"], [
            [y["year"], y["started"], y["norm"]] for y in data["years"]
        ]
    if table == "quadrants":
        header = ["mental_severity", "substance_severity", "referred", "accepted"]
        rows = [
            [mental, substance, row["referred"], row["accepted"]]
            for (mental, substance), row in sorted(data["quadrants"].items())
        ]
        return header, rows
    raise KeyError(table)


def as_csv(header: list[str], rows: list[list]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def as_xlsx(header: list[str], rows: list[list], *, title: str) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
