"""Who may be referred: every screening criterion with its pass, fail and review cases.

The municipalities and the code lists come from the data migrations, as in production.
"""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from apu.models import Municipality
from referrals.models import CodeRule, Screening, ScreeningCriterion
from referrals.screening import screen
from tests.referrals.factories import register

pytestmark = pytest.mark.django_db

CRITERIA_KEYS = [
    "municipality",
    "adult",
    "mental_disorder",
    "substance_use",
    "no_exclusion",
    "other_codes",
    "municipal_treatment",
    "substitution",
]
QUALIFYING = ["F32.1", "F10.2"]  # moderate depression and alcohol dependence


def screen_with(**overrides):
    """Screen an eligible Ballerup citizen, 35 years old, with ``overrides`` applied."""
    inputs = {
        "municipality_code": "151",
        "diagnosis_codes": QUALIFYING,
        "birth_date": date(1990, 5, 17),
        "referral_date": date(2026, 3, 2),
        "in_municipal_substance_treatment": True,
        "substitution_treatment": "none",
    } | overrides
    return screen(**inputs)


def outcomes(result) -> dict[str, str]:
    return {item.key: item.outcome for item in result.criteria}


def reason(result, key: str) -> str:
    with translation.override("en"):
        return result.criterion(key).reason


def test_a_qualifying_referral_is_eligible_with_every_criterion_passed():
    result = screen_with()

    assert result.outcome == "eligible"
    assert [item.key for item in result.criteria] == CRITERIA_KEYS
    assert set(outcomes(result).values()) == {"pass"}
    assert result.codes == {"F10.2": "substance", "F32.1": "mental"}


# --- 1. Lives in a participating municipality -------------------------------------------


@pytest.mark.parametrize(
    ("code", "name"),
    [
        pytest.param("151", "Ballerup", id="ballerup"),
        pytest.param("159", "Gladsaxe", id="gladsaxe"),
        pytest.param("163", "Herlev", id="herlev"),
        pytest.param("173", "Lyngby-Taarbæk", id="lyngby-taarbaek"),
        pytest.param("230", "Rudersdal", id="rudersdal"),
    ],
)
def test_a_citizen_of_a_participating_municipality_passes(code, name):
    result = screen_with(municipality_code=code)

    assert result.criterion("municipality").outcome == "pass"
    assert name in reason(result, "municipality")
    assert result.outcome == "eligible"


@pytest.mark.parametrize(
    ("code", "named"),
    [
        pytest.param("101", "København", id="koebenhavn-not-participating"),
        pytest.param("400", "Bornholm", id="bornholm-not-participating"),
        pytest.param("999", "999", id="unknown-code"),
        pytest.param("", "", id="empty-code"),
    ],
)
def test_a_citizen_of_another_municipality_fails(code, named):
    result = screen_with(municipality_code=code)

    assert result.criterion("municipality").outcome == "fail"
    assert named in reason(result, "municipality")
    assert result.outcome == "ineligible"


def test_switching_participation_on_admits_the_municipality_at_the_next_screening():
    assert screen_with(municipality_code="101").criterion("municipality").outcome == "fail"

    Municipality.objects.filter(code="101").update(participating=True)

    assert screen_with(municipality_code="101").criterion("municipality").outcome == "pass"


# --- 2. Adult on the referral date --------------------------------------------------------


@pytest.mark.parametrize(
    ("birth_date", "referral_date", "expected", "age"),
    [
        pytest.param(date(2008, 3, 2), date(2026, 3, 1), "fail", 17, id="17-day-before-18th"),
        pytest.param(date(2008, 3, 2), date(2026, 3, 2), "pass", 18, id="18-on-the-birthday"),
        pytest.param(date(2008, 3, 2), date(2026, 3, 3), "pass", 18, id="18-day-after"),
        pytest.param(date(2008, 12, 31), date(2026, 12, 30), "fail", 17, id="17-at-year-end"),
        pytest.param(date(2008, 2, 29), date(2026, 2, 28), "fail", 17, id="leap-born-28-feb"),
        pytest.param(date(2008, 2, 29), date(2026, 3, 1), "pass", 18, id="leap-born-1-mar"),
        pytest.param(date(2004, 2, 29), date(2022, 2, 28), "fail", 17, id="leap-born-2004"),
        pytest.param(date(1950, 1, 1), date(2026, 3, 2), "pass", 76, id="older-adult"),
        pytest.param(date(2026, 3, 2), date(2026, 3, 2), "fail", 0, id="born-that-day"),
    ],
)
def test_the_patient_must_be_18_on_the_referral_date(birth_date, referral_date, expected, age):
    result = screen_with(birth_date=birth_date, referral_date=referral_date)

    assert result.criterion("adult").outcome == expected
    assert result.criterion("adult").params == {"age": age}
    assert str(age) in reason(result, "adult")
    assert result.outcome == ("eligible" if expected == "pass" else "ineligible")


