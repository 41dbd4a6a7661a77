"""Short item and answer labels for the instruments, written in the clinic's own words.

These are paraphrases of what each item is about, not the questionnaires' wording: the
official text is licensed and versioned by its publishers, so an admin loads it as data
(``ItemLabel.official_da`` / ``official_en``) and the code never carries it.
"""

from __future__ import annotations

from evaluation.instruments import INSTRUMENTS

ItemLabelRow = tuple[str, int, str, str]
ScaleStep = tuple[int, str, str]

ITEM_LABELS: list[ItemLabelRow] = [
    # WHO-5: well-being over the last two weeks.
    ("WHO-5", 1, "Godt humør", "Good mood"),
    ("WHO-5", 2, "Ro og afslapning", "Feeling calm"),
    ("WHO-5", 3, "Energi og handlekraft", "Energy and drive"),
    ("WHO-5", 4, "Udhvilet ved opvågning", "Rested on waking"),
    ("WHO-5", 5, "Interesse i hverdagen", "Interest in daily life"),
    # PHQ-9: depressive symptoms over the last two weeks.
    ("PHQ-9", 1, "Manglende lyst og interesse", "Loss of interest"),
    ("PHQ-9", 2, "Nedtrykthed", "Feeling down"),
    ("PHQ-9", 3, "Søvnproblemer", "Sleep problems"),
    ("PHQ-9", 4, "Træthed og lav energi", "Tiredness and low energy"),
    ("PHQ-9", 5, "Ændret appetit", "Changed appetite"),
    ("PHQ-9", 6, "Lavt selvværd eller skyld", "Low self-worth or guilt"),
    ("PHQ-9", 7, "Koncentrationsbesvær", "Poor concentration"),
    ("PHQ-9", 8, "Langsomhed eller uro", "Slowed down or restless"),
    ("PHQ-9", 9, "Tanker om død eller selvskade", "Thoughts of death or self-harm"),
    # GAD-7: anxiety symptoms over the last two weeks.
    ("GAD-7", 1, "Nervøsitet og anspændthed", "Nervousness and tension"),
    ("GAD-7", 2, "Ukontrollerbar bekymring", "Worry that will not stop"),
    ("GAD-7", 3, "Bekymring om mange ting", "Worry about many things"),
    ("GAD-7", 4, "Svært ved at slappe af", "Hard to relax"),
    ("GAD-7", 5, "Rastløshed", "Restlessness"),
    ("GAD-7", 6, "Irritabilitet", "Irritability"),
    ("GAD-7", 7, "Frygt for at noget slemt sker", "Sense of dread"),
    # AUDIT: alcohol use, its consequences and others' concern.
    ("AUDIT", 1, "Hvor ofte der drikkes", "How often drinking"),
    ("AUDIT", 2, "Genstande på en drikkedag", "Drinks per drinking day"),
    ("AUDIT", 3, "Mange genstande ad gangen", "Heavy drinking occasions"),
    ("AUDIT", 4, "Svært ved at stoppe", "Unable to stop"),
    ("AUDIT", 5, "Forsømte pligter", "Neglected duties"),
    ("AUDIT", 6, "Drink om morgenen", "Morning drinking"),
    ("AUDIT", 7, "Skyldfølelse efter druk", "Guilt after drinking"),
    ("AUDIT", 8, "Hukommelsestab efter druk", "Memory loss after drinking"),
    ("AUDIT", 9, "Skader på grund af druk", "Injury from drinking"),
    ("AUDIT", 10, "Andres bekymring for drikkeriet", "Others worried about drinking"),
    # DUDIT: drug use, its consequences and others' concern.
    ("DUDIT", 1, "Hvor ofte stoffer tages", "How often drugs are used"),
    ("DUDIT", 2, "Flere stoffer på én gang", "Several drugs at once"),
    ("DUDIT", 3, "Indtag på en brugsdag", "Uses per day of use"),
    ("DUDIT", 4, "Kraftig påvirkning", "Heavily intoxicated"),
    ("DUDIT", 5, "Uimodståelig trang", "Irresistible craving"),
    ("DUDIT", 6, "Svært ved at stoppe", "Unable to stop"),
    ("DUDIT", 7, "Forsømte pligter", "Neglected duties"),
    ("DUDIT", 8, "Stoffer dagen derpå", "Using the morning after"),
    ("DUDIT", 9, "Skyldfølelse over stofbrug", "Guilt about drug use"),
    ("DUDIT", 10, "Skader på grund af stofbrug", "Harm from drug use"),
    ("DUDIT", 11, "Andres bekymring for stofbruget", "Others worried about drug use"),
]

