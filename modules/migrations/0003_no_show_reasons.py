"""A first list of reasons for not coming to the first conversation; admins edit it."""

from django.db import migrations

REASONS = [
    "Glemt aftalen",
    "Syg",
    "Ønsker ikke behandling alligevel",
    "Praktiske forhindringer (transport, arbejde)",
    "Tilbagefald/beruselse",
    "Ingen begrundelse givet",
]


def load(apps, schema_editor):
    NoShowReason = apps.get_model("modules", "NoShowReason")
    for name in REASONS:
        NoShowReason.objects.get_or_create(name=name)


def unload(apps, schema_editor):
    apps.get_model("modules", "NoShowReason").objects.filter(name__in=REASONS).delete()


class Migration(migrations.Migration):
    dependencies = [("modules", "0002_treatment_menu")]

    operations = [migrations.RunPython(load, unload)]
