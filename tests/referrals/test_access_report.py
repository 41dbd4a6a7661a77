"""The patient's access report: who looked at the record, when and what, for the clinic to
print for the patient; the clinic only, every look in order, one period on paper, and the
report itself a look."""

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from apu.access import PERIOD_BAD_DATE, PERIOD_REVERSED, PERIOD_TOO_LONG
from apu.models import AccessLog, User
from referrals.models import Patient
from referrals.views import ACCESS_REPORT_PAGE_SIZE
from tests.factories import CoordinatorFactory, UserFactory, municipality
from tests.referrals.page_factories import register, valid_cpr

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("without_two_factor")]

LOGIN = reverse("apu:login")
COPENHAGEN = ZoneInfo("Europe/Copenhagen")
# A Monday in winter time; the clinic's clock stands here unless a test moves it.
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=COPENHAGEN)
TODAY = date(2026, 3, 2)
CLINIC_NAME = "APU – Ambulatorium for Psykoterapeutisk Udvikling"


def report_url(patient: Patient, **query) -> str:
    url = reverse("referrals:patient_access_report", args=[patient.pk])
    if query:
        url += "?" + "&".join(f"{key}={value}" for key, value in query.items())
    return url


def body(response) -> str:
    return response.content.decode()


def shown(message) -> str:
    """``message`` as the page shows it: in Danish (the default language), HTML-escaped."""
    with translation.override("da"):
        return escape(str(message))


def danish(label) -> str:
    with translation.override("da"):
        return str(label)


CLINICIAN = danish(User.Role.CLINICIAN.label)
COORDINATOR_OF_BALLERUP = f"{danish(User.Role.COORDINATOR.label)}, Ballerup"


def look(user: User, patient: Patient, what: str, at: datetime) -> AccessLog:
    """A look at ``patient`` as ``log_patient_access`` records it, at a chosen time."""
    return AccessLog.objects.create(
        user=user,
        content_type=ContentType.objects.get_for_model(Patient),
        object_id=patient.pk,
        what=what,
        path=f"/patients/{patient.pk}/",
        at=at,
    )


def rows(response) -> list[tuple[str, str, str, str]]:
    """The report's table: (time as shown, who, role, what) per row, top to bottom."""
    table = re.search(r"<tbody>(.*?)</tbody>", body(response), re.S)
    if table is None:
        return []
    return [
        tuple(re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td>(.*?)</td>", row))
        for row in re.findall(r"<tr>(.*?)</tr>", table.group(1), re.S)
    ]


def report_looks(patient: Patient, user: User) -> list[AccessLog]:
    return list(
        AccessLog.objects.filter(
            content_type=ContentType.objects.get_for_model(Patient),
            object_id=patient.pk,
            user=user,
            what="access report",
        )
    )


@pytest.fixture
def now(time_machine) -> datetime:
    time_machine.move_to(NOW, tick=False)
    return NOW


@pytest.fixture
def ballerup_patient(clinician, now) -> Patient:
    return register(clinician, name="Birgitte Ballerup").patient


@pytest.fixture
def gladsaxe_patient(clinician, now) -> Patient:
    return register(
        clinician, name="Gunnar Gladsaxe", municipality_code="159", cpr=valid_cpr(date(1988, 2, 9))
    ).patient


@pytest.fixture
def nurse(db) -> User:
    return UserFactory(
        username="nurse", first_name="Nina", last_name="Sygeplejerske", role=User.Role.CLINICIAN
    )


@pytest.fixture
def ballerup_coordinator(db) -> User:
    return CoordinatorFactory(
        username="coord-b",
        first_name="Carl",
        last_name="Koordinator",
        municipality=municipality("151"),
    )


# --- Who may open it --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "persona,expected",
    [
        pytest.param("clinician", 200, id="clinician"),
        pytest.param("admin_user", 200, id="admin"),
        pytest.param("coordinator_ballerup", 403, id="coordinator-own-municipality"),
        pytest.param("coordinator_gladsaxe", 404, id="coordinator-other-municipality"),
        pytest.param("researcher", 403, id="researcher"),
    ],
)
def test_only_the_clinic_opens_the_access_report(
    request, client_for, ballerup_patient, persona, expected
):
    user = request.getfixturevalue(persona)

    response = client_for(user).get(report_url(ballerup_patient))

    assert response.status_code == expected
    if expected != 200:
        assert "Birgitte Ballerup" not in body(response)
        assert ballerup_patient.cpr_formatted not in body(response)
        assert AccessLog.objects.filter(user=user).count() == 0


