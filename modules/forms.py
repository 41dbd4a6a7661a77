from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apu.models import User
from apu.versioning import SeenField, ShowsSeenErrors
from coordination.forms import DateTimeInput
from modules.models import Appointment, AttendanceStatus, Group, Module, NoShowReason, TreatmentPlan
from referrals.forms import DateInput


class GroupSearchForm(forms.Form):
    """The course page's search for a group to join, by the group's or its module's name."""

    group_search = forms.CharField(required=False)


class EnrolForm(forms.Form):
    group = forms.ModelChoiceField(label=_("Group"), queryset=Group.objects.none())
    starts_on = forms.DateField(label=_("From"), widget=DateInput())

    def __init__(self, *args, groups, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["group"].queryset = groups
        self.initial.setdefault("starts_on", timezone.localdate())


class EndEnrolmentForm(ShowsSeenErrors, forms.Form):
    seen = SeenField()
    ends_on = forms.DateField(label=_("Last day"), widget=DateInput())


class SwitchForm(ShowsSeenErrors, forms.Form):
    seen = SeenField()
    group = forms.ModelChoiceField(label=_("New group"), queryset=Group.objects.none())
    on = forms.DateField(label=_("From"), widget=DateInput())

    def __init__(self, *args, groups, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["group"].queryset = groups


class AppointmentForm(forms.Form):
    clinician = forms.ModelChoiceField(
        label=_("Clinician"),
        queryset=User.objects.filter(role=User.Role.CLINICIAN, is_active=True).order_by(
            "first_name"
        ),
    )
    starts_at = forms.DateTimeField(label=_("Time"), widget=DateTimeInput())
    duration_minutes = forms.IntegerField(
        label=_("Duration (minutes)"), min_value=15, max_value=240, initial=60
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=Appointment.Kind.choices)


class AppointmentAttendanceForm(ShowsSeenErrors, forms.Form):
    seen = SeenField()
    status = forms.ChoiceField(label=_("Attendance"), choices=AttendanceStatus.choices)
    no_show_reason = forms.ModelChoiceField(
        label=_("Reason given"), queryset=NoShowReason.objects.filter(active=True), required=False
    )


class AttendanceTapForm(ShowsSeenErrors, forms.Form):
    # The fingerprint of the participant's record as the row showed it ("absent" before the
    # first tap), so a tap does not overwrite what another therapist recorded meanwhile.
    seen = SeenField()
    course = forms.IntegerField(min_value=1)
    status = forms.ChoiceField(choices=AttendanceStatus.choices)


class FormulationForm(ShowsSeenErrors, forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)
    situations = forms.CharField(
        label=_("Difficult situations"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=10000,
    )
    actions = forms.CharField(
        label=_("What the patient does"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=10000,
    )
    consequences = forms.CharField(
        label=_("Consequences"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=10000,
    )
    alternatives = forms.CharField(
        label=_("Alternative actions and new coping strategies"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=10000,
    )
    goals_and_values = forms.CharField(
        label=_("The patient's own goals and values"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=10000,
    )


class PlanForm(ShowsSeenErrors, forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)
    modules = forms.ModelMultipleChoiceField(
        label=_("Modules chosen with the patient"),
        queryset=Module.objects.filter(active=True),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    goals = forms.CharField(
        label=_("Goals"), widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=10000
    )
    intensity = forms.ChoiceField(
        label=_("Intensity"), choices=TreatmentPlan.Intensity.choices, widget=forms.RadioSelect
    )


class CancelSessionForm(ShowsSeenErrors, forms.Form):
    """The cancel button of a session: only the session as the page showed it is cancelled."""

    seen = SeenField()


class MoveSessionForm(ShowsSeenErrors, forms.Form):
    seen = SeenField()
    starts_at = forms.DateTimeField(label=_("Time"), widget=DateTimeInput())
    room = forms.CharField(label=_("Room"), max_length=80)
