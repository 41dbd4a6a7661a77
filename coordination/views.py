from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from apu.access import log_patient_access, log_patient_accesses
from apu.models import Municipality, User
from apu.permissions import get_for_user_or_404, require_clinic_staff, role_required
from apu.versioning import StaleRecord, carry_current
from coordination import calendar, queries, services
from coordination.forms import (
    ACTION_DONE_OR_NOT,
    ActionDoneForm,
    ActionFormSet,
    DischargeForm,
    ExtraMeetingForm,
    OutcomeForm,
    ScheduleForm,
)
from coordination.models import Action, CalendarFeed, Meeting
from referrals import queries as referral_queries
from referrals import services as referral_services
from referrals.forms import DecisionForm
from referrals.models import Course, Decision, Referral
from referrals.pagination import paginate
from referrals.views import render_referral_detail

CLINIC = (User.Role.CLINICIAN, User.Role.ADMIN)
CLINIC_AND_COORDINATORS = (*CLINIC, User.Role.COORDINATOR)


@require_POST
@role_required(*CLINIC_AND_COORDINATORS)
def decide_referral(request: HttpRequest, pk: int) -> HttpResponse:
    """Decide a referral; accepting opens the course and plans its three meetings."""
    # Out of reach is 404 before the role check, so it looks the same as absent.
    referral = get_for_user_or_404(Referral.objects.all(), request.user, pk=pk)
    require_clinic_staff(request.user)
    form = DecisionForm(request.POST)
    try:
        # A decided referral's page shows no decision form, so the form's own errors would be
        # shown nowhere: say that it is decided whatever was posted.
        referral_services.ensure_open(referral)
        if form.is_valid():
            decision = services.decide_and_plan(referral, by=request.user, **form.cleaned_data)
            return _decided(request, referral, decision)
    except StaleRecord as error:
        form.add_error(None, error)
        carry_current(form, error)
    except ValidationError as error:
        form.add_error(None, error)
    # Show the referral page again with the form and its errors; nothing was saved.
    return render_referral_detail(request, referral.pk, decision_form=form, status=400)


def _decided(request: HttpRequest, referral: Referral, decision: Decision) -> HttpResponse:
    """Where each decision leads: the new course, the rejection letter, or the referral."""
    if decision.kind == Decision.Kind.ACCEPT:
        messages.success(
            request,
            _("The referral is accepted, the course is open and its meetings are planned."),
        )
        return redirect("course_detail", pk=referral.course.pk)
    if decision.kind == Decision.Kind.REJECT:
        messages.success(request, _("The referral is rejected. Print the letter below."))
        return redirect("referrals:referral_letter", pk=referral.pk)
    messages.success(request, _("The referral is withdrawn."))
    return redirect("referrals:referral_detail", pk=referral.pk)


# Each list of a worklist pages on its own, under its own query parameter.
CLINIC_PAGES = {
    "overdue": "overdue_page",
    "due_soon": "soon_page",
    "unscheduled_courses": "unscheduled_page",
}
COORDINATOR_PAGES = {
    "awaiting_outcome": "outcome_page",
    "upcoming": "upcoming_page",
    "open_actions": "actions_page",
}


@role_required(*CLINIC_AND_COORDINATORS)
def worklist(request: HttpRequest) -> HttpResponse:
    """Clinic: overdue, due soon, unscheduled. Coordinator: their municipality's meetings.

    Each list shows one page (a COUNT and the page's rows); only the patients shown are
    access-logged.
    """
    if request.user.is_coordinator:
        sections = queries.coordinator_worklist(request.user)
        context = {
            key: paginate(request, sections[key], param=param)
            for key, param in COORDINATOR_PAGES.items()
        }
        meetings = context["upcoming"].object_list + context["awaiting_outcome"].object_list
        seen = [m.course.patient for m in meetings]
        seen += [a.meeting.course.patient for a in context["open_actions"].object_list]
        log_patient_accesses(request, seen, what="meeting worklist")
        return render(request, "coordination/coordinator_worklist.html", context)
    try:
        municipality_id = int(request.GET.get("municipality") or 0) or None
    except ValueError:
        municipality_id = None
    sections = queries.clinic_worklist(request.user, municipality_id=municipality_id)
    context = {
        key: paginate(request, sections[key], param=param) for key, param in CLINIC_PAGES.items()
    }
    seen = [m.course.patient for m in context["overdue"].object_list]
    seen += [m.course.patient for m in context["due_soon"].object_list]
    seen += [c.patient for c in context["unscheduled_courses"].object_list]
    log_patient_accesses(request, seen, what="meeting worklist")
    context["municipalities"] = Municipality.objects.filter(participating=True)
    context["municipality_id"] = municipality_id
    return render(request, "coordination/clinic_worklist.html", context)


