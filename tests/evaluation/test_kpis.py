"""The Lean KPIs on a small clinic whose every figure is worked out by hand below, per
municipality and within a coordinator's reach; and the change rules of outcomes.py, edge by
edge.

The clinic (built by tests/evaluation/kpi_factories.build_small_clinic; period January to
June 2025; "B" Ballerup, "G" Gladsaxe):

    course     first contact  started  intake held (day)  discharged
    Zenia  B   21.10.2024     28.10.24 04.11.2024 (14)    -            outside the period
    Anna   B   06.01.2025     08.01.25 20.01.2025 (14)    14.04 completed
    Bo     B   06.01.2025     08.01.25 27.01.2025 (21)    22.04 dropped out
    Carl   B   10.01.2025     15.01.25 01.02.2025 (22)    05.05 transferred
    Dorte  G   02.01.2025     06.01.25 24.01.2025 (22)    12.05 dropped out
    Erik   G   03.02.2025     10.02.25 -                  -
    plus referrals never accepted: Frida B (screened twice), Gert G (rejected), Hans B
    (never screened).

Group "Adfærdsaktivering mandag" (2 h, 2 therapists, normed 8 -> 0.5 norm hours a seat;
8 seats) and "Mindfulness fredag" (1 h, 1 therapist, normed 8 -> 0.125; 4 seats):

    session       Anna      Bo         Carl      Dorte
    S1 03.02      attended  attended   -         no-show
    S2 10.02      attended  afbud      -         attended
    S3 17.02      attended  no-show    -         cancelled by the clinic
    S4 24.02      attended (then the whole session was cancelled: counts nowhere)
    T1 03.03      attended  -          attended  -
    T2 10.03      -         -          no-show   -

First conversations (one hour each), February: Anna attended; Bo no-show "Glemt aftalen";
Carl afbud "Syg"; Dorte no-show "Glemt aftalen".

Questionnaire totals, baseline -> discharge: Anna PHQ-9 18->8, GAD-7 8->4, WHO-5 8->13;
Bo PHQ-9 12->7, GAD-7 7->11, WHO-5 12->14; Carl PHQ-9 9->15, WHO-5 10 (no discharge
measure); Dorte PHQ-9 20->13, AUDIT 20->6. (Anna's midpoint PHQ-9 12 and Zenia's baseline
never enter the change.)
"""

from datetime import date
from decimal import Decimal
from statistics import median

import pytest

from evaluation import kpis
from evaluation.outcomes import (
    DETERIORATED,
    IMPROVED,
    NO_CHANGE,
    classify_change,
    is_clinical,
    recovered,
)
from modules.queries import course_hours
from tests.evaluation.kpi_factories import (
    PERIOD_END,
    PERIOD_START,
    SmallClinic,
    build_small_clinic,
)
from tests.factories import municipality

pytestmark = pytest.mark.django_db

JAN, FEB, MAR, APR, MAY = (date(2025, month, 1) for month in range(1, 6))
BALLERUP, GLADSAXE = "151", "159"

# Who asks, and for which municipality (None: no filter).
VIEWS = {
    "clinic": ("clinician", None),
    "ballerup-filter": ("clinician", BALLERUP),
    "gladsaxe-filter": ("clinician", GLADSAXE),
    "coordinator-ballerup": ("coordinator_ballerup", None),
    # A coordinator's reach is their municipality whatever filter they send.
    "coordinator-ballerup-asks-for-gladsaxe": ("coordinator_ballerup", GLADSAXE),
}


@pytest.fixture
def clinic(clinician, time_machine) -> SmallClinic:
    return build_small_clinic(clinician, time_machine)


@pytest.fixture
def ask(request, clinic):
    """Call a KPI function as one of VIEWS sees the period January-June 2025."""

    def call(kpi, view: str, **period):
        persona, code = VIEWS[view]
        filters = kpis.Filters(
            start=period.get("start", PERIOD_START),
            end=period.get("end", PERIOD_END),
            municipality_id=municipality(code).pk if code else None,
        )
        return kpi(request.getfixturevalue(persona), filters)

    return call


def params(table: dict) -> list:
    return [pytest.param(view, expected, id=view) for view, expected in table.items()]


def approx(series: list[tuple[date, float]]):
    return [(month, pytest.approx(value)) for month, value in series]


# --- Courses started -----------------------------------------------------------------------

