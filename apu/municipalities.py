"""The municipalities of Region Hovedstaden, loaded by a data migration.

Kept here, not in the migration, so a test that flushes the database can load them again.
"""

# Official municipality codes (kommunekoder), Region Hovedstaden.
MUNICIPALITIES = [
    ("101", "København", "koebenhavn"),
    ("147", "Frederiksberg", "frederiksberg"),
    ("151", "Ballerup", "ballerup"),
    ("153", "Brøndby", "broendby"),
    ("155", "Dragør", "dragoer"),
    ("157", "Gentofte", "gentofte"),
    ("159", "Gladsaxe", "gladsaxe"),
    ("161", "Glostrup", "glostrup"),
    ("163", "Herlev", "herlev"),
    ("165", "Albertslund", "albertslund"),
    ("167", "Hvidovre", "hvidovre"),
    ("169", "Høje-Taastrup", "hoeje-taastrup"),
    ("173", "Lyngby-Taarbæk", "lyngby-taarbaek"),
    ("175", "Rødovre", "roedovre"),
    ("183", "Ishøj", "ishoej"),
    ("185", "Tårnby", "taarnby"),
    ("187", "Vallensbæk", "vallensbaek"),
    ("190", "Furesø", "furesoe"),
    ("201", "Allerød", "alleroed"),
    ("210", "Fredensborg", "fredensborg"),
    ("217", "Helsingør", "helsingoer"),
    ("219", "Hillerød", "hilleroed"),
    ("223", "Hørsholm", "hoersholm"),
    ("230", "Rudersdal", "rudersdal"),
    ("240", "Egedal", "egedal"),
    ("250", "Frederikssund", "frederikssund"),
    ("260", "Halsnæs", "halsnaes"),
    ("270", "Gribskov", "gribskov"),
    ("400", "Bornholm", "bornholm"),
]
PARTICIPATING_AT_START = {"151", "159", "163", "173", "230"}


def ensure_region_municipalities(municipality_model) -> None:
    """Create or update the region's municipalities (given the model, so migrations pass theirs)."""
    for code, name, slug in MUNICIPALITIES:
        municipality_model.objects.update_or_create(
            code=code,
            defaults={"name": name, "slug": slug, "participating": code in PARTICIPATING_AT_START},
        )
