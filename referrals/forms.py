import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apu.models import Municipality, User
from apu.versioning import SeenField, ShowsSeenErrors
from referrals.cpr import parse_cpr
from referrals.models import Decision, Referral, Screening, Severity
from referrals.services import PatientDetails, check_dates, normalize_codes

DIAGNOSIS_FIELDS = [f"diagnosis_{n}" for n in range(1, 6)]
MODULUS11_WARNING = _(
    "The CPR number does not pass the modulus-11 check. Numbers issued since 2007 may fail it, "
    "so it is accepted; check that it is typed correctly."
)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class ReferralForm(forms.Form):
    """A new referral: CPR first, the patient, the referrer, diagnoses and conditions."""

    cpr = forms.CharField(
        label=_("CPR number"),
        max_length=11,
        help_text=_("DDMMYY-SSSS; finds an existing patient."),
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "inputmode": "numeric", "autofocus": True}
        ),
    )
    name = forms.CharField(label=_("Name"), max_length=200)
    municipality = forms.ModelChoiceField(
        label=_("Municipality"), queryset=Municipality.objects.order_by("name")
    )
    address = forms.CharField(label=_("Address"), max_length=300, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=30, required=False)
    email = forms.EmailField(label=_("E-mail"), required=False)
    first_contact = forms.DateField(
        label=_("First contact"),
        widget=DateInput(),
        help_text=_("The intake meeting clock starts on this day."),
    )
    received = forms.DateField(label=_("Referral received"), widget=DateInput())
    referrer_kind = forms.ChoiceField(label=_("Referred by"), choices=Referral.ReferrerKind.choices)
    referrer_name = forms.CharField(label=_("Referrer's name"), max_length=200, required=False)
    referrer_organisation = forms.CharField(
        label=_("Referrer's organisation"), max_length=200, required=False
    )
    diagnosis_1 = forms.CharField(label=_("Diagnosis 1"), max_length=10)
    diagnosis_2 = forms.CharField(label=_("Diagnosis 2"), max_length=10, required=False)
    diagnosis_3 = forms.CharField(label=_("Diagnosis 3"), max_length=10, required=False)
    diagnosis_4 = forms.CharField(label=_("Diagnosis 4"), max_length=10, required=False)
    diagnosis_5 = forms.CharField(label=_("Diagnosis 5"), max_length=10, required=False)
    in_municipal_substance_treatment = forms.TypedChoiceField(
        label=_("In treatment at the municipal rusmiddelcenter now?"),
        choices=[("yes", _("Yes")), ("no", _("No"))],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
    )
    substitution_treatment = forms.ChoiceField(
        label=_("Opioid substitution treatment"),
        choices=Referral.Substitution.choices,
        initial=Referral.Substitution.NONE,
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label=_("Reason for referral"), widget=forms.Textarea(attrs={"rows": 4}), required=False
    )
    mental_severity = forms.ChoiceField(
        label=_("Severity of the mental disorder"),
        choices=Severity.choices,
        widget=forms.RadioSelect,
        required=False,
        help_text=_("Quadrant model. Both axes complete the screening."),
    )
    substance_severity = forms.ChoiceField(
        label=_("Severity of the substance use"),
        choices=Severity.choices,
        widget=forms.RadioSelect,
        required=False,
    )

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.cpr_warning = ""
        self.parsed_cpr = None
        for name in DIAGNOSIS_FIELDS:
            self.fields[name].widget.attrs.update(
                {"list": "icd10-codes", "autocomplete": "off", "class": "code-input"}
            )
        if not self.is_bound:
            self.initial.setdefault("received", timezone.localdate())
        if user.is_coordinator:
            # A coordinator refers citizens of their own municipality; the clinic screens.
            self.fields["municipality"].queryset = Municipality.objects.filter(
                pk=user.municipality_id
            )
            self.fields["municipality"].initial = user.municipality_id
            self.fields["municipality"].empty_label = None
            del self.fields["mental_severity"], self.fields["substance_severity"]
        else:
            # Participating municipalities first: they are the ones that can be referred.
            self.fields["municipality"].queryset = Municipality.objects.order_by(
                "-participating", "name"
            )

    def clean_cpr(self) -> str:
        cpr = parse_cpr(self.cleaned_data["cpr"])
        self.parsed_cpr = cpr
        if not cpr.modulus11_ok:
            self.cpr_warning = MODULUS11_WARNING
        return cpr.digits

    def clean(self):
        cleaned = super().clean()
        values = [cleaned.get(name, "") for name in DIAGNOSIS_FIELDS]
        entered = [value for value in values if value]
        if entered:
            try:
                cleaned["diagnosis_codes"] = normalize_codes(entered)
            except ValidationError as error:
                self.add_error("diagnosis_1", error)
        first_contact, received = cleaned.get("first_contact"), cleaned.get("received")
        if first_contact and received:
            try:
                check_dates(first_contact=first_contact, received=received)
            except ValidationError as error:
                self.add_error(None, error)
        if bool(cleaned.get("mental_severity")) != bool(cleaned.get("substance_severity")):
            self.add_error(
                "substance_severity", _("Record both severity axes, or neither for now.")
            )
        return cleaned

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "patient": PatientDetails(
                cpr=data["cpr"],
                name=data["name"],
                municipality=data["municipality"],
                address=data["address"],
                phone=data["phone"],
                email=data["email"],
            ),
            "first_contact": data["first_contact"],
            "received": data["received"],
            "referrer_kind": data["referrer_kind"],
            "referrer_name": data["referrer_name"],
            "referrer_organisation": data["referrer_organisation"],
            "diagnosis_codes": data["diagnosis_codes"],
            "in_municipal_substance_treatment": data["in_municipal_substance_treatment"],
            "substitution_treatment": data["substitution_treatment"],
            "reason": data["reason"],
            "mental_severity": data.get("mental_severity", ""),
            "substance_severity": data.get("substance_severity", ""),
        }