# Started in the period, by month of the course start (Zenia, 2024, is outside):
# January Anna, Bo, Carl, Dorte = 4; February Erik = 1. Ballerup: Anna, Bo, Carl.
COURSES_STARTED = {
    "clinic": [(JAN, 4.0), (FEB, 1.0)],
    "ballerup-filter": [(JAN, 3.0)],
    "gladsaxe-filter": [(JAN, 1.0), (FEB, 1.0)],
    "coordinator-ballerup": [(JAN, 3.0)],
    "coordinator-ballerup-asks-for-gladsaxe": [],
}


@pytest.mark.parametrize("view,expected", params(COURSES_STARTED))
def test_courses_started_per_month(ask, view, expected):
    assert ask(kpis.courses_started, view) == expected


# Whole years, whatever the period: 2024 Zenia; 2025 the five others (Ballerup: three).
# The norm is 200 in the first year and 40 more each year after.
COURSES_PER_YEAR = {
    "clinic": [
        {"year": 2024, "started": 1, "norm": 200},
        {"year": 2025, "started": 5, "norm": 240},
    ],
    "ballerup-filter": [
        {"year": 2024, "started": 1, "norm": 200},
        {"year": 2025, "started": 3, "norm": 240},
    ],
    "coordinator-ballerup": [
        {"year": 2024, "started": 1, "norm": 200},
        {"year": 2025, "started": 3, "norm": 240},
    ],
    "coordinator-ballerup-asks-for-gladsaxe": [],
}


@pytest.mark.parametrize("view,expected", params(COURSES_PER_YEAR))
def test_courses_per_year_against_the_norm(ask, view, expected):
    assert ask(kpis.courses_per_year, view) == expected


def test_courses_per_year_ignores_the_period(ask):
    assert ask(kpis.courses_per_year, "clinic", start=MAY, end=MAY) == COURSES_PER_YEAR["clinic"]


@pytest.mark.parametrize(
    "year,first_year,norm",
    [
        pytest.param(2024, 2024, 200, id="first-year-200"),
        pytest.param(2025, 2024, 240, id="second-year-240"),
        pytest.param(2026, 2024, 280, id="third-year-280"),
        pytest.param(2027, 2024, 280, id="stays-at-280"),
        pytest.param(2035, 2024, 280, id="never-above-280"),
        pytest.param(2023, 2024, 200, id="before-the-first-year-200"),
    ],
)
def test_the_yearly_norm_rises_from_200_to_280(year, first_year, norm):
    assert kpis.norm_for_year(year, first_year) == norm


# --- Days from first contact to the intake meeting ---------------------------------------

# Held intake meetings by month held: January Anna 14, Dorte 22, Bo 21 -> median 21, on time
# (<= 21 days) 2 of 3 = 66.7 %; February Carl 22 -> median 22, 0 %. Ballerup January: Anna
# 14, Bo 21 -> median (14 + 21) / 2 = 17.5 (percentile_cont interpolates), 100 %. Zenia's
# meeting (November 2024) is outside the period; Erik's is not held. The Ballerup rows pin the
# edge: day 21 (Bo) is on time, day 22 (Carl) is late.
INTAKE = {
    "clinic": ([(JAN, 21.0), (FEB, 22.0)], [(JAN, 200 / 3), (FEB, 0.0)]),
    "ballerup-filter": ([(JAN, 17.5), (FEB, 22.0)], [(JAN, 100.0), (FEB, 0.0)]),
    "gladsaxe-filter": ([(JAN, 22.0)], [(JAN, 0.0)]),
    "coordinator-ballerup": ([(JAN, 17.5), (FEB, 22.0)], [(JAN, 100.0), (FEB, 0.0)]),
    "coordinator-ballerup-asks-for-gladsaxe": ([], []),
}


@pytest.mark.parametrize("view,expected", params(INTAKE))
def test_intake_timeliness_median_days_and_share_on_time(ask, view, expected):
    median_days, on_time = ask(kpis.intake_timeliness, view)

    assert median_days == expected[0]
    assert on_time == approx(expected[1])


# --- No-show at the first conversation ------------------------------------------------------

