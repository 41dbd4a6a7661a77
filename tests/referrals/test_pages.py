"""The referral pages as each persona meets them: what they show, hide, change and log."""

import re
from datetime import date, timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape

from apu.models import AccessLog
from referrals import services
from referrals.cpr import BAD_FORMAT, IMPOSSIBLE_DATE
from referrals.deadlines import intake_meeting_due
from referrals.forms import MODULUS11_WARNING, ReferralForm
from referrals.models import CodeRule, Course, Decision, Patient, Referral, Screening
from referrals.screening import criterion_label
from referrals.views import PAGE_SIZE
from tests.factories import municipality
from tests.referrals.page_factories import (
    accept,
    cpr_failing_modulus11,
    days_ago,
    register,
    reject,
    seen_now,
    valid_cpr,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("without_two_factor")]

LOGIN = reverse("apu:login")
# Other patients are born 17 May 1994; a birth date of its own lets a page be searched for it.
GLADSAXE_BORN = date(1988, 2, 9)


def shown(message, **params) -> str:
    """``message`` as a page shows it: in Danish (the default language), HTML-escaped."""
    with translation.override("da"):
        text = str(message)
        if params:
            text %= {key: str(value) for key, value in params.items()}
    return escape(text)


# Deciding and the course page belong to the app highest in the pathway (coordination plans
# the meetings and composes the course page); the referral pages reach them by URL name.
def decide_url(pk: int) -> str:
    return reverse("coordination:decide_referral", args=[pk])


def course_url(pk: int) -> str:
    return reverse("course_detail", args=[pk])


def url_of(page: str, pk: int) -> str:
    """The URL of ``page``: a URL name of the referrals app, or "decide" / "course"."""
    if page == "decide":
        return decide_url(pk)
    if page == "course":
        return course_url(pk)
    return reverse(page, args=[pk])


def body(response) -> str:
    return response.content.decode()


def dashed(cpr: str) -> str:
    return f"{cpr[:6]}-{cpr[6:]}"