_TWO_WEEKS_FREQUENCY: list[ScaleStep] = [
    (0, "Slet ikke", "Not at all"),
    (1, "Nogle dage", "Several days"),
    (2, "Over halvdelen af dagene", "Over half the days"),
    (3, "Næsten hver dag", "Nearly every day"),
]

# Same answer scale for every item of these instruments.
ANSWER_SCALES: dict[str, list[ScaleStep]] = {
    "WHO-5": [
        (0, "På intet tidspunkt", "At no time"),
        (1, "Lidt af tiden", "Some of the time"),
        (2, "Under halvdelen af tiden", "Under half the time"),
        (3, "Over halvdelen af tiden", "Over half the time"),
        (4, "Det meste af tiden", "Most of the time"),
        (5, "Hele tiden", "All of the time"),
    ],
    "PHQ-9": _TWO_WEEKS_FREQUENCY,
    "GAD-7": _TWO_WEEKS_FREQUENCY,
}

_HOW_OFTEN_USED: list[ScaleStep] = [
    (0, "Aldrig", "Never"),
    (1, "Månedligt eller sjældnere", "Monthly or less"),
    (2, "2-4 gange om måneden", "2-4 times a month"),
    (3, "2-3 gange om ugen", "2-3 times a week"),
    (4, "4 gange om ugen eller mere", "4 or more times a week"),
]

_HOW_OFTEN_LAST_YEAR: list[ScaleStep] = [
    (0, "Aldrig", "Never"),
    (1, "Sjældnere end månedligt", "Less than monthly"),
    (2, "Månedligt", "Monthly"),
    (3, "Ugentligt", "Weekly"),
    (4, "Dagligt eller næsten dagligt", "Daily or almost daily"),
]

# Items that ask whether something ever happened score only 0, 2 or 4.
_EVER_HAPPENED: list[ScaleStep] = [
    (0, "Nej", "No"),
    (2, "Ja, men ikke det seneste år", "Yes, but not in the last year"),
    (4, "Ja, inden for det seneste år", "Yes, in the last year"),
]

_DRINKS_PER_DAY: list[ScaleStep] = [
    (0, "1-2 genstande", "1-2 drinks"),
    (1, "3-4 genstande", "3-4 drinks"),
    (2, "5-6 genstande", "5-6 drinks"),
    (3, "7-9 genstande", "7-9 drinks"),
    (4, "10 genstande eller flere", "10 or more drinks"),
]

_USES_PER_DAY: list[ScaleStep] = [
    (0, "Ingen", "None"),
    (1, "1-2 gange", "1-2 times"),
    (2, "3-4 gange", "3-4 times"),
    (3, "5-6 gange", "5-6 times"),
    (4, "7 gange eller flere", "7 or more times"),
]

# AUDIT and DUDIT ask different kinds of question, so the scale depends on the item.
ITEM_ANSWER_SCALES: dict[tuple[str, int], list[ScaleStep]] = {
    ("AUDIT", 1): _HOW_OFTEN_USED,
    ("AUDIT", 2): _DRINKS_PER_DAY,
    **{("AUDIT", number): _HOW_OFTEN_LAST_YEAR for number in range(3, 9)},
    ("AUDIT", 9): _EVER_HAPPENED,
    ("AUDIT", 10): _EVER_HAPPENED,
    ("DUDIT", 1): _HOW_OFTEN_USED,
    ("DUDIT", 2): _HOW_OFTEN_USED,
    ("DUDIT", 3): _USES_PER_DAY,
    **{("DUDIT", number): _HOW_OFTEN_LAST_YEAR for number in range(4, 10)},
    ("DUDIT", 10): _EVER_HAPPENED,
    ("DUDIT", 11): _EVER_HAPPENED,
}


def answer_scale(instrument: str, number: int) -> list[ScaleStep]:
    """The answer options of one item as (value, label_da, label_en); KeyError if unknown."""
    if instrument in ANSWER_SCALES and 1 <= number <= len(INSTRUMENTS[instrument].items):
        return ANSWER_SCALES[instrument]
    return ITEM_ANSWER_SCALES[(instrument, number)]