# February's four first conversations: no-show Bo and Dorte = 2 of 4 = 50 % (Carl's afbud is
# not a no-show). Reasons of everyone who did not come: "Glemt aftalen" 2 (Bo, Dorte), "Syg"
# 1 (Carl). Ballerup: Anna, Bo, Carl -> 1 of 3 = 33.3 %, one of each reason.
NO_SHOW = {
    "clinic": ([(FEB, 50.0)], {"Glemt aftalen": 2, "Syg": 1}),
    "ballerup-filter": ([(FEB, 100 / 3)], {"Glemt aftalen": 1, "Syg": 1}),
    "gladsaxe-filter": ([(FEB, 100.0)], {"Glemt aftalen": 1}),
    "coordinator-ballerup": ([(FEB, 100 / 3)], {"Glemt aftalen": 1, "Syg": 1}),
    "coordinator-ballerup-asks-for-gladsaxe": ([], {}),
}


@pytest.mark.parametrize("view,expected", params(NO_SHOW))
def test_no_show_at_the_first_conversation_with_reasons(ask, view, expected):
    series, reasons = ask(kpis.first_conversation_no_show, view)

    assert series == approx(expected[0])
    assert {row["no_show_reason__name"]: row["n"] for row in reasons} == expected[1]
    assert [row["n"] for row in reasons] == sorted(expected[1].values(), reverse=True)


# --- Attendance at group sessions ---------------------------------------------------------

# February (S4 cancelled, Dorte's "cancelled by the clinic" left out): S1 Anna, Bo attended,
# Dorte no-show; S2 Anna, Dorte attended, Bo afbud; S3 Anna attended, Bo no-show -> 5 of 8 =
# 62.5 %. March: T1 Carl, Anna attended; T2 Carl no-show -> 2 of 3 = 66.7 %.
# Ballerup February: Anna 3 of 3, Bo 1 of 3 -> 4 of 6 = 66.7 %. Gladsaxe February: Dorte 1 of
# 2 = 50 %.
ATTENDANCE = {
    "clinic": [(FEB, 62.5), (MAR, 200 / 3)],
    "ballerup-filter": [(FEB, 200 / 3), (MAR, 200 / 3)],
    "gladsaxe-filter": [(FEB, 50.0)],
    "coordinator-ballerup": [(FEB, 200 / 3), (MAR, 200 / 3)],
    "coordinator-ballerup-asks-for-gladsaxe": [],
}


@pytest.mark.parametrize("view,expected", params(ATTENDANCE))
def test_attendance_rate_per_month(ask, view, expected):
    assert ask(kpis.attendance_rate, view) == approx(expected)


def adfaerd(sessions, attendance, fill) -> dict:
    return {
        "module": "Adfærdsaktivering",
        "group": "Adfærdsaktivering mandag",
        "sessions": sessions,
        "attendance_rate": attendance,
        "fill_rate": fill,
    }


def mindfulness(sessions, attendance, fill) -> dict:
    return {
        "module": "Mindfulness",
        "group": "Mindfulness fredag",
        "sessions": sessions,
        "attendance_rate": attendance,
        "fill_rate": fill,
    }


# Per group over the period: booked seats (every tap but "cancelled by the clinic", on
# sessions held), attended, sessions with a booking; fill = booked / (capacity x sessions).
# Adfærdsaktivering: 8 booked, 5 attended -> 62.5 %; 3 sessions x 8 seats -> 8/24 = 33.3 %.
# Mindfulness: 3 booked, 2 attended -> 66.7 %; 2 sessions x 4 seats -> 3/8 = 37.5 %.
# Ballerup: Adfærdsaktivering 6 booked (Anna 3, Bo 3), 4 attended -> 66.7 %, 6/24 = 25 %.
# Gladsaxe: Dorte in S1 and S2, 1 attended -> 50 %; 2 sessions x 8 -> 2/16 = 12.5 %.
GROUPS = {
    "clinic": [adfaerd(3, 62.5, 33.3), mindfulness(2, 66.7, 37.5)],
    "ballerup-filter": [adfaerd(3, 66.7, 25.0), mindfulness(2, 66.7, 37.5)],
    "gladsaxe-filter": [adfaerd(2, 50.0, 12.5)],
    "coordinator-ballerup": [adfaerd(3, 66.7, 25.0), mindfulness(2, 66.7, 37.5)],
    "coordinator-ballerup-asks-for-gladsaxe": [],
}


@pytest.mark.parametrize("view,expected", params(GROUPS))
def test_attendance_and_fill_rate_per_group(ask, view, expected):
    assert ask(kpis.attendance_by_group, view) == expected


