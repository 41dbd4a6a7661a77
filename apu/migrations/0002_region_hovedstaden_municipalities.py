"""Load the 29 municipalities of Region Hovedstaden; five participate from the start."""

from django.db import migrations

from apu.municipalities import MUNICIPALITIES, ensure_region_municipalities


def load(apps, schema_editor):
    ensure_region_municipalities(apps.get_model("apu", "Municipality"))


def unload(apps, schema_editor):
    Municipality = apps.get_model("apu", "Municipality")
    Municipality.objects.filter(code__in=[code for code, _, _ in MUNICIPALITIES]).delete()


class Migration(migrations.Migration):
    dependencies = [("apu", "0001_users_municipalities_accesslog")]

    operations = [migrations.RunPython(load, unload)]
