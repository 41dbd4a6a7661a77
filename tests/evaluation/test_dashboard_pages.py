"""The Lean dashboard as each persona meets it: a fixed number of queries whatever the data,
a coordinator's figures from their own municipality only, the exports, the filter's
messages, and the improvement log drawn on the run charts."""

import csv
import io
import re
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from evaluation.models import ImprovementNote
from tests.evaluation.kpi_factories import (
    accept,
    build_clinic_of_size,
    build_small_clinic,
    refer,
    travel,
)
from tests.factories import municipality

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("without_two_factor")]

DASHBOARD = reverse("evaluation:dashboard")
LOG = reverse("evaluation:improvement_log")
LOGIN = reverse("apu:login")
PERIOD = {"start": "2025-01", "end": "2025-06"}
JAN, FEB = date(2025, 1, 1), date(2025, 2, 1)
CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
COPENHAGEN = ZoneInfo("Europe/Copenhagen")
NOTE_LINE = re.compile(r'<line [^>]*stroke="#6b4fa0"')


def export_url(table: str, fmt: str) -> str:
    return reverse("evaluation:dashboard_export", args=[table, fmt])


def danish(message) -> str:
    with translation.override("da"):
        return escape(str(message))


def series(response, key: str) -> list[tuple[date, float]]:
    """The monthly points of one KPI chart in the page's context."""
    [chart] = [c for c in response.context["charts"] if c["kpi"].key == key]
    return [(point.month, point.value) for point in chart["points"]]


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode())))


@pytest.fixture
def small_clinic(clinician, time_machine):
    """Ballerup: 3 courses started in January 2025; Gladsaxe: 1 in January, 1 in February
    (see test_kpis.py for the whole story)."""
    return build_small_clinic(clinician, time_machine)


# --- Who reaches what -------------------------------------------------------------------------

ROUTES = [
    ("dashboard", DASHBOARD),
    ("export", export_url("kpis", "csv")),
    ("improvement-log", LOG),
]
PERSONAS = {
    "clinician": 200,
    "admin_user": 200,
    "coordinator_ballerup": 200,
    "researcher": 403,
    "anonymous": "login",
}


@pytest.mark.parametrize(
    "url,persona,expected",
    [
        pytest.param(url, persona, expected, id=f"{name}-{persona}")
        for name, url in ROUTES
        for persona, expected in PERSONAS.items()
    ],
)
def test_each_persona_reaches_the_dashboard_pages_by_role(request, client, url, persona, expected):
    if persona != "anonymous":
        client.force_login(request.getfixturevalue(persona))

    response = client.get(url)

    if expected == "login":
        assert response.status_code == 302
        assert response.url.startswith(f"{LOGIN}?next=")
    else:
        assert response.status_code == expected


# --- Acceptance 3: the same queries whatever the data size ------------------------------------


@pytest.mark.parametrize("copies", [1, 5], ids=["two-courses", "ten-courses"])
def test_the_dashboard_runs_the_same_queries_for_small_and_five_times_bigger_data(
    client_for, clinician, time_machine, django_assert_num_queries, copies
):
    build_clinic_of_size(clinician, time_machine, copies=copies)
    client = client_for(clinician)
    ContentType.objects.clear_cache()

    # First view, no snapshot yet: 1 session, 2 user, 3 two-factor device, 4 the snapshot
    # looked up; the KPIs: 5 intake timeliness, 6 no-show by month, 7 no-show reasons, 8 hours
    # per discharged course, 9 courses started, 10 attendance rate, 11 drop-out, 12 attendance
    # per group and per module (one query for both), 13 quadrant mix, 14 outcome change, 15-16
    # courses per year and the clinic's first year; 17 the snapshot upserted, 18 read back;
    # 19 improvement notes; 20 the municipalities of the filter's select; 21-23 savepoint,
    # session saved, release.
    with django_assert_num_queries(23):
        response = client.get(DASHBOARD)
    # Every later view reads the snapshot: 1-3 as above, 4 the snapshot, 5 improvement notes,
    # 6 the municipalities, 7-9 savepoint, session saved, release.
    with django_assert_num_queries(9):
        again = client.get(DASHBOARD)

    assert response.status_code == again.status_code == 200
    # Every course (a Ballerup and a Gladsaxe one per copy) is in the figures.
    assert series(response, "courses_started") == [(JAN, 2.0 * copies)]
    assert series(again, "courses_started") == [(JAN, 2.0 * copies)]
    assert response.context["modules"][0]["sessions"] == 2
    assert again.context["modules"][0]["sessions"] == 2
    assert again.context["outcomes"][0]["n"] == 2 * copies