def test_anonymous_is_sent_to_login(anonymous, ballerup_patient):
    response = anonymous.get(report_url(ballerup_patient))

    assert response.status_code == 302
    assert response["Location"].startswith(f"{LOGIN}?next=")
    assert AccessLog.objects.count() == 0


def test_a_patient_that_does_not_exist_answers_404(client_for, clinician, ballerup_patient):
    response = client_for(clinician).get(
        reverse("referrals:patient_access_report", args=[ballerup_patient.pk + 1000])
    )

    assert response.status_code == 404


def test_the_patient_page_links_to_the_report_for_the_clinic_only(
    client_for, clinician, coordinator_ballerup, ballerup_patient
):
    patient_page = reverse("referrals:patient_detail", args=[ballerup_patient.pk])

    assert report_url(ballerup_patient) in body(client_for(clinician).get(patient_page))
    assert report_url(ballerup_patient) not in body(
        client_for(coordinator_ballerup).get(patient_page)
    )


# --- What it shows ----------------------------------------------------------------------------


def test_the_report_lists_every_look_newest_first_with_who_role_and_what(
    client_for, clinician, nurse, ballerup_coordinator, ballerup_patient, gladsaxe_patient
):
    clinician.first_name, clinician.last_name = "Karen", "Kliniker"
    clinician.save()
    # 08:15 UTC in winter is 09:15 in Copenhagen; 10:30 UTC in summer is 12:30.
    look(nurse, ballerup_patient, "referral", datetime(2025, 7, 1, 10, 30, tzinfo=UTC))
    look(ballerup_coordinator, ballerup_patient, "coordination meeting", NOW - timedelta(days=3))
    look(nurse, gladsaxe_patient, "someone else's record", NOW - timedelta(days=2))
    look(nurse, ballerup_patient, "patient", datetime(2026, 3, 1, 8, 15, tzinfo=UTC))

    response = client_for(clinician).get(report_url(ballerup_patient))

    assert response.status_code == 200
    assert rows(response) == [
        # What was seen, in the reader's language (the log keeps English keys).
        ("02.03.2026 09:00", "Karen Kliniker", CLINICIAN, "opslagsrapporten"),
        ("01.03.2026 09:15", "Nina Sygeplejerske", CLINICIAN, "patient"),
        ("27.02.2026 09:00", "Carl Koordinator", COORDINATOR_OF_BALLERUP, "koordinerende møde"),
        ("01.07.2025 12:30", "Nina Sygeplejerske", CLINICIAN, "henvisning"),
    ]
    assert "someone else" not in body(response)
    assert "Gunnar Gladsaxe" not in body(response)


def test_the_header_names_the_patient_with_full_cpr_the_period_and_the_clinic(
    client_for, clinician, ballerup_patient
):
    response = client_for(clinician).get(report_url(ballerup_patient, print=1))

    content = body(response)
    assert "Birgitte Ballerup" in content
    assert ballerup_patient.cpr_formatted in content
    assert CLINIC_NAME in content
    # The default period on paper: the last 12 months, up to today.
    assert "02.03.2025–02.03.2026" in content
    assert "02.03.2026 09:00" in content  # printed


def test_a_real_look_through_a_page_appears_in_the_report(
    client_for, clinician, coordinator_ballerup, ballerup_patient
):
    coordinator_page = reverse("referrals:patient_detail", args=[ballerup_patient.pk])
    client_for(coordinator_ballerup).get(coordinator_page)

    response = client_for(clinician).get(report_url(ballerup_patient))

    who = coordinator_ballerup.get_full_name()
    assert rows(response)[1] == ("02.03.2026 09:00", who, COORDINATOR_OF_BALLERUP, "patient")