# Per module: the small clinic runs one group of each module, so each module's figures are
# its group's, with "groups": 1 (two groups of a module are summed seat by seat, below).
@pytest.mark.parametrize("view,expected", params(GROUPS))
def test_attendance_and_fill_rate_per_module(ask, view, expected):
    modules = [
        {"module": g["module"], "groups": 1, "sessions": g["sessions"]}
        | {"attendance_rate": g["attendance_rate"], "fill_rate": g["fill_rate"]}
        for g in expected
    ]
    assert ask(kpis.attendance_by_module, view) == modules


def test_a_modules_groups_are_summed_seat_by_seat(clinic, clinician):
    # Mindfulness fredag moves into Adfærdsaktivering: 8 + 3 = 11 booked, 5 + 2 = 7 attended
    # -> 63.6 %; seats 3 x 8 + 2 x 4 = 32 -> 11/32 = 34.4 % (not the mean of the two rates).
    from modules.models import Group, Module

    Group.objects.filter(name="Mindfulness fredag").update(
        module=Module.objects.get(name="Adfærdsaktivering")
    )
    filters = kpis.Filters(start=date(2025, 1, 1), end=date(2025, 6, 1))

    assert kpis.attendance_by_module(clinician, filters) == [
        {
            "module": "Adfærdsaktivering",
            "groups": 2,
            "sessions": 5,
            "attendance_rate": 63.6,
            "fill_rate": 34.4,
        }
    ]


# --- Hours per discharged course ----------------------------------------------------------

# Norm hours used (attended and no-show seats charge; afbud and cancelled do not) and
# treatment hours received (attended only), per course:
#   Anna  S1-S3 3 x 0.5 + T1 0.125 + first conversation 1 = 2.625; received 3 x 2 + 1 + 1 = 8
#   Bo    S1 0.5 + S3 0.5 + first conversation (no-show) 1 = 2.0;     received S1 2 = 2
#   Carl  T1 0.125 + T2 0.125 (afbud at the first conversation) = 0.25; received T1 1 = 1
#   Dorte S1 0.5 + S2 0.5 + first conversation (no-show) 1 = 2.0;   received S2 2 = 2
# By month of discharge: April Anna, Bo -> used median (2.625 + 2) / 2 = 2.3125, received
# (8 + 2) / 2 = 5; May Carl, Dorte -> used (0.25 + 2) / 2 = 1.125, received 1.5.
HOURS = {
    "clinic": ([(APR, 2.3125), (MAY, 1.125)], [(APR, 5.0), (MAY, 1.5)]),
    "ballerup-filter": ([(APR, 2.3125), (MAY, 0.25)], [(APR, 5.0), (MAY, 1.0)]),
    "gladsaxe-filter": ([(MAY, 2.0)], [(MAY, 2.0)]),
    "coordinator-ballerup": ([(APR, 2.3125), (MAY, 0.25)], [(APR, 5.0), (MAY, 1.0)]),
    "coordinator-ballerup-asks-for-gladsaxe": ([], []),
}


@pytest.mark.parametrize("view,expected", params(HOURS))
def test_hours_used_and_received_per_discharged_course(ask, view, expected):
    used, received = ask(kpis.hours_per_discharged_course, view)

    assert used == approx(expected[0])
    assert received == approx(expected[1])


def test_hours_in_sql_agree_with_the_course_page(ask, clinic):
    """The dashboard's SQL and modules.queries.course_hours (the course page) give the same
    hours for every course, so the median of the page's figures is the dashboard's."""
    hours = {name: course_hours(getattr(clinic, name)) for name in ("anna", "bo", "carl", "dorte")}
    assert {name: (h.used, h.received) for name, h in hours.items()} == {
        "anna": (Decimal("2.625"), Decimal(8)),
        "bo": (Decimal(2), Decimal(2)),
        "carl": (Decimal("0.25"), Decimal(1)),
        "dorte": (Decimal(2), Decimal(2)),
    }

    used, received = ask(kpis.hours_per_discharged_course, "clinic")

    april, may = ("anna", "bo"), ("carl", "dorte")
    assert used == [
        (APR, float(median(hours[n].used for n in april))),
        (MAY, float(median(hours[n].used for n in may))),
    ]
    assert received == [
        (APR, float(median(hours[n].received for n in april))),
        (MAY, float(median(hours[n].received for n in may))),
    ]


# --- Drop-out -------------------------------------------------------------------------------