@pytest.mark.parametrize("copies", [1, 5], ids=["two-courses", "ten-courses"])
def test_an_export_runs_the_same_queries_for_small_and_five_times_bigger_data(
    client_for, clinician, time_machine, django_assert_num_queries, copies
):
    build_clinic_of_size(clinician, time_machine, copies=copies)
    client = client_for(clinician)
    client.get(DASHBOARD)  # the page's view leaves its snapshot for the export to read

    # 1 session, 2 user, 3 two-factor device, 4 the snapshot, 5 improvement notes (the run
    # charts' annotations), 6-8 savepoint, session saved, release (no select to render).
    with django_assert_num_queries(8):
        response = client.get(export_url("groups", "csv"))

    assert csv_rows(response)[1][2] == "2"  # two sessions in the group


# --- Snapshots: figures kept for DASHBOARD_MAX_AGE_MINUTES -----------------------------------


def test_a_fresh_snapshot_is_shown_and_a_stale_one_is_recomputed(
    client_for, clinician, small_clinic, time_machine, settings
):
    settings.DASHBOARD_MAX_AGE_MINUTES = 15
    client = client_for(clinician)
    first = client.get(DASHBOARD, PERIOD)
    computed = first.context["computed_at"]
    assert series(first, "courses_started") == [(JAN, 4.0), (FEB, 1.0)]

    # One more course starts in February (entered with the clock back then).
    travel(time_machine, date(2025, 2, 20))
    accept(
        refer(clinician, name="Eva", municipality_code="151", first_contact=date(2025, 2, 18)),
        by=clinician,
    )
    time_machine.move_to(computed + timedelta(minutes=14), tick=False)
    cached = client.get(DASHBOARD, PERIOD)
    time_machine.move_to(computed + timedelta(minutes=16), tick=False)
    recomputed = client.get(DASHBOARD, PERIOD)

    # Within 15 minutes the page shows the figures as computed, and says when that was.
    assert series(cached, "courses_started") == [(JAN, 4.0), (FEB, 1.0)]
    assert cached.context["computed_at"] == computed
    assert computed.astimezone(COPENHAGEN).strftime("%d.%m.%Y %H:%M") in cached.content.decode()
    # After them, the new course is counted.
    assert series(recomputed, "courses_started") == [(JAN, 4.0), (FEB, 2.0)]
    assert recomputed.context["computed_at"] == computed + timedelta(minutes=16)


def test_a_view_reads_its_snapshot_without_the_per_group_table_and_the_export_with_it(
    client_for, clinician, small_clinic
):
    from evaluation.dashboard import _snapshots, snapshot_key
    from evaluation.models import DashboardSnapshot

    client = client_for(clinician)
    first = client.get(DASHBOARD, PERIOD)
    second = client.get(DASHBOARD, PERIOD)
    export = client.get(export_url("groups", "csv"), PERIOD)

    [snapshot] = DashboardSnapshot.objects.all()
    stored = snapshot.data
    assert len(stored["groups"]) == 2  # the Monday and the Friday group
    # The page has every figure but the per-group table, decoded as stored (dates, decimals).
    [page_figures] = _snapshots(snapshot.key, groups=False)
    assert page_figures.figures == {key: value for key, value in stored.items() if key != "groups"}
    assert isinstance(page_figures.figures["series"]["courses_started"][0][0], date)
    assert second.context["groups"] is None
    assert series(second, "courses_started") == series(first, "courses_started")
    # The export reads the same snapshot with its groups: one row per group.
    assert snapshot.key == snapshot_key(second.context["filters"])
    assert [row[1] for row in csv_rows(export)[1:]] == [g["group"] for g in stored["groups"]]


def test_refresh_dashboard_keeps_the_default_views_of_clinic_and_municipalities(
    client_for, clinician, coordinator_ballerup, small_clinic, django_assert_num_queries
):
    from django.core.management import call_command

    from apu.models import Municipality
    from evaluation.models import DashboardSnapshot

    out = io.StringIO()
    call_command("refresh_dashboard", stdout=out)

    participating = Municipality.objects.filter(participating=True).count()
    assert DashboardSnapshot.objects.count() == 1 + participating
    assert out.getvalue().count("Dashboard ") == 1 + participating
    # The default views need no computing now, for the clinic and for a coordinator: the
    # nine queries of a view that reads its snapshot (see the test above).
    for user in (clinician, coordinator_ballerup):
        client = client_for(user)
        with django_assert_num_queries(9):
            assert client.get(DASHBOARD).status_code == 200


