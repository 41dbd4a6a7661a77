"""The Lean dashboard: filters, the KPI run charts and tables, and their exports."""

import csv
import io
from dataclasses import dataclass
from datetime import date

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from openpyxl import Workbook

from apu.models import Municipality, User
from evaluation import kpis
from evaluation.models import ImprovementNote
from evaluation.runcharts import RunPoint, run_chart

DEFAULT_MONTHS = 18


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
        today = timezone.localdate()
        data = self.cleaned_data if self.is_valid() else {}
        end = _month_start(data.get("end") or today)
        start = _month_start(data.get("start") or _months_back(end, DEFAULT_MONTHS - 1))
        municipality = (
            user.municipality_id
            if user.is_coordinator
            else getattr(data.get("municipality"), "pk", None)
        )
        return kpis.Filters(start=start, end=end, municipality_id=municipality)


@dataclass(frozen=True)
class Kpi:
    key: str
    title: str
    unit: str
    series: list


def build(user: User, filters: kpis.Filters) -> dict:
    """Every KPI of the dashboard (one query each) and the notes to annotate them with."""
    median_days, on_time = kpis.intake_timeliness(user, filters)
    no_show, reasons = kpis.first_conversation_no_show(user, filters)
    used, received = kpis.hours_per_discharged_course(user, filters)
    series = [
        Kpi(
            "courses_started",
            _("Courses started per month"),
            "",
            kpis.courses_started(user, filters),
        ),
        Kpi(
            "intake_days", _("Days from first contact to intake meeting (median)"), "", median_days
        ),
        Kpi("intake_on_time", _("Intake meetings on time (within 21 days), %"), " %", on_time),
        Kpi("first_no_show", _("No-show at the first conversation, %"), " %", no_show),
        Kpi(
            "attendance",
            _("Attendance at group sessions, %"),
            " %",
            kpis.attendance_rate(user, filters),
        ),
        Kpi("norm_hours", _("Norm hours used per discharged course (median)"), "", used),
        Kpi(
            "treatment_hours",
            _("Treatment hours received per discharged course (median)"),
            "",
            received,
        ),
        Kpi(
            "drop_out",
            _("Drop-out among discharged courses, %"),
            " %",
            kpis.drop_out(user, filters),
        ),
    ]
    notes = list(ImprovementNote.objects.filter(date__gte=filters.start).order_by("date"))
    quadrants = kpis.quadrant_mix(user, filters)
    charts = []
    for kpi in series:
        points = [RunPoint(month=month, value=value) for month, value in kpi.series]
        chart = run_chart(points, title=str(kpi.title), notes=notes, unit=kpi.unit)
        charts.append({"kpi": kpi, **chart})
    return {
        "charts": charts,
        "reasons": reasons,
        "groups": kpis.attendance_by_group(user, filters),
        "quadrants": quadrants,
        # A template cannot look a tuple key up: each quadrant's cell by "mental_substance",
        # so a quadrant nobody was referred to still gets its own (empty) cell.
        "quadrant_cells": {f"{m}_{s}": row for (m, s), row in quadrants.items()},
        "outcomes": kpis.outcome_change(user, filters),
        "notes": notes,
        "years": kpis.courses_per_year(user, filters),
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