# Discharges by month: April Anna completed, Bo dropped out -> 50 %; May Carl transferred,
# Dorte dropped out -> 50 %. Ballerup May: Carl only -> 0 %. Gladsaxe May: Dorte -> 100 %.
DROP_OUT = {
    "clinic": [(APR, 50.0), (MAY, 50.0)],
    "ballerup-filter": [(APR, 50.0), (MAY, 0.0)],
    "gladsaxe-filter": [(MAY, 100.0)],
    "coordinator-ballerup": [(APR, 50.0), (MAY, 0.0)],
    "coordinator-ballerup-asks-for-gladsaxe": [],
}


@pytest.mark.parametrize("view,expected", params(DROP_OUT))
def test_drop_out_among_discharged_courses(ask, view, expected):
    assert ask(kpis.drop_out, view) == expected


def test_the_period_decides_which_months_count(ask):
    # January to April: May's discharges are left out.
    assert ask(kpis.drop_out, "clinic", end=APR) == [(APR, 50.0)]
    # From February: January's starts are left out.
    assert ask(kpis.courses_started, "clinic", start=FEB) == [(FEB, 1.0)]


# --- The quadrant mix ------------------------------------------------------------------------

# Referrals with first contact in the period, by the axes (mental, substance) of their newest
# screening; accepted = decided "accept". Hans (never screened) has no quadrant, Zenia is
# outside the period, Frida counts once with her second screening:
#   higher/lower:  Anna, Dorte       referred 2, accepted 2
#   higher/higher: Bo, Frida         referred 2, accepted 1
#   lower/higher:  Carl              referred 1, accepted 1
#   lower/lower:   Erik, Gert        referred 2, accepted 1 (Gert was rejected)
QUADRANTS = {
    "clinic": {
        ("higher", "lower"): (2, 2),
        ("higher", "higher"): (2, 1),
        ("lower", "higher"): (1, 1),
        ("lower", "lower"): (2, 1),
    },
    "ballerup-filter": {
        ("higher", "lower"): (1, 1),
        ("higher", "higher"): (2, 1),
        ("lower", "higher"): (1, 1),
    },
    "gladsaxe-filter": {("higher", "lower"): (1, 1), ("lower", "lower"): (2, 1)},
    "coordinator-ballerup": {
        ("higher", "lower"): (1, 1),
        ("higher", "higher"): (2, 1),
        ("lower", "higher"): (1, 1),
    },
    "coordinator-ballerup-asks-for-gladsaxe": {},
}


@pytest.mark.parametrize("view,expected", params(QUADRANTS))
def test_quadrant_mix_of_referred_and_accepted(ask, view, expected):
    mix = ask(kpis.quadrant_mix, view)

    assert {key: (row["referred"], row["accepted"]) for key, row in mix.items()} == expected


# --- Outcome change ---------------------------------------------------------------------------


def change(instrument, n, mean, improved, deteriorated, recovered_share) -> dict:
    return {
        "instrument": instrument,
        "n": n,
        "mean_change": mean,
        "improved": improved,
        "deteriorated": deteriorated,
        "recovered": recovered_share,
    }


NOTHING = [change(code, 0, None, None, None, None) for code in ("GAD-7", "WHO-5", "DUDIT")]