# --- 3. Qualifying mental disorder --------------------------------------------------------

QUALIFYING_MENTAL = ["F32", "F33.1", "F40.1", "F41.1", "F42", "F43.1"]
QUALIFYING_MENTAL += ["F60.3", "F60.30", "F60.31", "F60.6"]


@pytest.mark.parametrize("code", QUALIFYING_MENTAL)
def test_each_qualifying_mental_disorder_passes(code):
    result = screen_with(diagnosis_codes=[code, "F10.2"])

    assert result.criterion("mental_disorder").outcome == "pass"
    assert code in reason(result, "mental_disorder")
    assert result.outcome == "eligible"


@pytest.mark.parametrize(
    "code",
    [
        pytest.param("F40.0", id="F40.0-agoraphobia"),
        pytest.param("F43.2", id="F43.2-adjustment-disorder"),
        pytest.param("F60.2", id="F60.2-dissocial-personality"),
        pytest.param("F31.3", id="F31.3-bipolar"),
        pytest.param("F90.0", id="F90.0-adhd"),
    ],
)
def test_a_mental_disorder_on_no_list_alone_needs_review(code):
    result = screen_with(diagnosis_codes=[code, "F10.2"])

    assert result.criterion("mental_disorder").outcome == "review"
    assert code in reason(result, "mental_disorder")
    assert result.codes[code] == "unlisted"
    assert result.outcome == "review"


def test_no_mental_disorder_at_all_fails():
    result = screen_with(diagnosis_codes=["F10.2"])

    assert result.criterion("mental_disorder").outcome == "fail"
    assert result.outcome == "ineligible"


# --- 4. Qualifying substance use disorder -------------------------------------------------

QUALIFYING_SUBSTANCES = ["F10", "F11", "F12", "F13", "F14", "F15", "F16", "F19"]


@pytest.mark.parametrize(
    "code",
    [
        f"{category}.{picture}"
        for category in QUALIFYING_SUBSTANCES
        for picture in ("1", "2")  # harmful use, dependence
    ],
)
def test_harmful_use_or_dependence_of_each_qualifying_substance_passes(code):
    result = screen_with(diagnosis_codes=["F32.1", code])

    assert result.criterion("substance_use").outcome == "pass"
    assert code in reason(result, "substance_use")
    assert result.outcome == "eligible"


# F10.24 (dependence, continuous use) is not in the stored code table, so a referral could
# not be registered with it; screening itself applies the lists by prefix.
@pytest.mark.parametrize("code", ["F10.24", "F19.21", "DF1224"])
def test_a_subcode_of_dependence_passes(code):
    result = screen_with(diagnosis_codes=["F32.1", code])

    assert result.criterion("substance_use").outcome == "pass"


@pytest.mark.parametrize("code", ["F17", "F17.1", "F17.2"])
def test_tobacco_never_qualifies_and_is_named(code):
    result = screen_with(diagnosis_codes=["F32.1", code])

    assert result.criterion("substance_use").outcome == "fail"
    assert code in reason(result, "substance_use")
    assert result.codes[code] == "never"
    assert result.outcome == "ineligible"


def test_tobacco_beside_a_qualifying_substance_is_ignored():
    result = screen_with(diagnosis_codes=["F32.1", "F10.2", "F17.2"])

    assert outcomes(result)["substance_use"] == "pass"
    assert outcomes(result)["other_codes"] == "pass"
    assert result.outcome == "eligible"


