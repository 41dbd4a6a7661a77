"""Every look at a patient's record is logged; the log can be read, never changed.

No Patient model exists in this app (patients belong to ``referrals``, above ``apu``), and the
log refers to its subject generically, so a Municipality stands in for the patient here.
"""

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.test import RequestFactory

from apu.access import accesses_to, log_patient_access
from apu.models import AccessLog, Municipality
from tests.factories import municipality

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("without_two_factor")]

CHANGELIST = "/admin/apu/accesslog/"


@pytest.fixture
def subject() -> Municipality:
    return municipality("151")


@pytest.fixture
def other_subject() -> Municipality:
    return municipality("159")


def look(user, subject, *, what="record", path="/patients/1/"):
    request = RequestFactory().get(path)
    request.user = user
    return log_patient_access(request, subject, what=what)


def test_a_look_writes_exactly_one_row_with_who_what_and_where(clinician, subject):
    assert AccessLog.objects.count() == 0

    entry = look(clinician, subject, what="referral and screening", path="/patients/151/")

    assert AccessLog.objects.count() == 1
    stored = AccessLog.objects.get()
    assert stored == entry
    assert stored.user == clinician
    assert stored.content_type == ContentType.objects.get_for_model(Municipality)
    assert stored.object_id == subject.pk
    assert stored.patient == subject
    assert stored.what == "referral and screening"
    assert stored.path == "/patients/151/"


def test_the_log_of_a_record_lists_its_looks_newest_first_and_only_its_own(
    clinician, coordinator_ballerup, subject, other_subject, time_machine
):
    start = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    time_machine.move_to(start, tick=False)
    look(clinician, subject, what="first")
    time_machine.shift(timedelta(minutes=5))
    look(coordinator_ballerup, other_subject, what="another record")
    time_machine.shift(timedelta(minutes=5))
    look(coordinator_ballerup, subject, what="second")

    log = list(accesses_to(subject))

    assert [(entry.what, entry.user, entry.at) for entry in log] == [
        ("second", coordinator_ballerup, start + timedelta(minutes=10)),
        ("first", clinician, start),
    ]
    assert [entry.what for entry in accesses_to(other_subject)] == ["another record"]


def test_the_log_of_a_record_nobody_opened_is_empty(clinician, subject, other_subject):
    look(clinician, subject)

    assert list(accesses_to(other_subject)) == []


def test_admin_can_read_the_access_log_but_not_add_to_it(
    client_for, admin_user, clinician, subject
):
    entry = look(clinician, subject)
    client = client_for(admin_user)

    assert client.get(CHANGELIST).status_code == 200
    assert client.get(f"{CHANGELIST}add/").status_code == 403
    detail = client.get(f"{CHANGELIST}{entry.pk}/change/")
    assert detail.status_code == 200
    assert detail.context["has_change_permission"] is False
    assert detail.context["has_delete_permission"] is False


def test_admin_cannot_change_or_delete_a_log_entry(client_for, admin_user, clinician, subject):
    entry = look(clinician, subject, what="original")
    client = client_for(admin_user)

    changed = client.post(f"{CHANGELIST}{entry.pk}/change/", {"what": "rewritten"})
    deleted = client.post(f"{CHANGELIST}{entry.pk}/delete/", {"post": "yes"})

    assert changed.status_code == 403
    assert deleted.status_code == 403
    assert AccessLog.objects.get().what == "original"


def test_admin_lists_who_looked_at_one_record(
    client_for, admin_user, clinician, coordinator_ballerup, subject, other_subject
):
    look(clinician, subject, what="record")
    look(coordinator_ballerup, subject, what="meetings")
    look(clinician, other_subject, what="someone else")
    client = client_for(admin_user)
    assert len(client.get(CHANGELIST).context["cl"].result_list) == 3

    response = client.get(CHANGELIST, {"object_id": subject.pk})

    rows = response.context["cl"].result_list
    assert {(row.user.username, row.what) for row in rows} == {
        ("coord-ballerup", "meetings"),
        ("clinician", "record"),
    }


def test_admin_finds_one_records_log_by_searching_its_id(
    client_for, admin_user, clinician, subject, other_subject
):
    look(clinician, subject, what="record")
    look(clinician, other_subject, what="someone else")

    response = client_for(admin_user).get(CHANGELIST, {"q": str(subject.pk)})

    assert [row.what for row in response.context["cl"].result_list] == ["record"]


def test_a_clinician_cannot_open_the_access_log(client_for, clinician, subject):
    look(clinician, subject)

    response = client_for(clinician).get(CHANGELIST, follow=True)

    assert response.status_code == 403


@pytest.mark.parametrize("rows", [1, 20])
def test_the_access_log_list_costs_the_same_queries_for_1_or_20_rows(
    client_for, admin_user, clinician, subject, django_assert_num_queries, rows
):
    for _ in range(rows):
        look(clinician, subject)
    client = client_for(admin_user)

    # Session, user, the 2FA device check, content types (filter), count, the page of rows
    # with user and content type joined, the date range and the days (date hierarchy),
    # then the session saved again (savepoint, update, release).
    with django_assert_num_queries(11):
        response = client.get(CHANGELIST)

    assert len(response.context["cl"].result_list) == rows


def _logged_whats() -> set[str]:
    """Every ``what="..."`` the code logs a look with."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    found = set()
    for app in ("apu", "coordination", "evaluation", "modules", "referrals"):
        for path in (root / app).rglob("*.py"):
            found |= set(re.findall(r'what="([^"]+)"', path.read_text()))
    return found


def test_the_access_report_names_every_page_that_logs_a_look():
    from apu.models import SEEN_PAGES

    whats = _logged_whats()

    assert len(whats) >= 15
    assert whats - set(SEEN_PAGES) == set()


@pytest.mark.parametrize(
    ("what", "danish"),
    [
        ("referral worklist", "liste over henvisninger"),
        ("admin: referral list", "administration, liste over henvisninger"),
        ("admin: patient history", "administration, historik for en patient"),
        ("admin: patient", "administration, patient"),
        ("admin: no such model list", "no such model list"),
        ("something new", "something new"),
    ],
)
def test_what_was_seen_is_shown_in_the_readers_language(what, danish):
    from django.utils import translation

    from apu.models import AccessLog

    with translation.override("da"):
        assert AccessLog(what=what).what_shown == danish
