"""Danish is the default language: every string in the code has a Danish translation."""

from pathlib import Path

import polib
import pytest
from django.utils import translation

LOCALE = Path(__file__).resolve().parents[2] / "locale"


def test_every_danish_message_is_translated_and_none_is_fuzzy():
    catalog = polib.pofile(str(LOCALE / "da" / "LC_MESSAGES" / "django.po"))
    assert len(catalog) > 50
    assert [entry.msgid for entry in catalog.untranslated_entries()] == []
    assert [entry.msgid for entry in catalog.fuzzy_entries()] == []


def test_placeholders_survive_translation():
    catalog = polib.pofile(str(LOCALE / "da" / "LC_MESSAGES" / "django.po"))
    import re

    placeholder = re.compile(r"%\(\w+\)s")
    for entry in catalog.translated_entries():
        translations = entry.msgstr_plural.values() if entry.msgid_plural else [entry.msgstr]
        for translation_text in translations:
            assert sorted(placeholder.findall(entry.msgid)) == sorted(
                placeholder.findall(translation_text)
            ), entry.msgid


@pytest.mark.parametrize(
    "language,expected", [("da", "Log ind"), ("en", "Log in")], ids=["danish", "english"]
)
def test_the_compiled_catalog_is_used(language, expected):
    with translation.override(language):
        assert translation.gettext("Log in") == expected