def test_a_coordinators_figures_are_never_read_from_another_municipalitys_snapshot(
    client_for, clinician, coordinator_ballerup, small_clinic
):
    gladsaxe = municipality("159").pk
    client_for(clinician).get(DASHBOARD, PERIOD | {"municipality": gladsaxe})

    page = client_for(coordinator_ballerup).get(DASHBOARD, PERIOD | {"municipality": gladsaxe})

    assert series(page, "courses_started") == [(JAN, 3.0)]  # Ballerup's own three


# --- A coordinator sees their own municipality's figures --------------------------------------


@pytest.mark.parametrize(
    "persona,query,courses_started",
    [
        pytest.param("clinician", {}, [(JAN, 4.0), (FEB, 1.0)], id="clinician-everyone"),
        pytest.param("clinician", {"municipality": "159"}, [(JAN, 1.0), (FEB, 1.0)], id="filter"),
        pytest.param("coordinator_ballerup", {}, [(JAN, 3.0)], id="coordinator-ballerup"),
        pytest.param("coordinator_gladsaxe", {}, [(JAN, 1.0), (FEB, 1.0)], id="coord-gladsaxe"),
        pytest.param(
            "coordinator_ballerup",
            {"municipality": "159"},
            [(JAN, 3.0)],
            id="coordinator-cannot-choose-another-municipality",
        ),
    ],
)
def test_the_dashboard_shows_each_user_their_reach(
    request, client_for, small_clinic, persona, query, courses_started
):
    user = request.getfixturevalue(persona)
    if "municipality" in query:
        query = {"municipality": municipality(query["municipality"]).pk}
    client = client_for(user)

    page = client.get(DASHBOARD, PERIOD | query)
    export = client.get(export_url("kpis", "csv"), PERIOD | query)

    assert page.status_code == 200
    assert series(page, "courses_started") == courses_started
    assert [
        (date.fromisoformat(row[1]), float(row[2]))
        for row in csv_rows(export)[1:]
        if row[0] == "courses_started"
    ] == courses_started
    assert ("municipality" in page.context["form"].fields) is (not user.is_coordinator)


def test_a_coordinator_sees_only_their_municipalitys_groups_and_outcomes(
    client_for, coordinator_ballerup, small_clinic
):
    client = client_for(coordinator_ballerup)
    response = client.get(DASHBOARD, PERIOD)
    groups = client.get(export_url("groups", "csv"), PERIOD)

    # Ballerup's Anna and Bo in the Monday group: 6 seats booked, 4 attended; Gladsaxe's Dorte
    # is not counted. PHQ-9 pairs: Anna, Bo and Carl, not Dorte.
    [_header, monday, _friday] = csv_rows(groups)
    assert monday[1:] == ["Adfærdsaktivering mandag", "3", "66.7", "25.0"]  # 3 sessions
    assert response.context["outcomes"][0]["n"] == 3
    assert "Dorte" not in response.content.decode()


# --- Exports ----------------------------------------------------------------------------------

HEADERS = {
    "kpis": ["kpi", "month", "value", "median", "shift", "trend"],
    "groups": ["module", "group", "sessions", "attendance_rate_pct", "fill_rate_pct"],
    "outcomes": [
        "instrument",
        "n",
        "mean_change",
        "reliable_improvement_pct",
        "reliable_deterioration_pct",
        "recovered_pct",
    ],
    "reasons": ["reason", "count"],
    "years": ["year", "started", "norm"],
    "quadrants": ["mental_severity", "substance_severity", "referred", "accepted"],
}
# The first data row of each table for two courses (one Ballerup, one Gladsaxe), each with a
# baseline PHQ-9 18 and discharge 8, an attended and a no-show session in the Tuesday group
# (2 seats), and a first conversation missed because of illness. CSV has them as text.
FIRST_ROWS = {
    "kpis": ["courses_started", "2025-01-01", 2.0, 2.0, False, False],
    "groups": ["Adfærdsaktivering", "Adfærdsaktivering tirsdag", 2, 50.0, 100.0],
    "outcomes": ["PHQ-9", 2, -10.0, 100.0, 0.0, 100.0],
    "reasons": ["Syg", 2],
    # Both courses started in 2025, the clinic's first year: the norm is 200.
    "years": [2025, 2, 200],
    # Both referrals screened mental higher / substance lower (the default); both accepted.
    "quadrants": ["higher", "lower", 2, 2],
}


