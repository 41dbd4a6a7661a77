"""The design's treatment menu; admins edit it afterwards."""

from django.db import migrations

# (name, category, is_group, duration minutes, therapists, normed group size, description)
MENU = [
    ("Recoverygruppe", "recovery", True, 120, 2, 8,
     "Åben gruppe ledet af en kliniker og en recovery-mentor."),
    ("Adfærdsaktivering", "cbt", True, 120, 2, 8, "KAT-gruppe om aktivitet og humør."),
    ("Tænkestil", "cbt", True, 120, 2, 8, "KAT-gruppe om tankemønstre."),
    ("Flow", "cbt", True, 120, 2, 8, "KAT-gruppe om engagement og flow."),
    ("Compassion", "cbt", True, 120, 2, 8, "KAT-gruppe om selvmedfølelse."),
    ("Robusthed", "cbt", True, 120, 2, 8, "KAT-gruppe om at stå imod pres og tilbagefald."),
    ("Værdier", "cbt", True, 120, 2, 8, "KAT-gruppe om det, der er vigtigt for borgeren."),
    ("Vedholdenhed", "skills", True, 90, 2, 8, "Færdighedsgruppe om at holde fast."),
    ("Opmærksomhed", "skills", True, 90, 2, 8, "Færdighedsgruppe om opmærksomhed."),
    ("Følelsesregulering", "skills", True, 90, 2, 8, "Færdighedsgruppe om at rumme og styre følelser."),
    ("Relationer", "skills", True, 90, 2, 8, "Færdighedsgruppe om samspil med andre."),
    ("Basic Body Awareness Therapy", "body", True, 60, 1, 8, "Kropsbevidsthed ved fysioterapeut."),
    ("Yoga", "body", True, 60, 1, 8, "Kropsorienteret gruppe."),
    ("Mindfulness", "body", True, 60, 1, 8, "Kropsorienteret gruppe."),
    ("Individuelle samtaler", "individual", False, 60, 1, 1, "Samtaler med én behandler."),
    ("Recovery-skolen: kursus", "recovery_school", True, 120, 2, 12, "Kursus i Recovery-skolen."),
]  # fmt: skip


def load(apps, schema_editor):
    Module = apps.get_model("modules", "Module")
    for name, category, is_group, duration, therapists, size, description in MENU:
        Module.objects.get_or_create(
            name=name,
            defaults={
                "category": category,
                "is_group": is_group,
                "default_duration_minutes": duration,
                "default_therapists": therapists,
                "normed_group_size": size,
                "description": description,
            },
        )


def unload(apps, schema_editor):
    apps.get_model("modules", "Module").objects.filter(name__in=[row[0] for row in MENU]).delete()


class Migration(migrations.Migration):
    dependencies = [("modules", "0001_menu_groups_sessions_attendance_plans")]

    operations = [migrations.RunPython(load, unload)]