def form_data(**overrides) -> dict:
    """A complete, valid new-referral form for a Ballerup citizen, as a browser posts it."""
    data = {
        "cpr": dashed(valid_cpr()),
        "name": "Mette Testesen",
        "municipality": municipality("151").pk,
        "address": "",
        "phone": "",
        "email": "",
        "first_contact": days_ago(3).isoformat(),
        "received": days_ago(2).isoformat(),
        "referrer_kind": Referral.ReferrerKind.GP,
        "referrer_name": "Dr. Hansen",
        "referrer_organisation": "",
        "diagnosis_1": "DF321",
        "diagnosis_2": "DF102",
        "in_municipal_substance_treatment": "yes",
        "substitution_treatment": "none",
        "reason": "Depression and alcohol dependence, low mood for a year.",
        "mental_severity": "higher",
        "substance_severity": "higher",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def logged_looks(patient: Patient, user) -> list[AccessLog]:
    return list(
        AccessLog.objects.filter(
            content_type=ContentType.objects.get_for_model(Patient),
            object_id=patient.pk,
            user=user,
        )
    )


@pytest.fixture
def ballerup_referral(clinician) -> Referral:
    """A screened, eligible, still open referral of a Ballerup citizen."""
    return register(
        clinician,
        name="Birgitte Ballerup",
        reason="Has been low for a year; drinks daily.",
    )


@pytest.fixture
def gladsaxe_referral(clinician) -> Referral:
    return register(
        clinician, name="Gunnar Gladsaxe", municipality_code="159", cpr=valid_cpr(GLADSAXE_BORN)
    )


@pytest.fixture
def gladsaxe_course(clinician, gladsaxe_referral) -> Course:
    return accept(gladsaxe_referral, clinician).course


@pytest.fixture
def ballerup_course(clinician, ballerup_referral) -> Course:
    return accept(ballerup_referral, clinician).course


# --- Anonymous and researcher ---------------------------------------------------------------

PAGES = [
    pytest.param("get", "referrals:referral_list", False, id="list"),
    pytest.param("get", "referrals:referral_create", False, id="create"),
    pytest.param("post", "referrals:referral_create", False, id="create-post"),
    pytest.param("post", "referrals:referral_preview", False, id="preview"),
    pytest.param("get", "referrals:referral_detail", True, id="detail"),
    pytest.param("post", "referrals:referral_screen", True, id="screen"),
    pytest.param("post", "decide", True, id="decide"),
    pytest.param("get", "referrals:referral_letter", True, id="letter"),
    pytest.param("get", "referrals:patient_detail", True, id="patient"),
    pytest.param("get", "course", True, id="course"),
]


@pytest.fixture
def two_referrals(clinician) -> tuple[Referral, Referral]:
    """One patient's rejected referral and the later accepted one (so a course exists)."""
    rejected = reject(register(clinician, name="Rasmus Referred"), clinician)
    accepted = accept(
        register(clinician, name="Rasmus Referred", cpr=rejected.patient.cpr), clinician
    )
    return rejected, accepted


def page_url(name: str, needs_pk: bool, referrals: tuple[Referral, Referral]) -> str:
    rejected, accepted = referrals
    if not needs_pk:
        return reverse(name)
    pk = {
        "referrals:referral_letter": rejected.pk,
        "referrals:patient_detail": accepted.patient_id,
        "course": accepted.course.pk,
    }.get(name, accepted.pk)
    return url_of(name, pk)


def counts() -> tuple[int, ...]:
    return tuple(
        model.objects.count() for model in (Patient, Referral, Screening, Decision, Course)
    )


@pytest.mark.parametrize("method,name,needs_pk", PAGES)
def test_anonymous_is_sent_to_login_from_every_page(
    anonymous, two_referrals, method, name, needs_pk
):
    before = counts()
    url = page_url(name, needs_pk, two_referrals)

    response = getattr(anonymous, method)(url, form_data() if method == "post" else None)

    assert response.status_code == 302
    assert response["Location"].startswith(f"{LOGIN}?next=")
    assert "Rasmus Referred" not in body(response)
    assert counts() == before
    assert AccessLog.objects.count() == 0


@pytest.mark.parametrize("method,name,needs_pk", PAGES)
def test_researcher_is_refused_every_page_and_sees_no_patient_data(
    client_for, researcher, two_referrals, method, name, needs_pk
):
    patient = two_referrals[1].patient
    before = counts()
    url = page_url(name, needs_pk, two_referrals)
    data = form_data(cpr=patient.cpr_formatted) if method == "post" else None

    response = getattr(client_for(researcher), method)(url, data)

    expected = {403, 404} if needs_pk else {403}
    assert response.status_code in expected
    content = body(response)
    assert "Rasmus Referred" not in content
    assert patient.cpr not in content
    assert patient.cpr_formatted not in content
    assert counts() == before
    assert AccessLog.objects.count() == 0


# --- Referral list ------------------------------------------------------------------------------


def test_clinician_sees_the_worklist_with_masked_cpr(client_for, clinician, ballerup_referral):
    patient = ballerup_referral.patient

    response = client_for(clinician).get(reverse("referrals:referral_list"))

    assert response.status_code == 200
    content = body(response)
    assert "Birgitte Ballerup" in content
    assert reverse("referrals:referral_detail", args=[ballerup_referral.pk]) in content
    assert f"{patient.cpr[:6]}-xxxx" in content
    assert patient.cpr not in content
    assert patient.cpr_formatted not in content
    assert patient.cpr[6:] not in content


def test_coordinator_sees_own_municipality_in_list_but_not_other(
    client_for, coordinator_ballerup, ballerup_referral, gladsaxe_referral
):
    response = client_for(coordinator_ballerup).get(reverse("referrals:referral_list"))

    assert response.status_code == 200
    content = body(response)
    assert "Birgitte Ballerup" in content
    assert "Gunnar Gladsaxe" not in content
    assert gladsaxe_referral.patient.cpr[:6] not in content
    assert [r.pk for r in response.context["page"].object_list] == [ballerup_referral.pk]


def test_coordinator_list_has_no_screening_column_or_outcome_filter(
    client_for, coordinator_ballerup, ballerup_referral
):
    response = client_for(coordinator_ballerup).get(reverse("referrals:referral_list"))

    content = body(response)
    assert "badge-ok" not in content  # the eligible badge of the screening column
    assert 'name="outcome"' not in content
    assert 'name="municipality"' not in content


@pytest.mark.parametrize(
    "query", [pytest.param("hyphen", id="with-hyphen"), pytest.param("plain", id="digits-only")]
)
def test_search_by_full_cpr_finds_the_patient(client_for, clinician, query):
    wanted = register(clinician, name="Søren Søgt")
    register(clinician, name="Anders Andet")
    cpr = wanted.patient.cpr
    q = dashed(cpr) if query == "hyphen" else cpr

    response = client_for(clinician).get(reverse("referrals:referral_list"), {"q": q})

    assert response.status_code == 200
    assert [r.pk for r in response.context["page"].object_list] == [wanted.pk]
    content = body(response)
    assert "Søren Søgt" in content
    assert "Anders Andet" not in content


def test_search_by_a_partial_cpr_finds_nothing(client_for, clinician):
    # Only the full number finds a patient: the list must not let anyone guess CPR digits.
    wanted = register(clinician, name="Søren Søgt")

    response = client_for(clinician).get(
        reverse("referrals:referral_list"), {"q": wanted.patient.cpr[:8]}
    )

    assert list(response.context["page"].object_list) == []
    assert "Søren Søgt" not in body(response)


def test_search_by_name_fragment_ignores_case(client_for, clinician):
    wanted = register(clinician, name="Karoline Mortensen")
    register(clinician, name="Anders Andet")

    response = client_for(clinician).get(reverse("referrals:referral_list"), {"q": "morten"})

    assert [r.pk for r in response.context["page"].object_list] == [wanted.pk]
    assert "Karoline Mortensen" in body(response)
    assert "Anders Andet" not in body(response)


def test_list_shows_open_referrals_by_default_and_filters_by_status(client_for, clinician):
    waiting = register(clinician, name="Olga Open", axes=None)
    screened = register(clinician, name="Svend Screened")
    accepted = accept(register(clinician, name="Agnes Accepted"), clinician)
    rejected = reject(register(clinician, name="Rolf Rejected"), clinician)
    client = client_for(clinician)
    url = reverse("referrals:referral_list")

    def listed(**params) -> set[int]:
        response = client.get(url, params)
        assert response.status_code == 200
        return {r.pk for r in response.context["page"].object_list}

    assert listed() == {waiting.pk, screened.pk}
    assert listed(status="received") == {waiting.pk}
    assert listed(status="screened") == {screened.pk}
    assert listed(status="accepted") == {accepted.pk}
    assert listed(status="rejected") == {rejected.pk}
    assert listed(status="") == {waiting.pk, screened.pk, accepted.pk, rejected.pk}


def test_list_filters_by_municipality(client_for, clinician, ballerup_referral, gladsaxe_referral):
    response = client_for(clinician).get(
        reverse("referrals:referral_list"), {"municipality": municipality("159").pk}
    )

    assert [r.pk for r in response.context["page"].object_list] == [gladsaxe_referral.pk]
    assert "Gunnar Gladsaxe" in body(response)
    assert "Birgitte Ballerup" not in body(response)


def test_list_filters_by_latest_screening_outcome(client_for, clinician):
    eligible = register(clinician, name="Elin Eligible")
    ineligible = register(clinician, name="Ivan Ineligible", in_municipal_substance_treatment=False)
    review = register(clinician, name="Rita Review", codes=("F32.1", "F18"))
    url = reverse("referrals:referral_list")
    client = client_for(clinician)

    for outcome, expected in [
        ("eligible", eligible),
        ("ineligible", ineligible),
        ("review", review),
    ]:
        response = client.get(url, {"outcome": outcome})
        assert [r.pk for r in response.context["page"].object_list] == [expected.pk], outcome


def test_list_filter_on_outcome_follows_the_newest_screening(client_for, clinician):
    referral = register(clinician, name="Nina Newest", axes=None)
    url = reverse("referrals:referral_list")
    client = client_for(clinician)
    assert [r.pk for r in client.get(url, {"outcome": "eligible"}).context["page"]] == [referral.pk]
    # An admin takes depression off the inclusion list; the next screening reads the lists.
    CodeRule.objects.filter(code="F32").update(active=False)

    services.screen_referral(
        referral, by=clinician, mental_severity="lower", substance_severity="lower"
    )

    assert list(client.get(url, {"outcome": "eligible"}).context["page"]) == []
    assert [r.pk for r in client.get(url, {"outcome": "review"}).context["page"]] == [referral.pk]


def test_list_pages_by_25_oldest_first_contact_first(client_for, clinician):
    referrals = [
        register(clinician, name=f"Patient {n:02d}", first_contact=days_ago(60 - n))
        for n in range(PAGE_SIZE + 5)
    ]
    url = reverse("referrals:referral_list")
    client = client_for(clinician)

    first = client.get(url)
    second = client.get(url, {"page": 2})

    assert [r.pk for r in first.context["page"].object_list] == [r.pk for r in referrals[:25]]
    assert [r.pk for r in second.context["page"].object_list] == [r.pk for r in referrals[25:]]
    assert "Patient 00" in body(first) and "Patient 25" not in body(first)
    assert "Patient 25" in body(second) and "Patient 00" not in body(second)
    assert 'rel="next"' in body(first) and 'rel="prev"' not in body(first)
    assert 'rel="prev"' in body(second) and 'rel="next"' not in body(second)


def test_pagination_keeps_the_filters(client_for, clinician):
    for n in range(PAGE_SIZE + 1):
        register(clinician, name=f"Karen {n:02d}")

    response = client_for(clinician).get(reverse("referrals:referral_list"), {"q": "karen"})

    assert response.context["page"].paginator.count == PAGE_SIZE + 1
    assert 'href="?q=karen&amp;page=2"' in body(response)


# The worklist runs these queries whatever the number of rows:
#   1. the session (SessionMiddleware)
#   2. the user (AuthenticationMiddleware)
#   3. the user's confirmed TOTP devices (TwoFactorMiddleware)
#   4. the count of matching referrals (the paginator)
#   5. the participating municipalities of the municipality filter
#   6. the page's referrals with patient and municipality joined and the newest screening
#      outcome as a subquery
#   7. the access-log rows for the patients on the page (one insert)
#   8-10. saving the session (SESSION_SAVE_EVERY_REQUEST): savepoint, update, release
LIST_QUERIES = 10


@pytest.mark.parametrize("rows", [pytest.param(1, id="1-row"), pytest.param(30, id="30-rows")])
def test_worklist_runs_the_same_queries_with_1_or_30_referrals(
    client_for, clinician, django_assert_num_queries, rows
):
    for n in range(rows):
        register(clinician, name=f"Patient {n:02d}")
    ContentType.objects.get_for_model(Patient)  # cached for the rest of the process
    client = client_for(clinician)

    with django_assert_num_queries(LIST_QUERIES):
        response = client.get(reverse("referrals:referral_list"))

    assert response.status_code == 200
    assert len(response.context["page"].object_list) == min(rows, PAGE_SIZE)


# --- New referral: the form --------------------------------------------------------------------


def test_clinician_opens_the_empty_form_with_the_code_list(client_for, clinician):
    response = client_for(clinician).get(reverse("referrals:referral_create"))

    assert response.status_code == 200
    content = body(response)
    assert 'id="id_cpr"' in content
    assert 'id="screening-preview"' in content
    assert '<option value="F32.1">' in content  # the ICD-10 suggestions
    assert 'id="id_mental_severity_0"' in content
    assert response.context["form"].initial["received"] == timezone.localdate()


def test_clinician_registers_a_referral_and_it_is_screened_at_once(client_for, clinician):
    data = form_data(cpr="170594-1234", name="Mette Testesen")
    assert not Patient.objects.filter(cpr="1705941234").exists()
    assert Referral.objects.count() == 0

    response = client_for(clinician).post(reverse("referrals:referral_create"), data)

    referral = Referral.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("referrals:referral_detail", args=[referral.pk])
    patient = Patient.objects.get(cpr="1705941234")
    assert referral.patient == patient
    assert patient.name == "Mette Testesen"
    assert patient.municipality == municipality("151")
    assert referral.submitted_by == clinician
    assert referral.status == Referral.Status.SCREENED
    assert sorted(referral.diagnoses.values_list("code", flat=True)) == ["F10.2", "F32.1"]
    screening = referral.screenings.get()
    assert screening.outcome == Screening.Outcome.ELIGIBLE
    assert (screening.mental_severity, screening.substance_severity) == ("higher", "higher")


def test_a_registered_cpr_failing_modulus11_is_saved_with_a_warning(client_for, clinician):
    cpr = cpr_failing_modulus11()
    assert Referral.objects.count() == 0

    response = client_for(clinician).post(
        reverse("referrals:referral_create"), form_data(cpr=cpr), follow=True
    )

    assert response.status_code == 200
    assert Referral.objects.get().patient.cpr == cpr
    assert shown(MODULUS11_WARNING) in body(response)
    levels = [m.level_tag for m in response.context["messages"]]
    assert "warning" in levels and "success" in levels


def test_a_valid_cpr_gets_no_modulus11_warning(client_for, clinician):
    response = client_for(clinician).post(
        reverse("referrals:referral_create"), form_data(), follow=True
    )

    assert Referral.objects.count() == 1
    assert shown(MODULUS11_WARNING) not in body(response)


def in_days(days: int) -> str:
    return (timezone.localdate() + timedelta(days=days)).isoformat()


BAD_INPUT = [
    pytest.param({"cpr": "12345"}, "cpr", BAD_FORMAT, {}, id="malformed-cpr"),
    pytest.param({"cpr": "310294-1234"}, "cpr", IMPOSSIBLE_DATE, {}, id="cpr-without-a-date"),
    pytest.param(
        {"diagnosis_1": "X99"},
        "diagnosis_1",
        services.UNKNOWN_CODES,
        {"codes": "X99"},
        id="unknown-code",
    ),
    pytest.param(
        {"diagnosis_2": "G40"},
        "diagnosis_1",
        services.UNKNOWN_CODES,
        {"codes": "G40"},
        id="code-outside-the-f-chapter",
    ),
    pytest.param(
        {"first_contact": 3, "received": 0},
        "first_contact",
        services.FUTURE_FIRST_CONTACT,
        {},
        id="future-first-contact",
    ),
]


@pytest.mark.parametrize("overrides,field,message,params", BAD_INPUT)
def test_bad_input_shows_a_clear_error_and_saves_nothing(
    client_for, clinician, overrides, field, message, params
):
    # Dates are given as days from today, so the case does not age.
    overrides = {
        key: in_days(value) if isinstance(value, int) else value for key, value in overrides.items()
    }
    before = Patient.objects.count(), Referral.objects.count(), Screening.objects.count()

    response = client_for(clinician).post(
        reverse("referrals:referral_create"), form_data(**overrides)
    )

    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert shown(message, **params) in body(response)
    assert 'class="field has-error"' in body(response)
    assert (Patient.objects.count(), Referral.objects.count(), Screening.objects.count()) == before


def test_one_severity_axis_alone_is_refused(client_for, clinician):
    response = client_for(clinician).post(
        reverse("referrals:referral_create"), form_data(substance_severity="")
    )

    assert response.status_code == 200
    assert "substance_severity" in response.context["form"].errors
    assert Referral.objects.count() == 0


def test_registering_an_existing_cpr_adds_a_referral_to_the_same_patient(client_for, clinician):
    first = register(clinician, name="Old Name")
    assert Patient.objects.count() == 1

    response = client_for(clinician).post(
        reverse("referrals:referral_create"),
        form_data(cpr=first.patient.cpr, name="New Name"),
    )

    assert response.status_code == 302
    assert Patient.objects.count() == 1
    assert Referral.objects.filter(patient=first.patient).count() == 2
    first.patient.refresh_from_db()
    assert first.patient.name == "New Name"


def test_coordinator_form_offers_only_own_municipality_and_no_axes(
    client_for, coordinator_ballerup
):
    response = client_for(coordinator_ballerup).get(reverse("referrals:referral_create"))

    assert response.status_code == 200
    field = response.context["form"].fields["municipality"]
    assert list(field.queryset) == [municipality("151")]
    assert "mental_severity" not in response.context["form"].fields
    content = body(response)
    assert re.search(rf'<option value="{municipality("151").pk}"[^>]*selected', content)
    assert "Gladsaxe" not in content


def test_coordinator_registers_a_referral_for_own_municipality(client_for, coordinator_ballerup):
    assert Referral.objects.count() == 0

    response = client_for(coordinator_ballerup).post(
        reverse("referrals:referral_create"), form_data(name="Kaj Koordineret")
    )

    referral = Referral.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("referrals:referral_detail", args=[referral.pk])
    assert referral.patient.municipality == municipality("151")
    assert referral.submitted_by == coordinator_ballerup
    # Only the clinic records the axes: the referral waits for a clinician's screening.
    assert referral.status == Referral.Status.RECEIVED
    assert referral.screenings.get().quadrant_axes is None


def test_coordinator_cannot_register_for_another_municipality(client_for, coordinator_ballerup):
    data = form_data(name="Gitte Gladsaxe", municipality=municipality("159").pk)

    response = client_for(coordinator_ballerup).post(reverse("referrals:referral_create"), data)

    assert response.status_code == 200
    errors = response.context["form"].errors["municipality"]
    assert errors
    assert escape(errors[0]) in body(response)
    assert Referral.objects.count() == 0
    assert Patient.objects.count() == 0


def test_coordinator_cannot_take_over_a_patient_of_another_municipality(
    client_for, clinician, coordinator_ballerup, gladsaxe_referral
):
    patient = gladsaxe_referral.patient

    response = client_for(coordinator_ballerup).post(
        reverse("referrals:referral_create"), form_data(cpr=patient.cpr, name="Taken Over")
    )

    assert response.status_code == 200
    assert shown(services.CPR_OUTSIDE_REACH) in body(response)
    assert "Gunnar Gladsaxe" not in body(response)
    patient.refresh_from_db()
    assert (patient.name, patient.municipality.code) == ("Gunnar Gladsaxe", "159")
    assert Referral.objects.count() == 1


# --- New referral: the live screening preview (htmx) -----------------------------------------


def preview(client, **overrides):
    return client.post(
        reverse("referrals:referral_preview"), form_data(**overrides), HTTP_HX_REQUEST="true"
    )


def test_preview_lists_missing_fields_before_it_can_screen(client_for, clinician):
    response = preview(
        client_for(clinician), diagnosis_1="", diagnosis_2="", in_municipal_substance_treatment=None
    )

    assert response.status_code == 200
    content = body(response)
    assert "<html" not in content  # only the partial, swapped into #screening-preview
    assert "screening-outcome" not in content
    fields = ReferralForm.base_fields
    with translation.override("da"):
        missing = [
            f"<li>{escape(fields[name].label)}</li>"
            for name in ("diagnosis_1", "in_municipal_substance_treatment")
        ]
        present = [f"<li>{escape(fields[name].label)}</li>" for name in ("cpr", "municipality")]
    assert all(item in content for item in missing)
    assert not any(item in content for item in present)
    assert Referral.objects.count() == 0


@pytest.mark.parametrize(
    "municipal,outcome,badge",
    [
        pytest.param("yes", "eligible", "badge-ok", id="in-municipal-treatment-eligible"),
        pytest.param("no", "ineligible", "badge-danger", id="no-municipal-treatment-ineligible"),
    ],
)
def test_preview_screens_the_filled_form_without_saving(
    client_for, clinician, municipal, outcome, badge
):
    response = preview(client_for(clinician), in_municipal_substance_treatment=municipal)

    assert response.status_code == 200
    assert response.context["result"].outcome == outcome
    content = body(response)
    assert "<html" not in content
    assert re.search(rf'class="screening-outcome">[^<]*<span class="badge {badge}"', content)
    with translation.override("da"):
        label = escape(criterion_label("municipal_treatment"))
    assert label in content
    assert Patient.objects.count() == 0
    assert Referral.objects.count() == 0


def test_preview_names_an_existing_patient_and_logs_the_look(
    client_for, clinician, ballerup_referral
):
    patient = ballerup_referral.patient
    assert logged_looks(patient, clinician) == []

    response = preview(client_for(clinician), cpr=patient.cpr_formatted, name="")

    assert "Birgitte Ballerup" in body(response)
    assert reverse("referrals:patient_detail", args=[patient.pk]) in body(response)
    assert len(logged_looks(patient, clinician)) == 1


def test_preview_does_not_reveal_a_patient_of_another_municipality(
    client_for, coordinator_ballerup, gladsaxe_referral
):
    patient = gladsaxe_referral.patient

    response = preview(client_for(coordinator_ballerup), cpr=patient.cpr, name="")

    assert response.status_code == 200
    assert "Gunnar Gladsaxe" not in body(response)
    assert reverse("referrals:patient_detail", args=[patient.pk]) not in body(response)
    assert AccessLog.objects.count() == 0


def test_preview_shows_the_modulus11_warning(client_for, clinician):
    response = preview(client_for(clinician), cpr=cpr_failing_modulus11())

    assert shown(MODULUS11_WARNING) in body(response)
    assert Referral.objects.count() == 0


def test_preview_answers_only_post(client_for, clinician):
    assert client_for(clinician).get(reverse("referrals:referral_preview")).status_code == 405


# --- Referral detail ----------------------------------------------------------------------------


def test_clinician_sees_the_referral_with_diagnoses_screening_and_history(
    client_for, clinician, ballerup_referral
):
    patient = ballerup_referral.patient

    response = client_for(clinician).get(
        reverse("referrals:referral_detail", args=[ballerup_referral.pk])
    )

    assert response.status_code == 200
    content = body(response)
    assert "Birgitte Ballerup" in content
    assert patient.cpr_formatted in content
    assert "F32.1" in content and "F10.2" in content
    assert "Has been low for a year; drinks daily." in content
    with translation.override("da"):
        assert escape(criterion_label("municipal_treatment")) in content
        assert escape(ballerup_referral.get_status_display()) in content
    assert 'class="criterion-pass"' in content
    assert decide_url(ballerup_referral.pk) in content
    assert reverse("referrals:referral_screen", args=[ballerup_referral.pk]) in content
    assert "history-heading" in content
    assert len(response.context["history"]) == 2  # created, then screened


def test_coordinator_sees_status_of_own_referral_but_no_clinical_details(
    client_for, coordinator_ballerup, ballerup_referral
):
    response = client_for(coordinator_ballerup).get(
        reverse("referrals:referral_detail", args=[ballerup_referral.pk])
    )

    assert response.status_code == 200
    content = body(response)
    with translation.override("da"):
        assert escape(ballerup_referral.get_status_display()) in content
        for key in ("municipal_treatment", "mental_disorder", "substance_use", "adult"):
            assert escape(criterion_label(key)) not in content
    assert "Birgitte Ballerup" in content
    # No diagnoses (code or title), no reason text, no criteria, no decision or screening form.
    assert "F32.1" not in content and "F10.2" not in content
    assert "Depressiv enkeltepisode" not in content
    assert "Has been low for a year" not in content
    assert "criterion-" not in content
    assert "/decide/" not in content and "/screen/" not in content
    assert response.context["screening"] is None
    assert list(response.context["history"]) == []


@pytest.mark.parametrize(
    "page",
    ["referrals:referral_detail", "referrals:patient_detail", "course"],
)
def test_coordinator_cannot_see_other_municipality(
    client_for, coordinator_ballerup, gladsaxe_course, page
):
    referral = gladsaxe_course.referral
    pk = {
        "referrals:referral_detail": referral.pk,
        "referrals:patient_detail": referral.patient_id,
        "course": gladsaxe_course.pk,
    }[page]

    response = client_for(coordinator_ballerup).get(url_of(page, pk))

    assert response.status_code == 404
    assert "Gunnar Gladsaxe" not in body(response)
    assert referral.patient.cpr[:6] not in body(response)
    assert AccessLog.objects.count() == 0


def test_other_municipality_answers_like_a_missing_referral(
    client_for, coordinator_ballerup, gladsaxe_referral
):
    client = client_for(coordinator_ballerup)
    hidden = client.get(reverse("referrals:referral_detail", args=[gladsaxe_referral.pk]))
    absent = client.get(reverse("referrals:referral_detail", args=[gladsaxe_referral.pk + 1000]))

    assert hidden.status_code == absent.status_code == 404
    assert hidden.content == absent.content


@pytest.mark.parametrize(
    "page,what",
    [
        pytest.param("referrals:referral_detail", "referral", id="referral-detail"),
        pytest.param("referrals:referral_letter", "rejection letter", id="letter"),
        pytest.param("referrals:patient_detail", "patient", id="patient-detail"),
        pytest.param("course", "course", id="course-detail"),
    ],
)
def test_every_page_showing_a_patient_logs_exactly_one_look(client_for, clinician, page, what):
    rejected = reject(register(clinician, name="Lone Logget"), clinician)
    accepted = accept(register(clinician, cpr=rejected.patient.cpr), clinician)
    patient = accepted.patient
    pk = {
        "referrals:referral_detail": accepted.pk,
        "referrals:referral_letter": rejected.pk,
        "referrals:patient_detail": patient.pk,
        "course": accepted.course.pk,
    }[page]
    url = url_of(page, pk)
    assert AccessLog.objects.count() == 0

    response = client_for(clinician).get(url)

    assert response.status_code == 200
    looks = logged_looks(patient, clinician)
    assert len(looks) == 1
    assert AccessLog.objects.count() == 1
    assert (looks[0].what, looks[0].path) == (what, url)


def test_coordinator_look_is_logged_with_the_coordinator(
    client_for, coordinator_ballerup, ballerup_referral
):
    patient = ballerup_referral.patient

    client_for(coordinator_ballerup).get(
        reverse("referrals:referral_detail", args=[ballerup_referral.pk])
    )

    assert len(logged_looks(patient, coordinator_ballerup)) == 1
    assert AccessLog.objects.count() == 1


@pytest.mark.parametrize("rows", [pytest.param(1, id="1-row"), pytest.param(30, id="30-rows")])
def test_search_by_full_cpr_runs_the_same_queries_whatever_the_data(
    client_for, clinician, django_assert_num_queries, rows
):
    # ``rows`` other patients, and the searched patient with ``rows`` referrals, all but the
    # newest rejected: the search by CPR is the list's queries (LIST_QUERIES), whatever
    # the clinic holds and however long the patient's history.
    cpr = valid_cpr()
    for n in range(rows):
        register(clinician, name=f"Patient {n:02d}")
    for _ in range(rows - 1):
        reject(register(clinician, cpr=cpr, name="Søren Søgt"), clinician)
    wanted = register(clinician, cpr=cpr, name="Søren Søgt")
    ContentType.objects.get_for_model(Patient)
    client = client_for(clinician)
    url = reverse("referrals:referral_list")

    with django_assert_num_queries(LIST_QUERIES):
        open_only = client.get(url, {"q": dashed(cpr)})
    with django_assert_num_queries(LIST_QUERIES):
        every_status = client.get(url, {"q": dashed(cpr), "status": ""})

    assert [r.pk for r in open_only.context["page"].object_list] == [wanted.pk]
    assert every_status.context["page"].paginator.count == rows
    assert len(every_status.context["page"].object_list) == min(rows, PAGE_SIZE)
    assert {r.patient.cpr for r in every_status.context["page"].object_list} == {cpr}


# The detail page runs these queries whatever the number of diagnoses and history rows:
#   1. the session
#   2. the user
#   3. the user's confirmed TOTP devices
#   4. the referral with patient, municipality, registering user and decision joined
#   5. its diagnoses with their codes (prefetch)
#   6. inserting the access-log row (the content type is cached, warmed below)
#   7. the newest screening with the user who screened
#   8. its criteria (prefetch)
#   9. the newest 20 history rows with their users
#  10-12. saving the session: savepoint, update, release
DETAIL_QUERIES = 12


@pytest.mark.parametrize(
    "codes,screenings",
    [
        pytest.param(("F32.1",), 0, id="1-diagnosis-short-history"),
        pytest.param(("F32.1", "F10.2", "F41", "F42", "F43.1"), 25, id="5-diagnoses-long-history"),
    ],
)
def test_referral_detail_runs_the_same_queries_whatever_its_size(
    client_for, clinician, django_assert_num_queries, codes, screenings
):
    referral = register(clinician, codes=codes, axes=None)
    for _ in range(screenings):
        services.screen_referral(
            referral, by=clinician, mental_severity="lower", substance_severity="higher"
        )
    ContentType.objects.get_for_model(Patient)
    client = client_for(clinician)

    with django_assert_num_queries(DETAIL_QUERIES):
        response = client.get(reverse("referrals:referral_detail", args=[referral.pk]))

    assert response.status_code == 200
    assert all(code in body(response) for code in codes)


# --- Screening again ----------------------------------------------------------------------------


def test_clinician_records_the_axes_and_the_referral_is_screened(client_for, clinician):
    referral = register(clinician, axes=None)
    assert referral.status == Referral.Status.RECEIVED
    assert referral.screenings.count() == 1

    response = client_for(clinician).post(
        reverse("referrals:referral_screen", args=[referral.pk]),
        {"mental_severity": "lower", "substance_severity": "higher", "seen": seen_now(referral)},
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("referrals:referral_detail", args=[referral.pk])
    referral.refresh_from_db()
    assert referral.status == Referral.Status.SCREENED
    assert referral.screenings.count() == 2
    newest = referral.screenings.first()
    assert newest.quadrant_axes == ("lower", "higher")
    assert newest.screened_by == clinician


def test_screening_without_the_axes_answers_400_and_changes_nothing(client_for, clinician):
    referral = register(clinician, axes=None)

    response = client_for(clinician).post(
        reverse("referrals:referral_screen", args=[referral.pk]),
        {"mental_severity": "lower", "seen": seen_now(referral)},
    )

    assert response.status_code == 400
    assert "substance_severity" in response.context["screening_form"].errors
    referral.refresh_from_db()
    assert referral.status == Referral.Status.RECEIVED
    assert referral.screenings.count() == 1


def test_screening_a_decided_referral_answers_400(client_for, clinician, ballerup_course):
    referral = ballerup_course.referral

    response = client_for(clinician).post(
        reverse("referrals:referral_screen", args=[referral.pk]),
        {"mental_severity": "lower", "substance_severity": "lower"},
    )

    assert response.status_code == 400
    assert shown(services.NOT_OPEN, status=Referral.Status.ACCEPTED.label) in body(response)
    assert referral.screenings.count() == 1


# --- Deciding ----------------------------------------------------------------------------------


def test_accepting_opens_the_course_and_shows_it(client_for, clinician, ballerup_referral):
    assert ballerup_referral.status == Referral.Status.SCREENED
    assert not Course.objects.exists()
    client = client_for(clinician)

    response = client.post(
        decide_url(ballerup_referral.pk), {"kind": "accept", "seen": seen_now(ballerup_referral)}
    )

    course = Course.objects.get()
    assert response.status_code == 302
    assert response["Location"] == course_url(course.pk)
    ballerup_referral.refresh_from_db()
    assert ballerup_referral.status == Referral.Status.ACCEPTED
    assert ballerup_referral.decision.decided_by == clinician
    assert course.patient == ballerup_referral.patient
    assert course.intake_meeting_due == ballerup_referral.intake_due


def test_rejecting_leads_to_the_letter_with_failed_criteria_and_reason(client_for, clinician):
    referral = register(clinician, name="Lis Letter", in_municipal_substance_treatment=False)
    assert referral.screenings.get().outcome == Screening.Outcome.INELIGIBLE
    client = client_for(clinician)

    response = client.post(
        decide_url(referral.pk),
        {
            "kind": "reject",
            "reason": "Needs treatment at the rusmiddelcenter first.",
            "seen": seen_now(referral),
        },
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("referrals:referral_letter", args=[referral.pk])
    referral.refresh_from_db()
    assert referral.status == Referral.Status.REJECTED
    assert not Course.objects.exists()

    letter = client.get(response["Location"])

    assert letter.status_code == 200
    content = body(letter)
    assert "Lis Letter" in content
    assert "Needs treatment at the rusmiddelcenter first." in content
    assert "Dr. Hansen" in content
    failed = [item.key for item in letter.context["failed"]]
    assert failed == ["municipal_treatment"]
    with translation.override("da"):
        assert escape(criterion_label("municipal_treatment")) in content
        assert escape(criterion_label("adult")) not in content  # met criteria are left out


@pytest.mark.parametrize(
    "municipal,message,params",
    [
        pytest.param(
            True,
            services.OVERRIDE_NEEDS_REASON,
            {"outcome": Screening.Outcome.ELIGIBLE.label},
            id="eligible-needs-override-reason",
        ),
        pytest.param(False, services.REJECT_NEEDS_REASON, {}, id="ineligible-needs-letter-reason"),
    ],
)
def test_rejecting_without_a_reason_answers_400_and_changes_nothing(
    client_for, clinician, municipal, message, params
):
    referral = register(clinician, in_municipal_substance_treatment=municipal)
    assert referral.status == Referral.Status.SCREENED

    response = client_for(clinician).post(
        decide_url(referral.pk), {"kind": "reject", "seen": seen_now(referral)}
    )

    assert response.status_code == 400
    assert shown(message, **params) in body(response)
    referral.refresh_from_db()
    assert referral.status == Referral.Status.SCREENED
    assert not Decision.objects.exists()


def test_accepting_before_the_axes_are_recorded_answers_400(client_for, clinician):
    referral = register(clinician, axes=None)

    response = client_for(clinician).post(
        decide_url(referral.pk), {"kind": "accept", "seen": seen_now(referral)}
    )

    assert response.status_code == 400
    assert shown(services.NOT_SCREENED) in body(response)
    assert not Decision.objects.exists()
    assert not Course.objects.exists()


def test_deciding_an_already_decided_referral_answers_400_and_changes_nothing(
    client_for, clinician, ballerup_course
):
    referral = ballerup_course.referral
    decision = referral.decision

    response = client_for(clinician).post(
        decide_url(referral.pk),
        {"kind": "reject", "reason": "Second thoughts."},
    )

    assert response.status_code == 400
    assert shown(services.NOT_OPEN, status=Referral.Status.ACCEPTED.label) in body(response)
    referral.refresh_from_db()
    assert referral.status == Referral.Status.ACCEPTED
    assert Decision.objects.get() == decision
    assert Decision.objects.get().kind == Decision.Kind.ACCEPT
    assert Course.objects.get() == ballerup_course


# --- What a coordinator may not do --------------------------------------------------------------


CLINIC_ACTIONS = [
    pytest.param("post", "referrals:referral_screen", id="screen"),
    pytest.param("post", "decide", id="decide"),
    pytest.param("get", "referrals:referral_letter", id="letter"),
]
ACTION_DATA = {
    "referrals:referral_screen": {"mental_severity": "lower", "substance_severity": "lower"},
    "decide": {"kind": "reject", "reason": "Coordinator says no."},
    "referrals:referral_letter": None,
}


@pytest.fixture
def rejected_pair(clinician):
    """A rejected referral in Ballerup and one in Gladsaxe (so each has a letter)."""
    return (
        reject(register(clinician, name="Birgitte Ballerup"), clinician),
        reject(
            register(
                clinician,
                name="Gunnar Gladsaxe",
                municipality_code="159",
                cpr=valid_cpr(GLADSAXE_BORN),
            ),
            clinician,
        ),
    )


@pytest.mark.parametrize("method,name", CLINIC_ACTIONS)
def test_coordinator_is_refused_clinic_actions_on_own_municipality(
    client_for, clinician, coordinator_ballerup, rejected_pair, method, name
):
    if name == "referrals:referral_letter":
        referral = rejected_pair[0]
    else:
        referral = register(clinician, name="Birgitte Ballerup", axes=None)
    before = Screening.objects.count(), Decision.objects.count(), referral.status

    response = getattr(client_for(coordinator_ballerup), method)(
        url_of(name, referral.pk), ACTION_DATA[name]
    )

    assert response.status_code == 403
    referral.refresh_from_db()
    assert (Screening.objects.count(), Decision.objects.count(), referral.status) == before
    assert AccessLog.objects.count() == 0


@pytest.mark.parametrize(
    "method,name",
    [
        CLINIC_ACTIONS[0],
        CLINIC_ACTIONS[1],
        CLINIC_ACTIONS[2],
    ],
)
def test_coordinator_gets_404_for_clinic_actions_on_another_municipality(
    client_for, clinician, coordinator_ballerup, rejected_pair, method, name
):
    if name == "referrals:referral_letter":
        referral = rejected_pair[1]
    else:
        referral = register(clinician, name="Gunnar Gladsaxe", municipality_code="159", axes=None)
    before = Screening.objects.count(), Decision.objects.count(), referral.status

    response = getattr(client_for(coordinator_ballerup), method)(
        url_of(name, referral.pk), ACTION_DATA[name]
    )

    assert response.status_code == 404
    assert "Gunnar Gladsaxe" not in body(response)
    referral.refresh_from_db()
    assert (Screening.objects.count(), Decision.objects.count(), referral.status) == before
    assert AccessLog.objects.count() == 0


# --- Rejection letter ---------------------------------------------------------------------------


def test_an_open_or_accepted_referral_has_no_letter(client_for, clinician, ballerup_course):
    open_referral = register(clinician, name="Otto Open")
    client = client_for(clinician)

    for referral in (open_referral, ballerup_course.referral):
        response = client.get(reverse("referrals:referral_letter", args=[referral.pk]))
        assert response.status_code == 404
    assert AccessLog.objects.count() == 0


# --- Patient detail -----------------------------------------------------------------------------


def test_clinician_sees_the_patient_with_courses_and_referrals(client_for, clinician):
    rejected = reject(register(clinician, name="Pia Patient"), clinician)
    accepted = accept(register(clinician, name="Pia Patient", cpr=rejected.patient.cpr), clinician)
    patient = accepted.patient

    response = client_for(clinician).get(reverse("referrals:patient_detail", args=[patient.pk]))

    assert response.status_code == 200
    content = body(response)
    assert "Pia Patient" in content
    assert patient.cpr_formatted in content
    assert course_url(accepted.course.pk) in content
    assert reverse("referrals:referral_detail", args=[accepted.pk]) in content
    assert reverse("referrals:referral_detail", args=[rejected.pk]) in content


def test_coordinator_sees_own_municipality_patient(
    client_for, coordinator_ballerup, ballerup_course
):
    patient = ballerup_course.patient

    response = client_for(coordinator_ballerup).get(
        reverse("referrals:patient_detail", args=[patient.pk])
    )

    assert response.status_code == 200
    assert "Birgitte Ballerup" in body(response)
    assert len(logged_looks(patient, coordinator_ballerup)) == 1


# The patient page runs these queries whatever the number of referrals:
#   1. the session
#   2. the user
#   3. the user's confirmed TOTP devices
#   4. the patient with the municipality
#   5. inserting the access-log row
#   6. the patient's courses
#   7. the patient's referrals (through the same worklist query, newest first)
#   8-10. saving the session: savepoint, update, release
PATIENT_QUERIES = 10


@pytest.mark.parametrize(
    "rejected", [pytest.param(0, id="1-referral"), pytest.param(20, id="21-referrals")]
)
def test_patient_detail_runs_the_same_queries_whatever_its_history(
    client_for, clinician, django_assert_num_queries, rejected
):
    cpr = valid_cpr()
    for _ in range(rejected):
        reject(register(clinician, cpr=cpr), clinician)
    patient = accept(register(clinician, cpr=cpr), clinician).patient
    ContentType.objects.get_for_model(Patient)
    client = client_for(clinician)

    with django_assert_num_queries(PATIENT_QUERIES):
        response = client.get(reverse("referrals:patient_detail", args=[patient.pk]))

    assert response.status_code == 200
    assert len(response.context["referrals"]) == rejected + 1


# --- Course detail ------------------------------------------------------------------------------


def test_clinician_sees_the_course_with_the_intake_meeting_deadline(
    client_for, clinician, ballerup_course
):
    response = client_for(clinician).get(course_url(ballerup_course.pk))

    assert response.status_code == 200
    content = body(response)
    assert "Birgitte Ballerup" in content
    due = ballerup_course.intake_meeting_due
    assert due == intake_meeting_due(ballerup_course.referral.first_contact)
    assert f'<time datetime="{due:%Y-%m-%d}">{due:%d.%m.%Y}</time>' in content
    assert f"{ballerup_course.planned_end:%d.%m.%Y}" in content
    assert reverse("referrals:referral_detail", args=[ballerup_course.referral.pk]) in content


def test_coordinator_sees_own_municipality_course(
    client_for, coordinator_ballerup, ballerup_course
):
    response = client_for(coordinator_ballerup).get(course_url(ballerup_course.pk))

    assert response.status_code == 200
    assert "Birgitte Ballerup" in body(response)


# The course page runs:
#   1. the session
#   2. the user
#   3. the user's confirmed TOTP devices
#   4. the course with patient, municipality, referral, treatment plan and case formulation
#      joined (the formulation for the clinic only)
#   5. inserting the access-log row
#   6. the course's meetings (coordination's part of the page)
#   7-8. the norm hours and the attendance summary: group attendance, individual
#      appointments
#   9. the group enrolments
#   10. the individual appointments
#   11. the outcome measurements for the charts (clinic only)
#   12-14. saving the session: savepoint, update, release
# (A course awaiting its intake meeting shows no enrolment form, so no group choices.)
COURSE_QUERIES = 14


def test_course_detail_runs_a_fixed_number_of_queries(
    client_for, clinician, ballerup_course, django_assert_num_queries
):
    ContentType.objects.get_for_model(Patient)
    client = client_for(clinician)

    with django_assert_num_queries(COURSE_QUERIES):
        response = client.get(course_url(ballerup_course.pk))

    assert response.status_code == 200
