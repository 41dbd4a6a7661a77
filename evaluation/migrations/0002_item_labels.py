"""Load the short own-words item labels; the official wording is added later by an admin."""

import operator
from functools import reduce

from django.db import migrations
from django.db.models import Q

from evaluation.item_labels import ITEM_LABELS


# Historical records are not written: the frozen models carry no history manager, and
# the rows start life here, so there is no earlier state to keep.
def load(apps, schema_editor):
    ItemLabel = apps.get_model("evaluation", "ItemLabel")
    ItemLabel.objects.bulk_create(
        ItemLabel(instrument=instrument, number=number, label_da=label_da, label_en=label_en)
        for instrument, number, label_da, label_en in ITEM_LABELS
    )


def unload(apps, schema_editor):
    ItemLabel = apps.get_model("evaluation", "ItemLabel")
    loaded = reduce(
        operator.or_,
        (Q(instrument=instrument, number=number) for instrument, number, _, _ in ITEM_LABELS),
    )
    ItemLabel.objects.filter(loaded).delete()


class Migration(migrations.Migration):
    dependencies = [("evaluation", "0001_measurements_answers_item_labels")]

    operations = [migrations.RunPython(load, unload)]