# Pairs of baseline and discharge of the courses discharged in the period:
# PHQ-9 (reliable 6, clinical >= 10): Anna 18->8 (-10, improved, recovered), Bo 12->7 (-5, no
#   reliable change, recovered), Carl 9->15 (+6, deteriorated, not clinical at baseline),
#   Dorte 20->13 (-7, improved, still clinical). n 4, mean (-10-5+6-7)/4 = -4.0, improved
#   2/4 = 50 %, deteriorated 1/4 = 25 %, recovered 2 of the 3 clinical at baseline = 66.7 %.
#   Ballerup: -10, -5, +6 -> mean -3.0, 33.3 %, 33.3 %, recovered 2 of 2 = 100 %.
#   Gladsaxe: Dorte -7 -> improved 100 %, deteriorated 0 %, recovered 0 of 1 = 0 %.
# GAD-7 (reliable 4, clinical >= 8): Anna 8->4 (-4, improved, recovered), Bo 7->11 (+4,
#   deteriorated, not clinical). n 2, mean 0.0, 50 %, 50 %, recovered 1 of 1 = 100 %.
# WHO-5 (reliable 10 percentage points, clinical below 50 %): Anna 8->13 (32 % -> 52 %, +20,
#   improved, recovered), Bo 12->14 (48 % -> 56 %, +8, no reliable change, recovered); Carl has
#   no discharge WHO-5. n 2, mean of the raw change (5+2)/2 = 3.5, 50 %, 0 %, 100 %.
# AUDIT (no reliable-change index; clinical >= 8): Dorte 20->6: n 1, mean -14.0, recovered.
# DUDIT: nobody.
OUTCOMES = {
    "clinic": [
        change("PHQ-9", 4, -4.0, 50.0, 25.0, 66.7),
        change("GAD-7", 2, 0.0, 50.0, 50.0, 100.0),
        change("WHO-5", 2, 3.5, 50.0, 0.0, 100.0),
        change("AUDIT", 1, -14.0, None, None, 100.0),
        change("DUDIT", 0, None, None, None, None),
    ],
    "ballerup-filter": [
        change("PHQ-9", 3, -3.0, 33.3, 33.3, 100.0),
        change("GAD-7", 2, 0.0, 50.0, 50.0, 100.0),
        change("WHO-5", 2, 3.5, 50.0, 0.0, 100.0),
        change("AUDIT", 0, None, None, None, None),
        change("DUDIT", 0, None, None, None, None),
    ],
    "gladsaxe-filter": [
        change("PHQ-9", 1, -7.0, 100.0, 0.0, 0.0),
        NOTHING[0],
        NOTHING[1],
        change("AUDIT", 1, -14.0, None, None, 100.0),
        NOTHING[2],
    ],
    "coordinator-ballerup": [
        change("PHQ-9", 3, -3.0, 33.3, 33.3, 100.0),
        change("GAD-7", 2, 0.0, 50.0, 50.0, 100.0),
        change("WHO-5", 2, 3.5, 50.0, 0.0, 100.0),
        change("AUDIT", 0, None, None, None, None),
        change("DUDIT", 0, None, None, None, None),
    ],
    "coordinator-ballerup-asks-for-gladsaxe": [
        change(code, 0, None, None, None, None)
        for code in ("PHQ-9", "GAD-7", "WHO-5", "AUDIT", "DUDIT")
    ],
}


@pytest.mark.parametrize("view,expected", params(OUTCOMES))
def test_outcome_change_per_instrument(ask, view, expected):
    assert ask(kpis.outcome_change, view) == expected


def test_outcome_change_counts_only_courses_discharged_in_the_period(ask):
    # January to April: Anna and Bo only. PHQ-9 -10 and -5: mean -7.5, improved 1 of 2.
    [phq9, *_rest] = ask(kpis.outcome_change, "clinic", end=APR)

    assert phq9 == change("PHQ-9", 2, -7.5, 50.0, 0.0, 100.0)


# --- One query per KPI, whatever the data -----------------------------------------------------


@pytest.mark.parametrize(
    "kpi,queries",
    [
        pytest.param(kpis.courses_started, 1, id="courses_started"),
        # The counts per year, and the clinic's first year for the norm.
        pytest.param(kpis.courses_per_year, 2, id="courses_per_year"),
        pytest.param(kpis.intake_timeliness, 1, id="intake_timeliness"),
        # The monthly shares, and the reasons.
        pytest.param(kpis.first_conversation_no_show, 2, id="first_conversation_no_show"),
        pytest.param(kpis.attendance_rate, 1, id="attendance_rate"),
        pytest.param(kpis.attendance_by_group, 1, id="attendance_by_group"),
        pytest.param(kpis.attendance_by_module, 1, id="attendance_by_module"),
        pytest.param(kpis.hours_per_discharged_course, 1, id="hours_per_discharged_course"),
        pytest.param(kpis.drop_out, 1, id="drop_out"),
        pytest.param(kpis.quadrant_mix, 1, id="quadrant_mix"),
        pytest.param(kpis.outcome_change, 1, id="outcome_change"),
    ],
)
@pytest.mark.parametrize("view", ["clinic", "coordinator-ballerup"])
def test_each_kpi_is_aggregated_in_the_database(
    request, ask, django_assert_num_queries, kpi, queries, view
):
    request.getfixturevalue(VIEWS[view][0])  # the persona exists before counting starts

    with django_assert_num_queries(queries):
        ask(kpi, view)


# --- The change rules of outcomes.py, at each threshold edge ----------------------------------