@pytest.fixture
def two_courses(clinician, time_machine):
    return build_clinic_of_size(clinician, time_machine, copies=1)


@pytest.mark.parametrize("table", list(HEADERS))
def test_each_table_exports_as_csv(client_for, clinician, two_courses, table):
    response = client_for(clinician).get(export_url(table, "csv"))

    assert response.status_code == 200
    assert response["Content-Type"] == CSV_TYPE
    assert response["Content-Disposition"] == f'attachment; filename="apu-{table}-20250616.csv"'
    header, first, *_rest = csv_rows(response)
    assert header == HEADERS[table]
    assert first == [str(value) for value in FIRST_ROWS[table]]


@pytest.mark.parametrize("table", list(HEADERS))
def test_each_table_exports_as_xlsx(client_for, clinician, two_courses, table):
    response = client_for(clinician).get(export_url(table, "xlsx"))

    assert response.status_code == 200
    assert response["Content-Type"] == XLSX_TYPE
    assert response["Content-Disposition"] == f'attachment; filename="apu-{table}-20250616.xlsx"'
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == [table]
    header, first, *_rest = workbook[table].iter_rows(values_only=True)
    assert list(header) == HEADERS[table]
    assert list(first) == FIRST_ROWS[table]  # numbers as numbers, not as text


@pytest.mark.parametrize(
    "table,fmt",
    [
        pytest.param("patients", "csv", id="unknown-table"),
        pytest.param("kpis", "pdf", id="unknown-format"),
        pytest.param("kpis", "CSV", id="format-is-exact"),
    ],
)
def test_an_unknown_table_or_format_is_404(client_for, clinician, table, fmt):
    assert client_for(clinician).get(export_url(table, fmt)).status_code == 404


# --- Filter input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query,message",
    [
        pytest.param(
            {"start": "2025-06", "end": "2025-01"},
            "The period must start before it ends.",
            id="start-after-end",
        ),
        pytest.param({"start": "2025-13"}, "Enter a valid date.", id="month-13"),
        pytest.param({"end": "juni"}, "Enter a valid date.", id="garbage-month"),
        pytest.param(
            {"municipality": "999999"},
            "Select a valid choice. That choice is not one of the available choices.",
            id="unknown-municipality",
        ),
    ],
)
def test_invalid_filter_input_gives_a_clear_message_and_the_default_period(
    client_for, clinician, two_courses, query, message
):
    client = client_for(clinician)

    response = client.get(DASHBOARD, query)
    export = client.get(export_url("kpis", "csv"), query)

    assert response.status_code == 200
    with translation.override("da"):
        shown = escape(translation.gettext(message))
    assert shown in response.content.decode()
    # The figures fall back to the last 18 months, January 2024 to June 2025.
    filters = response.context["filters"]
    assert (filters.start, filters.end, filters.municipality_id) == (
        date(2024, 1, 1),
        date(2025, 6, 1),
        None,
    )
    assert export.status_code == 200
    assert csv_rows(export)[0] == HEADERS["kpis"]


def test_a_valid_period_is_used(client_for, clinician, two_courses):
    response = client_for(clinician).get(DASHBOARD, {"start": "2025-02", "end": "2025-03-15"})

    filters = response.context["filters"]
    assert (filters.start, filters.end) == (date(2025, 2, 1), date(2025, 3, 1))
    assert series(response, "courses_started") == []  # started in January, before the period


# --- The improvement log ----------------------------------------------------------------------


def test_a_clinician_adds_a_note_and_it_is_drawn_on_the_run_charts(
    client_for, clinician, small_clinic
):
    client = client_for(clinician)
    before = client.get(DASHBOARD, PERIOD)
    assert not NOTE_LINE.search(before.content.decode())
    assert not ImprovementNote.objects.exists()

    response = client.post(
        LOG,
        {
            "date": "2025-01-20",
            "title": "Faste tider til indsatsmøder",
            "description": "Hver tirsdag.",
        },
    )

    assert response.status_code == 302
    assert response.url == LOG
    note = ImprovementNote.objects.get()
    assert (note.date, note.title, note.description, note.created_by) == (
        date(2025, 1, 20),
        "Faste tider til indsatsmøder",
        "Hver tirsdag.",
        clinician,
    )
    assert "Faste tider til indsatsmøder" in client.get(LOG).content.decode()
    after = client.get(DASHBOARD, PERIOD).content.decode()
    # 20 January lies within the charts that run January-February: courses started, intake
    # days and intake on time. Attendance (February-March), hours and drop-out (April-May) and
    # the one-month no-show chart do not reach it.
    assert len(NOTE_LINE.findall(after)) == 3
    assert after.count(">Faste tider til indsatsmøder</text>") == 3