class ScreeningForm(ShowsSeenErrors, forms.Form):
    """The clinician records the quadrant-model axes and screens again."""

    seen = SeenField()
    mental_severity = forms.ChoiceField(
        label=_("Severity of the mental disorder"),
        choices=Severity.choices,
        widget=forms.RadioSelect,
    )
    substance_severity = forms.ChoiceField(
        label=_("Severity of the substance use"), choices=Severity.choices, widget=forms.RadioSelect
    )


class DecisionForm(ShowsSeenErrors, forms.Form):
    """Accept, reject or withdraw the referral as the page showed it."""

    seen = SeenField()
    kind = forms.ChoiceField(
        label=_("Decision"), choices=Decision.Kind.choices, widget=forms.RadioSelect
    )
    reason = forms.CharField(
        label=_("Reason"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=4000,
        help_text=_("Required when rejecting, and when the decision goes against the screening."),
    )


OPEN = "open"


class ReferralFilter(django_filters.FilterSet):
    """Worklist filters: status (open by default), municipality, screening outcome, search."""

    status = django_filters.ChoiceFilter(
        label=_("Status"),
        choices=[(OPEN, _("Open (awaiting screening or decision)")), *Referral.Status.choices],
        method="filter_status",
        empty_label=_("All"),
    )
    municipality = django_filters.ModelChoiceFilter(
        label=_("Municipality"),
        field_name="patient__municipality",
        queryset=Municipality.objects.filter(participating=True),
        empty_label=_("All"),
    )
    outcome = django_filters.ChoiceFilter(
        label=_("Screening"),
        field_name="latest_outcome",
        choices=Screening.Outcome.choices,
        empty_label=_("All"),
    )
    q = django_filters.CharFilter(label=_("Name or full CPR number"), method="filter_search")

    class Meta:
        model = Referral
        fields = []

    def __init__(self, data=None, *args, user: User, **kwargs):
        if data is not None and "status" not in data:
            data = data.copy()
            data["status"] = OPEN
        super().__init__(data, *args, **kwargs)
        if user.is_coordinator:
            del self.filters["municipality"], self.filters["outcome"]

    def filter_status(self, queryset, name, value):
        if value == OPEN:
            return queryset.filter(status__in=Referral.OPEN_STATUSES)
        return queryset.filter(status=value)

    def filter_search(self, queryset, name, value):
        value = value.strip()
        digits = value.replace("-", "")
        if len(digits) == 10 and digits.isdigit():
            return queryset.filter(patient__cpr=digits)
        return queryset.filter(Q(patient__name__icontains=value))
