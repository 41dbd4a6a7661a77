from django import forms
from django.utils.translation import gettext_lazy as _

from apu.models import User
from apu.versioning import SeenField, ShowsSeenErrors
from coordination.models import Action, Discharge, Meeting
from coordination.services import ActionInput
from referrals.forms import DateInput

YES_NO_UNKNOWN = [("", _("Not recorded")), ("yes", _("Yes")), ("no", _("No"))]


def _to_bool(value: str):
    return {"yes": True, "no": False}.get(value)


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class ScheduleForm(ShowsSeenErrors, forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    scheduled_at = forms.DateTimeField(label=_("Time"), widget=DateTimeInput())
    duration_minutes = forms.IntegerField(
        label=_("Duration (minutes)"), min_value=15, max_value=480, initial=60
    )
    place = forms.CharField(label=_("Place"), max_length=200)


class OutcomeForm(ShowsSeenErrors, forms.Form):
    """What happened at the meeting; usable on a tablet during the meeting."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    status = forms.ChoiceField(
        label=_("The meeting was"),
        choices=[
            (Meeting.Status.HELD, _("Held")),
            (Meeting.Status.PATIENT_ABSENT, _("Not held: the patient did not attend")),
            (Meeting.Status.CANCELLED, _("Cancelled")),
        ],
        widget=forms.RadioSelect,
    )
    patient_present = forms.TypedChoiceField(
        label=_("Patient present"),
        choices=YES_NO_UNKNOWN,
        coerce=_to_bool,
        empty_value=None,
        required=False,
        widget=forms.RadioSelect,
    )
    patient_accepted_plan = forms.TypedChoiceField(
        label=_("If absent: the patient accepted the plan"),
        choices=YES_NO_UNKNOWN,
        coerce=_to_bool,
        empty_value=None,
        required=False,
        widget=forms.RadioSelect,
    )
    clinic_staff = forms.ModelMultipleChoiceField(
        label=_("Clinic staff present"),
        queryset=User.objects.filter(role=User.Role.CLINICIAN, is_active=True).order_by(
            "first_name"
        ),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    other_participants = forms.CharField(
        label=_("Other participants"), max_length=300, required=False
    )
    summary = forms.CharField(
        label=_("Summary"),
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        max_length=10000,
    )
    action_plan_status = forms.ChoiceField(
        label=_("Municipal action plan"),
        choices=[("", _("Not recorded")), *Meeting.ActionPlan.choices],
        required=False,
        widget=forms.RadioSelect,
    )
    action_plan_date = forms.DateField(
        label=_("Action plan dated"), widget=DateInput(), required=False
    )
    action_plan_summary = forms.CharField(
        label=_("Action plan in brief"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=5000,
    )
    plan_fit = forms.CharField(
        label=_("How the treatment plan and the action plan fit together"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=5000,
    )
    next_meeting_date = forms.DateField(label=_("Next meeting"), widget=DateInput(), required=False)

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        if user.is_coordinator:
            # Coordinators record who came from the clinic but do not pick clinic users.
            del self.fields["clinic_staff"]

    def service_kwargs(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("version")
        data["action_plan_status"] = data.get("action_plan_status") or ""
        if "clinic_staff" in data:
            data["clinic_staff"] = list(data["clinic_staff"])
        return data

    @classmethod
    def initial_for(cls, meeting: Meeting) -> dict:
        def yes_no(value):
            return {True: "yes", False: "no"}.get(value, "")

        return {
            "version": meeting.version,
            "status": meeting.status
            if meeting.status not in Meeting.OPEN_STATUSES
            else Meeting.Status.HELD,
            "patient_present": yes_no(meeting.patient_present),
            "patient_accepted_plan": yes_no(meeting.patient_accepted_plan),
            "clinic_staff": list(meeting.clinic_staff.all()),
            "other_participants": meeting.other_participants,
            "summary": meeting.summary,
            "action_plan_status": meeting.action_plan_status,
            "action_plan_date": meeting.action_plan_date,
            "action_plan_summary": meeting.action_plan_summary,
            "plan_fit": meeting.plan_fit,
            "next_meeting_date": meeting.next_meeting_date,
        }


class ActionForm(forms.Form):
    what = forms.CharField(label=_("Action"), max_length=300)
    responsible = forms.ChoiceField(
        label=_("Responsible"), choices=[("", "---------"), *Action.Responsible.choices]
    )
    person = forms.CharField(label=_("Named person"), max_length=200, required=False)
    due_date = forms.DateField(label=_("Due"), widget=DateInput(), required=False)

    def to_input(self) -> ActionInput:
        return ActionInput(**self.cleaned_data)


ActionFormSet = forms.formset_factory(ActionForm, extra=3, max_num=20, validate_max=True)


ACTION_DONE_OR_NOT = _("Mark the action done or not done.")


class ActionDoneForm(ShowsSeenErrors, forms.Form):
    """The tick on an agreed action: done ("1") or not done ("0"), nothing else, from the row
    as it was shown (``seen``)."""

    seen = SeenField()
    done = forms.TypedChoiceField(
        choices=[("1", "1"), ("0", "0")],
        coerce=lambda value: value == "1",
        error_messages={"required": ACTION_DONE_OR_NOT, "invalid_choice": ACTION_DONE_OR_NOT},
    )


class ExtraMeetingForm(forms.Form):
    due_date = forms.DateField(label=_("Due"), widget=DateInput())


class DischargeForm(ShowsSeenErrors, forms.Form):
    seen = SeenField()
    date = forms.DateField(label=_("Discharge date"), widget=DateInput())
    kind = forms.ChoiceField(
        label=_("Kind"), choices=Discharge.Kind.choices, widget=forms.RadioSelect
    )
    reason = forms.CharField(
        label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=5000
    )
    meeting_not_held_reason = forms.CharField(
        label=_("Why the discharge meeting was not held"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=5000,
        help_text=_("Only when the course ends without a held discharge meeting."),
    )