@pytest.mark.parametrize(
    "code",
    [
        pytest.param("F18.1", id="F18.1-solvents-harmful-use"),
        pytest.param("F18.2", id="F18.2-solvents-dependence"),
        *[
            pytest.param(f"{category}.5", id=f"{category}.5-induced-psychosis")
            for category in QUALIFYING_SUBSTANCES
        ],
        pytest.param("F10.0", id="F10.0-intoxication-on-no-list"),
        pytest.param("F12.3", id="F12.3-withdrawal-on-no-list"),
    ],
)
def test_solvents_induced_psychosis_and_unlisted_substance_codes_need_review(code):
    result = screen_with(diagnosis_codes=["F32.1", code])

    assert result.criterion("substance_use").outcome == "review"
    assert code in reason(result, "substance_use")
    assert result.outcome == "review"


def test_no_substance_use_disorder_at_all_fails():
    result = screen_with(diagnosis_codes=["F32.1"])

    assert result.criterion("substance_use").outcome == "fail"
    assert result.outcome == "ineligible"


# --- 5. No excluding diagnosis ------------------------------------------------------------

EXCLUDING = ["F00", "F03", "F06", "F09", "F20", "F20.0", "F22", "F23", "F25", "F50"]
EXCLUDING += ["F70", "F72", "F79", "F80", "F84", "F89"]


@pytest.mark.parametrize("code", EXCLUDING)
def test_an_excluding_diagnosis_makes_even_a_qualifying_referral_ineligible(code):
    result = screen_with(diagnosis_codes=[*QUALIFYING, code])

    assert outcomes(result)["mental_disorder"] == "pass"
    assert outcomes(result)["substance_use"] == "pass"
    assert result.criterion("no_exclusion").outcome == "fail"
    assert code in reason(result, "no_exclusion")
    assert result.outcome == "ineligible"


@pytest.mark.parametrize("code", ["F21", "F24", "F28", "F10.5"])
def test_a_psychosis_not_on_the_exclusion_list_is_not_excluded(code):
    result = screen_with(diagnosis_codes=[*QUALIFYING, code])

    assert result.criterion("no_exclusion").outcome == "pass"
    assert result.outcome == "review"


# --- Other diagnoses beside qualifying ones -----------------------------------------------


@pytest.mark.parametrize(
    "code",
    [
        pytest.param("F31", id="F31-bipolar"),
        pytest.param("F31.3", id="F31.3-bipolar-depression"),
        pytest.param("F90.0", id="F90.0-adhd"),
        pytest.param("F40.0", id="F40.0-agoraphobia"),
        pytest.param("F18.2", id="F18.2-solvents"),
        pytest.param("F10.5", id="F10.5-alcohol-psychosis"),
    ],
)
def test_a_code_on_no_inclusion_list_beside_qualifying_codes_needs_review(code):
    result = screen_with(diagnosis_codes=[*QUALIFYING, code])

    assert outcomes(result)["mental_disorder"] == "pass"
    assert outcomes(result)["substance_use"] == "pass"
    assert result.criterion("other_codes").outcome == "review"
    assert code in reason(result, "other_codes")
    assert result.outcome == "review"


# --- Code forms ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("codes", "normal"),
    [
        pytest.param(["DF321", "df102"], ["F10.2", "F32.1"], id="sks-forms"),
        pytest.param(["F32.1", "F10.2"], ["F10.2", "F32.1"], id="dotted-forms"),
        pytest.param(["F321", "F102"], ["F10.2", "F32.1"], id="undotted-forms"),
        pytest.param(["f32.1", " F10.2 "], ["F10.2", "F32.1"], id="lower-case-and-spaces"),
        pytest.param(["F32.1", "DF321", "F10.2"], ["F10.2", "F32.1"], id="duplicates-merged"),
        pytest.param(["DF6031", "F1020"], ["F10.20", "F60.31"], id="five-characters"),
    ],
)
def test_codes_are_accepted_in_every_form_and_shown_in_normal_form(codes, normal):
    result = screen_with(diagnosis_codes=codes)

    assert sorted(result.codes) == normal
    assert result.outcome == "eligible"
    assert normal[1] in reason(result, "mental_disorder")


