from datetime import date, timedelta

from django.contrib import messages
from django.core.exceptions import NON_FIELD_ERRORS, ObjectDoesNotExist, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from apu.access import log_patient_access, log_patient_accesses
from apu.models import User
from apu.permissions import get_for_user_or_404, require_clinic_staff, role_required
from apu.versioning import StaleRecord, carry_current, fingerprint
from coordination import queries as coordination_queries
from modules import queries, services
from modules.forms import (
    AppointmentAttendanceForm,
    AppointmentForm,
    AttendanceTapForm,
    CancelSessionForm,
    EndEnrolmentForm,
    EnrolForm,
    FormulationForm,
    GroupSearchForm,
    MoveSessionForm,
    PlanForm,
    SwitchForm,
)
from modules.models import (
    Appointment,
    AttendanceStatus,
    CaseFormulation,
    Enrolment,
    Group,
    NoShowReason,
    Session,
    TreatmentPlan,
    WaitingListEntry,
)
from referrals import queries as referral_queries
from referrals.models import Course
from referrals.pagination import paginate

CLINIC = (User.Role.CLINICIAN, User.Role.ADMIN)
CLINIC_AND_COORDINATORS = (*CLINIC, User.Role.COORDINATOR)

# A stale save refused by a form that returns to its page rather than showing itself again:
# what was chosen is not kept, so the message does not say it is.
CHANGED_NOT_SAVED = gettext_lazy(
    "Someone else changed this after you opened the page, so your change was not saved. "
    "It is shown as saved now: check it and do it again if it is still right."
)
SESSION_CHANGED = gettext_lazy(
    "The session was changed after you opened the page, so it is not cancelled. "
    "Check its time and room below and cancel it again if it is still meant."
)
ATTENDANCE_CHANGED = gettext_lazy(
    "Someone else recorded this participant's attendance after you opened the page. "
    "It is shown as saved now: tap again to change it."
)


def _say_refused(request: HttpRequest, form, fields_message: str = "") -> None:
    """Why a form that returns to its page was refused: the page was out of date (the
    fingerprint missing or altered), its fields were wrong, or both."""
    for error in form.non_field_errors():
        messages.error(request, error)
    if fields_message and set(form.errors) - {"seen", NON_FIELD_ERRORS}:
        messages.error(request, fields_message)


def _course(request: HttpRequest, pk: int) -> Course:
    return get_for_user_or_404(
        referral_queries.course_for_detail(request.user), request.user, pk=pk
    )


def _groups_open_for(course: Course):
    # The course's own running seats as a small NOT IN: excluding across the multi-valued
    # enrolments relation made PostgreSQL scan every enrolment of the region.
    seated = Enrolment.objects.filter(course=course, ends_on__isnull=True).values("group_id")
    return queries.open_groups().filter(module__is_group=True).exclude(pk__in=seated)


# --- The course page ----------------------------------------------------------------------


def _offered_groups(request: HttpRequest, course: Course, plan: TreatmentPlan | None) -> dict:
    """The groups the enrolment form offers: a bounded number (one query), found by name."""
    form = GroupSearchForm(request.GET)
    # A search that is no text (a NUL byte) narrows nothing: every open group is offered.
    search = form.cleaned_data["group_search"][:100] if form.is_valid() else ""
    offered = []
    if request.user.is_clinic_staff and course.status == Course.Status.IN_TREATMENT:
        groups = queries.groups_to_offer(
            _groups_open_for(course),
            plan_modules=[module.pk for module in plan.modules.all()] if plan else [],
            search=search,
        )
        shown = groups.select_related(None).only("name", "weekday", "start_time", "module_id")
        offered = list(shown[: queries.OFFERED_GROUPS + 1])
    return {
        "offered_groups": offered[: queries.OFFERED_GROUPS],
        "more_groups": len(offered) > queries.OFFERED_GROUPS,
        "group_search": search,
    }


def course_context(request: HttpRequest, course: Course) -> dict:
    """What the course page shows of the pathway and the treatment (a higher app adds more)."""
    meetings = list(coordination_queries.course_meetings(course))
    is_clinic = request.user.is_clinic_staff
    plan = _one_to_one(course, "plan")
    return {
        **_offered_groups(request, course, plan),
        "course": course,
        "meetings": meetings,
        "timeline": coordination_queries.timeline(course, meetings),
        "hours": queries.course_hours(course),
        "plan": plan,
        "enrolments": course.enrolments.select_related("group__module").order_by("-starts_on"),
        "appointments": course.appointments.select_related("clinician", "no_show_reason").order_by(
            "-starts_at"
        ),
        "is_clinic": is_clinic,
        "formulation": _one_to_one(course, "case_formulation") if is_clinic else None,
        # Its group choices are the offered groups above, not every open group of the clinic:
        # posting it checks the group against all of them.
        "enrol_form": EnrolForm(groups=Group.objects.none()) if is_clinic else None,
        "appointment_statuses": AttendanceStatus.choices,
        "no_show_reasons": NoShowReason.objects.filter(active=True) if is_clinic else [],
    }


