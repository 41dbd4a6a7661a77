"""Every model's get_<field>_display() answers as Django's would, from its cached labels."""

import pytest
from django.apps import apps
from django.utils import translation

from apu.choices import ChoiceLabels

OUR_APPS = ("apu", "referrals", "coordination", "modules", "evaluation")


def models_with_choices():
    for model in apps.get_models():
        if model._meta.app_label not in OUR_APPS or model.__name__.startswith("Historical"):
            continue
        fields = [field for field in model._meta.concrete_fields if field.choices]
        if fields:
            yield model, fields


CASES = [
    pytest.param(model, field, value, id=f"{model.__name__}.{field.name}={value}")
    for model, fields in models_with_choices()
    for field in fields
    for value, _label in field.flatchoices
]


def test_every_model_with_choices_uses_the_cached_labels():
    missing = [
        model.__name__ for model, _f in models_with_choices() if not issubclass(model, ChoiceLabels)
    ]
    assert missing == []


@pytest.mark.parametrize("language", ["da", "en"])
@pytest.mark.parametrize("model,field,value", CASES)
def test_a_choice_shows_its_label_in_the_readers_language(model, field, value, language):
    row = model(**{field.attname: value})
    with translation.override(language):
        expected = str(dict(field.flatchoices)[value])
        assert getattr(row, f"get_{field.name}_display")() == expected


@pytest.mark.parametrize(
    "value,shown",
    [
        pytest.param("not-a-choice", "not-a-choice", id="unknown-value-shown-as-is"),
        pytest.param("", "", id="empty"),
        pytest.param(None, None, id="none"),
    ],
)
def test_a_value_that_is_no_choice_is_shown_as_it_is(value, shown):
    from coordination.models import Meeting

    assert Meeting(status=value).get_status_display() == shown


def test_the_label_follows_the_language_of_each_call():
    from coordination.models import Meeting

    meeting = Meeting(status=Meeting.Status.PLANNED)
    with translation.override("en"):
        english = meeting.get_status_display()
    with translation.override("da"):
        danish = meeting.get_status_display()

    assert english == "Planned"
    assert danish != english