def _to_current_version(form: Form, error: services.StaleEdit) -> None:
    """Keep what was typed but carry the version saved now, so saving again after checking
    the changes shown goes through instead of being refused over and over."""
    form.data = form.data.copy()
    form.data["version"] = error.version


def _meeting(request: HttpRequest, pk: int) -> Meeting:
    return get_for_user_or_404(queries.meeting_for_detail(request.user), request.user, pk=pk)


@role_required(*CLINIC_AND_COORDINATORS)
def meeting_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The meeting: time and place, participants, outcome, agreed actions."""
    meeting = _meeting(request, pk)
    log_patient_access(request, meeting.course.patient, what="coordination meeting")
    schedule_form = ScheduleForm(
        initial={
            "version": meeting.version,
            "scheduled_at": meeting.scheduled_at and meeting.scheduled_at.astimezone(),
            "place": meeting.place,
            "duration_minutes": meeting.duration_minutes,
        }
    )
    return render(
        request,
        "coordination/meeting_detail.html",
        {"meeting": meeting, "schedule_form": schedule_form},
    )


@require_POST
@role_required(*CLINIC_AND_COORDINATORS)
def meeting_schedule(request: HttpRequest, pk: int) -> HttpResponse:
    """Set or move the time and place."""
    meeting = _meeting(request, pk)
    form = ScheduleForm(request.POST)
    changes = []
    if form.is_valid():
        data = dict(form.cleaned_data)
        try:
            services.schedule_meeting(meeting, by=request.user, **data)
        except services.StaleEdit as error:
            changes = error.changes
            form.add_error(None, error)
            _to_current_version(form, error)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("The meeting time is saved."))
            return redirect("coordination:meeting_detail", pk=meeting.pk)
    log_patient_access(request, meeting.course.patient, what="coordination meeting")
    context = {"meeting": meeting, "schedule_form": form, "changes": changes}
    return render(request, "coordination/meeting_detail.html", context, status=400)


@role_required(*CLINIC_AND_COORDINATORS)
def meeting_outcome(request: HttpRequest, pk: int) -> HttpResponse:
    """Record the outcome with agreed actions; a stale form is refused and kept filled in."""
    meeting = _meeting(request, pk)
    log_patient_access(request, meeting.course.patient, what="coordination meeting outcome")
    if request.method == "POST":
        form = OutcomeForm(request.POST, user=request.user)
        actions = ActionFormSet(request.POST, prefix="actions")
    else:
        form = OutcomeForm(initial=OutcomeForm.initial_for(meeting), user=request.user)
        actions = ActionFormSet(prefix="actions")
    changes = []
    if request.method == "POST" and form.is_valid() and actions.is_valid():
        new_actions = [item.to_input() for item in actions if item.has_changed()]
        try:
            services.record_outcome(
                meeting,
                by=request.user,
                version=form.cleaned_data["version"],
                new_actions=new_actions,
                **form.service_kwargs(),
            )
        except services.StaleEdit as error:
            changes = error.changes
            form.add_error(None, error)
            _to_current_version(form, error)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("The outcome of the meeting is saved."))
            return redirect("coordination:meeting_detail", pk=meeting.pk)
    status = 400 if request.method == "POST" else 200
    context = {"meeting": meeting, "form": form, "actions": actions, "changes": changes}
    return render(request, "coordination/meeting_outcome.html", context, status=status)


@require_POST
@role_required(*CLINIC_AND_COORDINATORS)
def action_done(request: HttpRequest, pk: int) -> HttpResponse:
    """Tick an agreed action done or not done (htmx swaps the row)."""
    action = _action(request, pk)
    form = ActionDoneForm(request.POST)
    if not form.is_valid():
        # The fingerprint's own error says nothing to a person: ShowsSeenErrors says it.
        refusals = [*form.errors.get("done", []), *form.non_field_errors()]
        return _action_refused(request, action, refusals or [ACTION_DONE_OR_NOT])
    try:
        action = services.set_action_done(action, by=request.user, **form.cleaned_data)
    except StaleRecord as error:
        # The row as saved now, with its fingerprint: a tick after looking at it goes through.
        return _action_refused(request, error.current, error.messages)
    except ValidationError as error:
        return _action_refused(request, action, error.messages)
    if request.htmx:
        return render(request, "coordination/meeting_detail.html#action-row", {"action": action})
    return redirect("coordination:meeting_detail", pk=action.meeting_id)


def _action_refused(request: HttpRequest, action: Action, refusals: list[str]) -> HttpResponse:
    """A refused tick: for htmx the row as saved now with the reason (400), otherwise the
    meeting page with the reason above it."""
    refusals = list(dict.fromkeys(str(message) for message in refusals))
    if request.htmx:
        context = {"action": action, "error": " ".join(refusals)}
        return render(request, "coordination/meeting_detail.html#action-row", context, status=400)
    for message in refusals:
        messages.error(request, message)
    return redirect("coordination:meeting_detail", pk=action.meeting_id)


def _action(request: HttpRequest, pk: int) -> Action:
    meetings = Meeting.objects.for_user(request.user)
    try:
        return Action.objects.select_related("meeting").get(pk=pk, meeting__in=meetings)
    except (Action.DoesNotExist, ValueError) as error:
        raise Http404 from error


@role_required(*CLINIC_AND_COORDINATORS)
def meeting_minutes(request: HttpRequest, pk: int) -> HttpResponse:
    """Printable minutes for the patient and the municipality."""
    meeting = _meeting(request, pk)
    log_patient_access(request, meeting.course.patient, what="coordination meeting minutes")
    return render(request, "coordination/meeting_minutes.html", {"meeting": meeting})


def _meeting_link(request: HttpRequest):
    """The absolute address of a meeting's page, for calendar events."""
    return lambda meeting: request.build_absolute_uri(
        reverse("coordination:meeting_detail", args=[meeting.pk])
    )