@pytest.mark.parametrize("code", ["X", "F3", "32.1", "F32.123", "DF", "F32-1", ""])
def test_an_invalid_code_is_a_validation_error(code):
    with pytest.raises(ValidationError) as error:
        screen_with(diagnosis_codes=["F10.2", code])

    assert error.value.code == "invalid_code"


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        pytest.param({"diagnosis_codes": "F32.1"}, "bad_codes", id="codes-as-one-string"),
        pytest.param({"substitution_treatment": "maybe"}, "bad_substitution", id="substitution"),
        pytest.param({"in_municipal_substance_treatment": "yes"}, "bad_flag", id="flag"),
        pytest.param({"birth_date": "1990-05-17"}, "bad_date", id="birth-date-as-text"),
    ],
)
def test_malformed_inputs_are_validation_errors(overrides, code):
    with pytest.raises(ValidationError) as error:
        screen_with(**overrides)

    assert error.value.code == code


# --- 6. In municipal substance treatment; 7. stable substitution --------------------------


@pytest.mark.parametrize(
    ("in_treatment", "expected"),
    [pytest.param(True, "pass", id="in-treatment"), pytest.param(False, "fail", id="not")],
)
def test_concurrent_municipal_treatment_is_required(in_treatment, expected):
    result = screen_with(in_municipal_substance_treatment=in_treatment)

    assert result.criterion("municipal_treatment").outcome == expected
    assert result.outcome == ("eligible" if in_treatment else "ineligible")


@pytest.mark.parametrize(
    ("substitution", "expected", "overall"),
    [
        pytest.param("none", "pass", "eligible", id="none"),
        pytest.param("stable", "pass", "eligible", id="stable"),
        pytest.param("unstable", "review", "review", id="unstable"),
    ],
)
def test_opioid_substitution_must_be_stable(substitution, expected, overall):
    result = screen_with(diagnosis_codes=["F32.1", "F11.2"], substitution_treatment=substitution)

    assert result.criterion("substitution").outcome == expected
    assert result.outcome == overall


# --- Overall outcome ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "expected", "failed", "reviewed"),
    [
        pytest.param({}, "eligible", set(), set(), id="all-pass-eligible"),
        pytest.param(
            {"substitution_treatment": "unstable"},
            "review",
            set(),
            {"substitution"},
            id="one-review-no-fail",
        ),
        pytest.param(
            {"diagnosis_codes": ["F40.0", "F18.2"], "substitution_treatment": "unstable"},
            "review",
            set(),
            {"mental_disorder", "substance_use", "substitution"},
            id="several-reviews-no-fail",
        ),
        pytest.param(
            {"municipality_code": "101", "substitution_treatment": "unstable"},
            "ineligible",
            {"municipality"},
            {"substitution"},
            id="fail-beats-review",
        ),
        pytest.param(
            {"diagnosis_codes": [*QUALIFYING, "F31.3"], "in_municipal_substance_treatment": False},
            "ineligible",
            {"municipal_treatment"},
            {"other_codes"},
            id="fail-beats-unlisted-code",
        ),
        pytest.param(
            {"diagnosis_codes": ["F20", "F40.0"], "birth_date": date(2010, 1, 1)},
            "ineligible",
            {"adult", "substance_use", "no_exclusion"},
            {"mental_disorder"},
            id="several-fails",
        ),
    ],
)
def test_overall_outcome(overrides, expected, failed, reviewed):
    result = screen_with(**overrides)

    assert result.outcome == expected
    assert {key for key, outcome in outcomes(result).items() if outcome == "fail"} == failed
    assert {key for key, outcome in outcomes(result).items() if outcome == "review"} == reviewed


# --- The code lists are data --------------------------------------------------------------


def test_deactivating_a_rule_changes_the_next_screening():
    assert screen_with(diagnosis_codes=["F42.1", "F10.2"]).outcome == "eligible"

    CodeRule.objects.filter(code="F42").update(active=False)

    result = screen_with(diagnosis_codes=["F42.1", "F10.2"])
    assert result.criterion("mental_disorder").outcome == "review"
    assert result.codes["F42.1"] == "unlisted"
    assert result.outcome == "review"


def test_adding_a_rule_changes_the_next_screening():
    assert screen_with(diagnosis_codes=["F31.3", "F10.2"]).outcome == "review"

    CodeRule.objects.create(category=CodeRule.Category.MENTAL, code="F31", note="Bipolar")

    result = screen_with(diagnosis_codes=["F31.3", "F10.2"])
    assert result.criterion("mental_disorder").outcome == "pass"
    assert result.outcome == "eligible"