@pytest.mark.parametrize(
    "instrument,baseline,later,expected",
    [
        # PHQ-9: a reliable change is 6 points; lower is better.
        pytest.param("PHQ-9", 15, 9, IMPROVED, id="phq9-down-6-improved"),
        pytest.param("PHQ-9", 15, 10, NO_CHANGE, id="phq9-down-5-no-change"),
        pytest.param("PHQ-9", 9, 15, DETERIORATED, id="phq9-up-6-deteriorated"),
        pytest.param("PHQ-9", 10, 15, NO_CHANGE, id="phq9-up-5-no-change"),
        pytest.param("PHQ-9", 12, 12, NO_CHANGE, id="phq9-same-no-change"),
        # GAD-7: 4 points.
        pytest.param("GAD-7", 12, 8, IMPROVED, id="gad7-down-4-improved"),
        pytest.param("GAD-7", 12, 9, NO_CHANGE, id="gad7-down-3-no-change"),
        pytest.param("GAD-7", 8, 12, DETERIORATED, id="gad7-up-4-deteriorated"),
        pytest.param("GAD-7", 9, 12, NO_CHANGE, id="gad7-up-3-no-change"),
        # WHO-5: 10 percentage points, higher is better. Raw steps are 4 points apart, so
        # the edge lies between 2 raw (8 %) and 3 raw (12 %).
        pytest.param("WHO-5", 10, 13, IMPROVED, id="who5-up-12pct-improved"),
        pytest.param("WHO-5", 10, 12, NO_CHANGE, id="who5-up-8pct-no-change"),
        pytest.param("WHO-5", 13, 10, DETERIORATED, id="who5-down-12pct-deteriorated"),
        pytest.param("WHO-5", 12, 10, NO_CHANGE, id="who5-down-8pct-no-change"),
        # No established reliable-change index.
        pytest.param("AUDIT", 30, 0, None, id="audit-none"),
        pytest.param("DUDIT", 30, 0, None, id="dudit-none"),
    ],
)
def test_classify_change_at_the_reliable_change_edges(instrument, baseline, later, expected):
    assert classify_change(instrument, baseline, later) == expected


@pytest.mark.parametrize(
    "instrument,total,clinical",
    [
        pytest.param("PHQ-9", 9, False, id="phq9-9-not-clinical"),
        pytest.param("PHQ-9", 10, True, id="phq9-10-clinical"),
        pytest.param("GAD-7", 7, False, id="gad7-7-not-clinical"),
        pytest.param("GAD-7", 8, True, id="gad7-8-clinical"),
        pytest.param("WHO-5", 12, True, id="who5-raw-12-48pct-clinical"),
        pytest.param("WHO-5", 13, False, id="who5-raw-13-52pct-not-clinical"),
        pytest.param("AUDIT", 7, False, id="audit-7-not-clinical"),
        pytest.param("AUDIT", 8, True, id="audit-8-clinical"),
        pytest.param("DUDIT", 5, False, id="dudit-5-not-clinical"),
        pytest.param("DUDIT", 6, True, id="dudit-6-clinical"),
    ],
)
def test_is_clinical_at_the_cut_off(instrument, total, clinical):
    assert is_clinical(instrument, total) is clinical


@pytest.mark.parametrize(
    "instrument,baseline,later,expected",
    [
        pytest.param("PHQ-9", 10, 9, True, id="phq9-10-to-9-recovered"),
        pytest.param("PHQ-9", 10, 10, False, id="phq9-10-to-10-still-clinical"),
        pytest.param("PHQ-9", 9, 0, False, id="phq9-never-clinical"),
        pytest.param("GAD-7", 8, 7, True, id="gad7-8-to-7-recovered"),
        pytest.param("GAD-7", 8, 8, False, id="gad7-8-to-8-still-clinical"),
        pytest.param("WHO-5", 12, 13, True, id="who5-48pct-to-52pct-recovered"),
        pytest.param("WHO-5", 12, 12, False, id="who5-48pct-stays"),
        pytest.param("WHO-5", 13, 25, False, id="who5-never-clinical"),
        pytest.param("AUDIT", 8, 7, True, id="audit-8-to-7-recovered"),
        pytest.param("AUDIT", 7, 0, False, id="audit-never-clinical"),
        pytest.param("DUDIT", 6, 5, True, id="dudit-6-to-5-recovered"),
        pytest.param("DUDIT", 6, 6, False, id="dudit-6-to-6-still-clinical"),
    ],
)
def test_recovered_means_from_above_to_below_the_cut_off(instrument, baseline, later, expected):
    assert recovered(instrument, baseline, later) is expected
