from django import forms
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from evaluation.instruments import INSTRUMENTS
from evaluation.item_labels import answer_scale
from evaluation.models import ItemLabel, Measurement
from referrals.forms import DateInput


def answer_labels(instrument: str, number: int) -> list[tuple[int, str]]:
    """The answer options of an item as (value, "value · short label") in the user's language."""
    english = (get_language() or "da").startswith("en")
    return [
        (value, f"{value} · {label_en if english else label_da}")
        for value, label_da, label_en in answer_scale(instrument, number)
    ]


class MeasurementForm(forms.Form):
    """One questionnaire: a row of radio buttons per item, easy to fill with the keyboard."""

    point = forms.ChoiceField(label=_("Measurement point"), choices=Measurement.Point.choices)
    answered_on = forms.DateField(label=_("Answered on"), widget=DateInput())

    def __init__(self, *args, instrument: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.instrument = instrument
        self.initial.setdefault("answered_on", timezone.localdate())
        labels = {item.number: item for item in ItemLabel.objects.filter(instrument=instrument)}
        for number in range(1, len(INSTRUMENTS[instrument].items) + 1):
            label = labels.get(number)
            field = forms.TypedChoiceField(
                label=f"{number}. {label.text}" if label else str(number),
                choices=answer_labels(instrument, number),
                coerce=int,
                widget=forms.RadioSelect(attrs={"class": "answer"}),
            )
            if instrument == "PHQ-9" and number == 9:
                # app.js shows the safety warning as soon as an answer above 0 is chosen.
                field.widget.attrs["data-warn-above-zero"] = "item9-warning"
            self.fields[f"item_{number}"] = field

    @property
    def item_fields(self):
        return [self[name] for name in self.fields if name.startswith("item_")]

    def answers(self) -> list[int]:
        return [self.cleaned_data[name] for name in self.fields if name.startswith("item_")]


class ImprovementNoteForm(forms.Form):
    date = forms.DateField(label=_("Date of the change"), widget=DateInput())
    title = forms.CharField(label=_("Change"), max_length=120)
    description = forms.CharField(
        label=_("What was changed and why"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=5000,
    )
