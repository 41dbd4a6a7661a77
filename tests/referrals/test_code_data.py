import re

import pytest

from referrals.icd10_data import CODE_RULES, F_CHAPTER
from referrals.models import CodeRule, DiagnosisCode

pytestmark = pytest.mark.django_db

NORMAL_FORM = re.compile(r"^F[0-9]{2}(\.[0-9]{1,2})?$")


def test_every_chapter_code_is_in_normal_form_and_unique():
    codes = [code for code, _, _ in F_CHAPTER]
    assert [code for code in codes if not NORMAL_FORM.match(code)] == []
    assert len(codes) == len(set(codes))


def test_every_chapter_code_has_both_titles():
    assert [code for code, da, en in F_CHAPTER if not da.strip() or not en.strip()] == []


def test_every_rule_code_is_unique():
    codes = [code for _, code, _ in CODE_RULES]
    assert len(codes) == len(set(codes))


def test_every_rule_code_exists_as_a_diagnosis_code():
    known = set(DiagnosisCode.objects.values_list("code", flat=True))
    missing = [
        code
        for code in CodeRule.objects.values_list("code", flat=True)
        if code not in known and code.split(".")[0] not in known
    ]
    assert missing == []


def test_the_database_holds_exactly_the_lists():
    assert DiagnosisCode.objects.count() == len(F_CHAPTER)
    assert CodeRule.objects.count() == len(CODE_RULES)
    assert set(CodeRule.objects.values_list("category", "code", "note")) == set(CODE_RULES)


def test_nonexistent_categories_are_absent_and_f99_present():
    codes = set(DiagnosisCode.objects.values_list("code", flat=True))
    assert codes.isdisjoint({"F08", "F26", "F27", "F35", "F46", "F67", "F74", "F85", "F96"})
    assert "F99" in codes


def test_spot_checks():
    assert "moderate" in DiagnosisCode.objects.get(code="F32.1").title_en
    assert DiagnosisCode.objects.filter(code="F60.31").exists()
    assert CodeRule.objects.get(code="F17").category == "never"
    assert CodeRule.objects.get(code="F20").category == "exclusion"
    assert CodeRule.objects.get(code="F10.2").category == "substance"
    assert CodeRule.objects.get(code="F18").category == "review"