def test_opening_the_report_is_itself_logged(client_for, clinician, ballerup_patient):
    assert report_looks(ballerup_patient, clinician) == []

    client_for(clinician).get(report_url(ballerup_patient))
    client_for(clinician).get(report_url(ballerup_patient, print=1))

    logged = report_looks(ballerup_patient, clinician)
    assert len(logged) == 2
    assert {entry.path for entry in logged} == {report_url(ballerup_patient)}
    assert AccessLog.objects.exclude(what="access report").count() == 0


# --- Pages on screen, one period on paper -----------------------------------------------------


def many_looks(user: User, patient: Patient, count: int) -> None:
    """``count`` looks, one a day back from yesterday (the newest first)."""
    content_type = ContentType.objects.get_for_model(Patient)
    AccessLog.objects.bulk_create(
        AccessLog(
            user=user,
            content_type=content_type,
            object_id=patient.pk,
            what=f"look {n}",
            at=NOW - timedelta(days=n),
        )
        for n in range(1, count + 1)
    )


def test_the_screen_shows_fifty_looks_a_page(client_for, clinician, nurse, ballerup_patient):
    many_looks(nurse, ballerup_patient, 60)
    client = client_for(clinician)

    first = client.get(report_url(ballerup_patient))
    second = client.get(report_url(ballerup_patient, page=2))

    assert ACCESS_REPORT_PAGE_SIZE == 50
    assert [row[3] for row in rows(first)] == ["opslagsrapporten"] + [
        f"look {n}" for n in range(1, 50)
    ]
    # The second visit logged one more look, so the list has moved on by one.
    assert [row[3] for row in rows(second)] == [f"look {n}" for n in range(49, 61)]
    assert 'rel="next"' in body(first)
    assert 'rel="prev"' in body(second)


def test_the_screen_lists_looks_older_than_the_printed_period(
    client_for, clinician, nurse, ballerup_patient
):
    look(nurse, ballerup_patient, "long ago", NOW - timedelta(days=6 * 365))

    on_screen = client_for(clinician).get(report_url(ballerup_patient))
    on_paper = client_for(clinician).get(report_url(ballerup_patient, print=1))

    assert "long ago" in [row[3] for row in rows(on_screen)]
    assert "long ago" not in [row[3] for row in rows(on_paper)]


def test_the_print_shows_every_look_of_the_last_12_months_on_one_page(
    client_for, clinician, nurse, ballerup_patient
):
    many_looks(nurse, ballerup_patient, 400)

    response = client_for(clinician).get(report_url(ballerup_patient, print=1))

    shown_looks = [row[3] for row in rows(response)]
    # From 2 March 2025 to today: looks 1 to 365 days back, and this one.
    assert shown_looks == ["opslagsrapporten"] + [f"look {n}" for n in range(1, 366)]
    assert 'rel="next"' not in body(response)
    assert "data-print" in body(response)


@pytest.mark.parametrize(
    "printing", [pytest.param({}, id="screen"), pytest.param({"print": 1}, id="print")]
)
def test_a_chosen_period_takes_whole_days_on_the_clinics_calendar(
    client_for, clinician, nurse, ballerup_patient, printing
):
    look(nurse, ballerup_patient, "before", datetime(2026, 1, 31, 23, 59, tzinfo=COPENHAGEN))
    look(nurse, ballerup_patient, "first day", datetime(2026, 2, 1, 0, 0, tzinfo=COPENHAGEN))
    # 22:30 UTC on 28 February is 23:30 in Copenhagen: still the last day.
    look(nurse, ballerup_patient, "last day", datetime(2026, 2, 28, 22, 30, tzinfo=UTC))
    look(nurse, ballerup_patient, "after", datetime(2026, 3, 1, 0, 0, tzinfo=COPENHAGEN))

    response = client_for(clinician).get(
        report_url(ballerup_patient, **{"from": "2026-02-01", "to": "28.02.2026"}, **printing)
    )

    assert response.status_code == 200
    assert [row[3] for row in rows(response)] == ["last day", "first day"]
    assert "01.02.2026–28.02.2026" in body(response)