@require_GET
@role_required(*CLINIC_AND_COORDINATORS)
def meeting_ics(request: HttpRequest, pk: int) -> HttpResponse:
    """The meeting as an iCalendar invitation (no name or CPR in it)."""
    meeting = _meeting(request, pk)
    if meeting.scheduled_at is None:
        raise Http404
    body = calendar.calendar_for(
        [meeting],
        link_for=_meeting_link(request),
    )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="apu-meeting-{meeting.pk}.ics"'
    return response


@never_cache
@role_required(*CLINIC_AND_COORDINATORS)
def calendar_settings(request: HttpRequest) -> HttpResponse:
    """The user's personal calendar feed URL, which can be revoked."""
    feed = CalendarFeed.objects.filter(user=request.user).first()
    url = (
        request.build_absolute_uri(reverse("coordination:calendar_feed", args=[feed.token]))
        if feed
        else ""
    )
    return render(request, "coordination/calendar_settings.html", {"feed": feed, "feed_url": url})


@require_POST
@role_required(*CLINIC_AND_COORDINATORS)
def calendar_renew(request: HttpRequest) -> HttpResponse:
    """Create the feed, or revoke the old URL and make a new one."""
    services.renew_calendar_feed(request.user)
    messages.success(
        request, _("Your calendar feed has a new address; the old one no longer works.")
    )
    return redirect("coordination:calendar_settings")


@require_POST
@role_required(*CLINIC_AND_COORDINATORS)
def calendar_revoke(request: HttpRequest) -> HttpResponse:
    services.revoke_calendar_feed(request.user)
    messages.success(request, _("Your calendar feed is turned off."))
    return redirect("coordination:calendar_settings")


@login_not_required
@never_cache
@require_GET
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The personal feed: the meetings the user may see, from 30 days back; a secret URL."""
    feed = (
        CalendarFeed.objects.select_related("user")
        .filter(token=token, user__is_active=True)
        .first()
    )
    if feed is None:
        raise Http404
    meetings = queries.feed_meetings(feed.user)
    body = calendar.calendar_for(
        meetings,
        link_for=_meeting_link(request),
    )
    return HttpResponse(body, content_type="text/calendar; charset=utf-8")


@role_required(*CLINIC_AND_COORDINATORS)
def extra_meeting(request: HttpRequest, pk: int) -> HttpResponse:
    course = get_for_user_or_404(Course.objects.all(), request.user, pk=pk)
    require_clinic_staff(request.user)
    form = ExtraMeetingForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            meeting = services.add_extra_meeting(course, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("An extra meeting is planned."))
            return redirect("coordination:meeting_detail", pk=meeting.pk)
    log_patient_access(request, course.patient, what="course")
    return render(request, "coordination/extra_meeting.html", {"course": course, "form": form})


@role_required(*CLINIC_AND_COORDINATORS)
def discharge(request: HttpRequest, pk: int) -> HttpResponse:
    """Discharge the course: date, kind and reason."""
    course = get_for_user_or_404(
        referral_queries.course_for_detail(request.user), request.user, pk=pk
    )
    require_clinic_staff(request.user)
    form = DischargeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.discharge_course(course, by=request.user, **form.cleaned_data)
        except StaleRecord as error:
            form.add_error(None, error)
            carry_current(form, error)
            # Shown as saved now, as the form now carries it.
            course = error.current
        except ValidationError as error:
            form.add_error(None, error)
        except PermissionDenied:
            raise
        else:
            messages.success(request, _("The course is discharged."))
            return redirect("course_detail", pk=course.pk)
    log_patient_access(request, course.patient, what="course")
    return render(request, "coordination/discharge.html", {"course": course, "form": form})
