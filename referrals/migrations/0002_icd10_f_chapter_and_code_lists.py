"""Load ICD-10 chapter V (F00-F99) and the screening code lists of the design."""

from django.db import migrations

from referrals.icd10_data import CODE_RULES, F_CHAPTER


# Historical records are not written: the frozen models carry no history manager, and
# the rows start life here, so there is no earlier state to keep.
def load(apps, schema_editor):
    DiagnosisCode = apps.get_model("referrals", "DiagnosisCode")
    CodeRule = apps.get_model("referrals", "CodeRule")
    DiagnosisCode.objects.bulk_create(
        DiagnosisCode(code=code, title_da=title_da, title_en=title_en)
        for code, title_da, title_en in F_CHAPTER
    )
    CodeRule.objects.bulk_create(
        CodeRule(category=category, code=code, note=note) for category, code, note in CODE_RULES
    )


def unload(apps, schema_editor):
    DiagnosisCode = apps.get_model("referrals", "DiagnosisCode")
    CodeRule = apps.get_model("referrals", "CodeRule")
    CodeRule.objects.filter(code__in=[code for _, code, _ in CODE_RULES]).delete()
    DiagnosisCode.objects.filter(code__in=[code for code, _, _ in F_CHAPTER]).delete()


class Migration(migrations.Migration):
    dependencies = [("referrals", "0001_patients_referrals_screening_courses")]

    operations = [migrations.RunPython(load, unload)]
