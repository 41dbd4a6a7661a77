import pytest

from apu.models import Municipality

pytestmark = pytest.mark.django_db


def test_all_29_region_hovedstaden_municipalities_are_loaded():
    assert Municipality.objects.count() == 29
    codes = set(Municipality.objects.values_list("code", flat=True))
    assert {"101", "147", "173", "230", "400"} <= codes


def test_the_five_named_municipalities_participate_from_the_start():
    participating = dict(
        Municipality.objects.filter(participating=True).values_list("code", "name")
    )
    assert participating == {
        "151": "Ballerup",
        "159": "Gladsaxe",
        "163": "Herlev",
        "173": "Lyngby-Taarbæk",
        "230": "Rudersdal",
    }


@pytest.mark.parametrize(
    "code,name",
    [("101", "København"), ("157", "Gentofte"), ("219", "Hillerød"), ("400", "Bornholm")],
)
def test_official_codes(code, name):
    assert Municipality.objects.get(code=code).name == name


def test_municipality_codes_are_three_digits_in_the_database():
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Municipality.objects.create(code="99", name="Nowhere", slug="nowhere")