def test_a_more_specific_rule_wins_over_a_broader_one():
    CodeRule.objects.create(category=CodeRule.Category.EXCLUSION, code="F32.3", note="Psychotic")

    assert screen_with(diagnosis_codes=["F32.1", "F10.2"]).outcome == "eligible"
    result = screen_with(diagnosis_codes=["F32.3", "F10.2"])
    assert result.criterion("no_exclusion").outcome == "fail"
    assert result.criterion("mental_disorder").outcome == "fail"


def test_a_stored_screening_keeps_its_outcome_after_the_lists_change(clinician):
    referral = register(by=clinician, diagnosis_codes=["F42.1", "F10.2"])
    stored = Screening.objects.get(referral=referral)
    assert stored.outcome == "eligible"
    assert stored.inputs["code_lists"] == {"F10.2": "substance", "F42.1": "mental"}

    CodeRule.objects.filter(code="F42").update(active=False)
    CodeRule.objects.filter(code="F10.2").update(category=CodeRule.Category.EXCLUSION)

    assert screen_with(diagnosis_codes=["F42.1", "F10.2"]).outcome == "ineligible"
    stored = Screening.objects.get(referral=referral)
    assert stored.outcome == "eligible"
    assert stored.inputs["code_lists"] == {"F10.2": "substance", "F42.1": "mental"}
    criteria = ScreeningCriterion.objects.filter(screening=stored)
    assert list(criteria.values_list("key", flat=True)) == CRITERIA_KEYS
    assert set(criteria.values_list("outcome", flat=True)) == {"pass"}
    with translation.override("en"):
        assert "F42.1" in criteria.get(key="mental_disorder").reason


# --- Reasons are translated ---------------------------------------------------------------

REASON_CASES = [
    pytest.param({}, id="all-pass"),
    pytest.param({"municipality_code": "101"}, id="not-participating"),
    pytest.param({"municipality_code": "999"}, id="unknown-municipality"),
    pytest.param({"birth_date": date(2010, 1, 1)}, id="minor"),
    pytest.param({"diagnosis_codes": ["F17.2", "F20"]}, id="tobacco-and-exclusion"),
    pytest.param({"diagnosis_codes": ["F10.1"]}, id="no-mental-disorder"),
    pytest.param({"diagnosis_codes": ["F40.0", "F18.2"]}, id="unlisted-codes"),
    pytest.param({"diagnosis_codes": [*QUALIFYING, "F90.0"]}, id="other-codes"),
    pytest.param({"in_municipal_substance_treatment": False}, id="no-municipal-treatment"),
    pytest.param({"substitution_treatment": "stable"}, id="stable-substitution"),
    pytest.param({"substitution_treatment": "unstable"}, id="unstable-substitution"),
]


@pytest.mark.parametrize("overrides", REASON_CASES)
@pytest.mark.parametrize("language", ["da", "en"])
def test_every_reason_renders_in_each_language(overrides, language):
    result = screen_with(**overrides)

    with translation.override(language):
        for item in result.criteria:
            assert isinstance(item.reason, str)
            assert item.reason.strip()
            assert isinstance(item.label, str)
            assert "%(" not in item.reason


@pytest.mark.parametrize(
    ("codes", "key", "named"),
    [
        pytest.param(["F33.1", "F10.2"], "mental_disorder", "F33.1", id="mental"),
        pytest.param(["F32.1", "F14.2"], "substance_use", "F14.2", id="substance"),
        pytest.param(["F32.1", "F17.2"], "substance_use", "F17.2", id="tobacco"),
        pytest.param([*QUALIFYING, "F25"], "no_exclusion", "F25", id="exclusion"),
        pytest.param([*QUALIFYING, "F31.3"], "other_codes", "F31.3", id="other"),
    ],
)
def test_the_reason_names_the_code_in_english_and_renders_in_danish(codes, key, named):
    result = screen_with(diagnosis_codes=codes)

    with translation.override("en"):
        assert named in result.criterion(key).reason
    with translation.override("da"):
        assert isinstance(result.criterion(key).reason, str)


def test_a_stored_reason_renders_in_the_readers_language(clinician):
    referral = register(by=clinician, diagnosis_codes=["F32.1", "F10.2", "F90.0"])
    stored = ScreeningCriterion.objects.get(screening__referral=referral, key="other_codes")

    with translation.override("en"):
        assert "F90.0" in stored.reason
    with translation.override("da"):
        assert isinstance(stored.reason, str)
        assert stored.reason.strip()