def get_course(request: HttpRequest, pk: int) -> Course:
    """The course for its page: within the user's reach (404 otherwise), its look
    access-logged, with the treatment plan (and, for the clinic, the case formulation)
    joined in the same query."""
    # The case formulation is clinical: never fetched for a coordinator.
    joined = ("plan", "case_formulation") if request.user.is_clinic_staff else ("plan",)
    courses = referral_queries.course_for_detail(request.user).select_related(*joined)
    course = get_for_user_or_404(courses.prefetch_related("plan__modules"), request.user, pk=pk)
    log_patient_access(request, course.patient, what="course")
    return course


def _one_to_one(course: Course, name: str):
    """The course's plan or case formulation as joined by ``get_course``; None if none."""
    try:
        return getattr(course, name)
    except ObjectDoesNotExist:
        return None


@require_POST
@role_required(*CLINIC_AND_COORDINATORS)
def course_enrol(request: HttpRequest, pk: int) -> HttpResponse:
    course = _course(request, pk)
    require_clinic_staff(request.user)
    form = EnrolForm(request.POST, groups=_groups_open_for(course))
    if form.is_valid():
        try:
            result = services.enrol(
                course,
                form.cleaned_data["group"],
                by=request.user,
                starts_on=form.cleaned_data["starts_on"],
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            if isinstance(result, WaitingListEntry):
                messages.warning(
                    request, _("The group is full; the patient is on its waiting list.")
                )
            else:
                messages.success(request, _("The patient has joined the group."))
    else:
        messages.error(request, _("Choose a group and a start date."))
    return redirect("course_detail", pk=course.pk)


def _enrolment(request: HttpRequest, pk: int) -> Enrolment:
    try:
        return Enrolment.objects.for_user(request.user).select_related("course", "group").get(pk=pk)
    except (Enrolment.DoesNotExist, ValueError) as error:
        raise Http404 from error


@require_POST
@role_required(*CLINIC)
def enrolment_end(request: HttpRequest, pk: int) -> HttpResponse:
    enrolment = _enrolment(request, pk)
    form = EndEnrolmentForm(request.POST)
    if form.is_valid():
        try:
            waiting = services.end_enrolment(
                enrolment,
                by=request.user,
                ends_on=form.cleaned_data["ends_on"],
                seen=form.cleaned_data["seen"],
            )
        except StaleRecord:
            messages.error(request, CHANGED_NOT_SAVED)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("The patient has left the group."))
            if waiting:
                messages.info(
                    request, _("A seat is free: offer it to the first on the waiting list.")
                )
    else:
        _say_refused(request, form, _("Give the last day in the group as a date."))
    return redirect("course_detail", pk=enrolment.course_id)


@require_POST
@role_required(*CLINIC)
def enrolment_switch(request: HttpRequest, pk: int) -> HttpResponse:
    enrolment = _enrolment(request, pk)
    form = SwitchForm(request.POST, groups=_groups_open_for(enrolment.course))
    if form.is_valid():
        try:
            services.switch_group(
                enrolment,
                form.cleaned_data["group"],
                by=request.user,
                on=form.cleaned_data["on"],
                seen=form.cleaned_data["seen"],
            )
        except StaleRecord:
            messages.error(request, CHANGED_NOT_SAVED)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("The patient has switched group."))
    else:
        _say_refused(request, form, _("Choose the new group and the date."))
    return redirect("course_detail", pk=enrolment.course_id)