@pytest.mark.parametrize(
    "query,message",
    [
        pytest.param({"from": "2026-02-30"}, PERIOD_BAD_DATE, id="no-such-day"),
        pytest.param({"to": "yesterday"}, PERIOD_BAD_DATE, id="not-a-date"),
        pytest.param({"from": "0001-01-01"}, PERIOD_BAD_DATE, id="year-1"),
        pytest.param({"to": "9999-12-31"}, PERIOD_BAD_DATE, id="year-9999"),
        pytest.param({"from": "2026-03-01", "to": "2026-02-01"}, PERIOD_REVERSED, id="reversed"),
        pytest.param(
            {"from": "2021-03-01", "to": "2026-03-02"}, PERIOD_TOO_LONG, id="over-5-years"
        ),
        pytest.param({"from": "2019-01-01", "print": 1}, PERIOD_TOO_LONG, id="print-over-5-years"),
    ],
)
def test_a_bad_period_answers_400_with_a_clear_message(
    client_for, clinician, nurse, ballerup_patient, query, message
):
    look(nurse, ballerup_patient, "patient", NOW - timedelta(days=1))

    response = client_for(clinician).get(report_url(ballerup_patient, **query))

    assert response.status_code == 400
    assert shown(message) in body(response)
    assert rows(response) == []
    # The page still names the patient, so the look is logged.
    assert len(report_looks(ballerup_patient, clinician)) == 1


def test_five_years_to_the_day_is_allowed(client_for, clinician, ballerup_patient):
    response = client_for(clinician).get(
        report_url(ballerup_patient, **{"from": "2021-03-02", "to": "2026-03-02"}, print=1)
    )

    assert response.status_code == 200


def test_the_period_defaults_to_a_year_before_a_chosen_end(
    client_for, clinician, nurse, ballerup_patient
):
    look(nurse, ballerup_patient, "in the year", datetime(2024, 6, 1, 12, 0, tzinfo=COPENHAGEN))
    look(
        nurse,
        ballerup_patient,
        "before the year",
        datetime(2023, 12, 30, 23, 59, tzinfo=COPENHAGEN),
    )

    response = client_for(clinician).get(report_url(ballerup_patient, to="2024-12-31", print=1))

    assert [row[3] for row in rows(response)] == ["in the year"]
    assert "31.12.2023–31.12.2024" in body(response)


# --- Queries -------------------------------------------------------------------------------------

# The report runs these queries whatever the number of looks:
#   1. the session
#   2. the user
#   3. the user's confirmed TOTP devices
#   4. the patient with the municipality
#   5. inserting the access-log row of this look
#   6. counting the looks (the screen's pages; the print has no pages and skips it)
#   7. the looks with each one's user and the user's municipality joined
#   8-10. saving the session: savepoint, update, release
SCREEN_QUERIES = 10
PRINT_QUERIES = 9


@pytest.mark.parametrize("looks", [pytest.param(1, id="1-look"), pytest.param(60, id="60-looks")])
@pytest.mark.parametrize(
    "query,expected",
    [
        pytest.param({}, SCREEN_QUERIES, id="screen"),
        pytest.param({"print": 1}, PRINT_QUERIES, id="print"),
    ],
)
def test_the_report_runs_the_same_queries_whatever_the_number_of_looks(
    client_for, clinician, ballerup_patient, django_assert_num_queries, looks, query, expected
):
    # Looks by different users, coordinators among them, so no user is fetched twice by luck.
    for n in range(looks):
        user = CoordinatorFactory(municipality=municipality("151")) if n % 2 else UserFactory()
        look(user, ballerup_patient, f"look {n}", NOW - timedelta(hours=n + 1))
    ContentType.objects.get_for_model(Patient)
    client = client_for(clinician)

    with django_assert_num_queries(expected):
        response = client.get(report_url(ballerup_patient, **query))

    assert response.status_code == 200
    shown_rows = looks + 1 if query else min(looks + 1, ACCESS_REPORT_PAGE_SIZE)
    assert len(rows(response)) == shown_rows