@pytest.mark.parametrize(
    "day,lines",
    [
        pytest.param("2024-12-31", 0, id="before-the-period"),
        pytest.param("2025-01-01", 3, id="first-month"),
        pytest.param("2025-02-15", 1, id="attendance-chart-only"),
        pytest.param("2025-07-01", 0, id="after-the-charts"),
    ],
)
def test_a_note_is_drawn_only_where_a_chart_reaches_its_date(
    client_for, clinician, small_clinic, day, lines
):
    ImprovementNote.objects.create(date=date.fromisoformat(day), title="Ny", created_by=clinician)

    response = client_for(clinician).get(DASHBOARD, PERIOD)

    assert len(NOTE_LINE.findall(response.content.decode())) == lines


def test_a_note_needs_a_date_and_a_title(client_for, clinician):
    response = client_for(clinician).post(LOG, {"date": "", "title": ""})

    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"date", "title"}
    assert not ImprovementNote.objects.exists()


def test_a_coordinator_reads_the_log_but_cannot_add_to_it(
    client_for, clinician, coordinator_ballerup
):
    ImprovementNote.objects.create(
        date=date(2025, 3, 1), title="SMS-påmindelse", created_by=clinician
    )
    client = client_for(coordinator_ballerup)

    page = client.get(LOG)
    refused = client.post(LOG, {"date": "2025-04-01", "title": "Min egen ændring"})

    assert page.status_code == 200
    assert "SMS-påmindelse" in page.content.decode()
    assert 'name="title"' not in page.content.decode()  # no form to add with
    assert refused.status_code == 403
    assert list(ImprovementNote.objects.values_list("title", flat=True)) == ["SMS-påmindelse"]


@pytest.mark.parametrize("notes", [1, 5], ids=["one-note", "five-notes"])
def test_the_log_runs_the_same_queries_for_one_note_or_five(
    client_for, clinician, django_assert_num_queries, notes
):
    for n in range(notes):
        ImprovementNote.objects.create(
            date=date(2025, 1, n + 1), title=f"PDSA {n}", created_by=clinician
        )
    client = client_for(clinician)

    # 1 session, 2 user, 3 two-factor device, 4 the notes with their authors,
    # 5-7 savepoint, session saved, release.
    with django_assert_num_queries(7):
        response = client.get(LOG)

    assert response.content.decode().count("PDSA ") == notes


# --- The quadrant table -----------------------------------------------------------------------

QUADRANT_ROW = re.compile(r'<tr><th scope="row">([^<]+)</th>(.*?)</tr>', re.S)


def quadrant_table(response) -> list[list[str]]:
    """The quadrant table's body as text: per row (mental axis) the cells (substance lower,
    substance higher)."""
    content = response.content.decode()
    start = content.index('aria-labelledby="quadrant-heading"')
    table = content[start : content.index("</table>", start)]
    return [
        [re.sub(r"\s+", " ", cell).strip() for cell in re.findall(r"<td>(.*?)</td>", cells, re.S)]
        for _axis, cells in QUADRANT_ROW.findall(table)
    ]


@pytest.mark.parametrize(
    "query,rows",
    [
        # referred / accepted, rows mental higher then lower, columns substance lower, higher
        # (the figures of test_kpis.py's QUADRANTS).
        pytest.param({}, [["2 / 2", "2 / 1"], ["2 / 1", "1 / 1"]], id="every-quadrant"),
        pytest.param({"municipality": "159"}, [["1 / 1", "–"], ["2 / 1", "–"]], id="gladsaxe"),
        pytest.param({"municipality": "151"}, [["1 / 1", "2 / 1"], ["–", "1 / 1"]], id="ballerup"),
        pytest.param({"start": "2025-04"}, [["–", "–"], ["–", "–"]], id="none-in-the-period"),
    ],
)
def test_each_quadrant_has_its_own_cell_even_when_empty(
    client_for, clinician, small_clinic, query, rows
):
    if "municipality" in query:
        query = {"municipality": municipality(query["municipality"]).pk}

    response = client_for(clinician).get(DASHBOARD, PERIOD | query)

    assert quadrant_table(response) == rows