@require_POST
@role_required(*CLINIC)
def waiting_enrol(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        entry = WaitingListEntry.objects.select_related("group").get(
            pk=pk, course__in=Course.objects.for_user(request.user)
        )
    except (WaitingListEntry.DoesNotExist, ValueError) as error:
        raise Http404 from error
    try:
        services.enrol_from_waiting_list(entry, by=request.user, starts_on=timezone.localdate())
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The waiting patient has the seat."))
    return redirect("modules:group_detail", pk=entry.group_id)


# --- Groups and sessions -----------------------------------------------------------------------


@role_required(*CLINIC)
def group_list(request: HttpRequest) -> HttpResponse:
    """The groups, and a week calendar of groups and rooms."""
    try:
        chosen = date.fromisoformat(request.GET.get("week", ""))
    except ValueError:
        chosen = timezone.localdate()
    monday = chosen - timedelta(days=chosen.weekday())
    context = {
        "groups": paginate(request, queries.groups_with_seats()),
        "week": queries.week_grid(monday),
        "monday": monday,
        "previous_week": monday - timedelta(weeks=1),
        "next_week": monday + timedelta(weeks=1),
        "iso_week": monday.isocalendar()[1],
    }
    return render(request, "modules/group_list.html", context)


@role_required(*CLINIC)
def group_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        group = Group.objects.select_related("module").prefetch_related("therapists").get(pk=pk)
    except (Group.DoesNotExist, ValueError) as error:
        raise Http404 from error
    today = timezone.localdate()
    context = {
        "group": group,
        "enrolments": list(
            group.enrolments.holding_seat()
            .select_related("course__patient")
            .order_by("course__patient__name")
        ),
        "waiting": list(
            group.waiting_list.filter(status=WaitingListEntry.Status.WAITING).select_related(
                "course__patient"
            )
        ),
        "sessions": group.sessions.filter(starts_at__date__gte=today - timedelta(days=14)).order_by(
            "starts_at"
        )[:20],
    }
    seen = [e.course.patient for e in context["enrolments"]] + [
        w.course.patient for w in context["waiting"]
    ]
    log_patient_accesses(request, seen, what="group")
    return render(request, "modules/group_detail.html", context)


@require_POST
@role_required(*CLINIC)
def group_generate(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        group = Group.objects.get(pk=pk)
    except (Group.DoesNotExist, ValueError) as error:
        raise Http404 from error
    created = services.generate_sessions(group)
    messages.success(request, _("%(count)d sessions added.") % {"count": len(created)})
    return redirect("modules:group_detail", pk=group.pk)


def _session(pk: int) -> Session:
    try:
        return Session.objects.select_related("group__module").get(pk=pk)
    except (Session.DoesNotExist, ValueError) as error:
        raise Http404 from error


@role_required(*CLINIC)
def session_attendance(request: HttpRequest, pk: int) -> HttpResponse:
    """One tap per participant; each tap is saved without reloading (htmx)."""
    session = _session(pk)
    participants = queries.session_participants(session)
    # One insert for all participants, so a full group costs the same queries as one patient.
    log_patient_accesses(
        request, [row["course"].patient for row in participants], what="session attendance"
    )
    context = {
        "session": session,
        "participants": participants,
        "statuses": AttendanceStatus.choices,
    }
    return render(request, "modules/session_attendance.html", context)


@require_POST
@role_required(*CLINIC)
def session_tap(request: HttpRequest, pk: int) -> HttpResponse:
    session = _session(pk)
    form = AttendanceTapForm(request.POST)
    if not form.is_valid():
        # A tap without the record's fingerprint is told to reload the page (ShowsSeenErrors).
        message = " ".join(form.non_field_errors()) or _("Unknown attendance.")
        return HttpResponse(message, status=400)
    course = get_for_user_or_404(
        Course.objects.select_related("patient"), request.user, pk=form.cleaned_data["course"]
    )
    error = ""
    try:
        record = services.record_attendance(
            session,
            course,
            by=request.user,
            status=form.cleaned_data["status"],
            seen=form.cleaned_data["seen"],
        )
    except StaleRecord as exc:
        # The row shows the status saved now and carries its fingerprint for the next tap.
        record = exc.current
        error = str(ATTENDANCE_CHANGED)
    except ValidationError as exc:
        record = session.attendance.filter(course=course).first()
        error = " ".join(exc.messages)
    context = {
        "session": session,
        "row": {"course": course, "attendance": record},
        "statuses": AttendanceStatus.choices,
        "error": error,
    }
    status = 400 if error else 200
    if request.htmx:
        return render(
            request, "modules/session_attendance.html#participant", context, status=status
        )
    if error:
        messages.error(request, error)
    return redirect("modules:session_attendance", pk=session.pk)


@require_POST
@role_required(*CLINIC)
def session_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    session = _session(pk)
    form = CancelSessionForm(request.POST)
    if not form.is_valid():
        _say_refused(request, form)
    else:
        try:
            services.cancel_session(session, by=request.user, seen=form.cleaned_data["seen"])
        except StaleRecord:
            messages.error(request, SESSION_CHANGED)
        else:
            messages.success(request, _("The session is cancelled."))
    return redirect("modules:group_detail", pk=session.group_id)


@role_required(*CLINIC)
def session_move(request: HttpRequest, pk: int) -> HttpResponse:
    session = _session(pk)
    form = MoveSessionForm(
        request.POST if request.method == "POST" else None,
        initial={
            "starts_at": timezone.localtime(session.starts_at),
            "room": session.room,
            "seen": fingerprint(session),
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.move_session(session, by=request.user, **form.cleaned_data)
        except StaleRecord as error:
            if error.current is None:
                raise Http404 from error
            # Show the session as saved now; the form keeps the time and room typed.
            session = error.current
            form.add_error(None, error)
            carry_current(form, error)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("The session is moved."))
            return redirect("modules:group_detail", pk=session.group_id)
    context = {"session": session, "form": form}
    return render(request, "modules/session_move.html", context, status=400 if form.errors else 200)


# --- Appointments ----------------------------------------------------------------------------


@role_required(*CLINIC_AND_COORDINATORS)
def appointment_new(request: HttpRequest, pk: int) -> HttpResponse:
    course = _course(request, pk)
    require_clinic_staff(request.user)
    form = AppointmentForm(
        request.POST or None,
        initial={"clinician": request.user.pk if request.user.is_clinician else None},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.book_appointment(course, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("The appointment is booked."))
            return redirect("course_detail", pk=course.pk)
    log_patient_access(request, course.patient, what="course")
    return render(request, "modules/appointment_form.html", {"course": course, "form": form})


@require_POST
@role_required(*CLINIC)
def appointment_attendance(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        appointment = Appointment.objects.for_user(request.user).get(pk=pk)
    except (Appointment.DoesNotExist, ValueError) as error:
        raise Http404 from error
    form = AppointmentAttendanceForm(request.POST)
    if form.is_valid():
        try:
            services.record_appointment_attendance(
                appointment, by=request.user, **form.cleaned_data
            )
        except StaleRecord:
            messages.error(request, CHANGED_NOT_SAVED)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("The attendance is saved."))
    else:
        _say_refused(request, form, _("Choose the attendance."))
    return redirect("course_detail", pk=appointment.course_id)


# --- Case formulation and plan ------------------------------------------------------------------


@role_required(*CLINIC_AND_COORDINATORS)
def formulation_edit(request: HttpRequest, pk: int) -> HttpResponse:
    course = _course(request, pk)
    require_clinic_staff(request.user)
    current = CaseFormulation.objects.filter(course=course).first()
    initial = {"version": current.version if current else 0}
    if current:
        initial |= {
            name: getattr(current, name) for name in services.Formulation.__dataclass_fields__
        }
    form = FormulationForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        version = data.pop("version")
        try:
            services.save_case_formulation(
                course, by=request.user, version=version, text=services.Formulation(**data)
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("The case formulation is saved."))
            return redirect("course_detail", pk=course.pk)
    log_patient_access(request, course.patient, what="case formulation")
    context = {"course": course, "form": form, "current": current}
    return render(
        request, "modules/formulation_form.html", context, status=400 if form.errors else 200
    )


@role_required(*CLINIC_AND_COORDINATORS)
def plan_edit(request: HttpRequest, pk: int) -> HttpResponse:
    course = _course(request, pk)
    require_clinic_staff(request.user)
    current = TreatmentPlan.objects.filter(course=course).prefetch_related("modules").first()
    initial = {
        "version": current.version if current else 0,
        "intensity": TreatmentPlan.Intensity.MEDIUM,
    }
    if current:
        initial |= {
            "modules": list(current.modules.all()),
            "goals": current.goals,
            "intensity": current.intensity,
        }
    form = PlanForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            services.save_plan(
                course,
                by=request.user,
                version=data.pop("version"),
                modules=list(data.pop("modules")),
                **data,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("The treatment plan is saved."))
            return redirect("course_detail", pk=course.pk)
    log_patient_access(request, course.patient, what="treatment plan")
    context = {"course": course, "form": form, "current": current}
    return render(request, "modules/plan_form.html", context, status=400 if form.errors else 200)


# --- The clinician's day -----------------------------------------------------------------------


@role_required(*CLINIC)
def today(request: HttpRequest) -> HttpResponse:
    """Today's sessions and appointments of the user, and a page of courses to follow up.

    The user's own sessions and appointments are bounded by the day; the clinic's sessions
    grow with its number of groups and the courses to follow up with its patients, so
    those two are paged.
    """
    day = timezone.localdate()
    context = {
        "day": day,
        "sessions": queries.sessions_on(day, therapist=request.user),
        "all_sessions": paginate(request, queries.sessions_on(day), param="sessions_page"),
        "appointments": list(queries.appointments_on(day, clinician=request.user)),
        "follow_up": paginate(
            request, queries.follow_up_courses(request.user), param="follow_up_page"
        ),
    }
    seen = [a.course.patient for a in context["appointments"]] + [
        c.patient for c in context["follow_up"].object_list
    ]
    log_patient_accesses(request, seen, what="today")
    return render(request, "modules/today.html", context)
