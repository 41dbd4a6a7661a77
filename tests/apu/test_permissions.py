"""The shared access helpers: a wrong role is refused with 403, an object out of reach is 404."""

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.test import RequestFactory

from apu.models import Municipality, User
from apu.permissions import get_for_user_or_404, role_required

# Marked so pytest-django orders these before the transactional tests that empty the tables.
pytestmark = pytest.mark.django_db


@role_required(User.Role.CLINICIAN, User.Role.ADMIN)
def clinic_only(request):
    return HttpResponse("ok")


@pytest.mark.parametrize(
    "persona,allowed",
    [
        ("clinician", True),
        ("admin_user", True),
        ("coordinator_ballerup", False),
        ("researcher", False),
    ],
)
def test_role_required_allows_only_the_named_roles(request, rf: RequestFactory, persona, allowed):
    http_request = rf.get("/")
    http_request.user = request.getfixturevalue(persona)
    if allowed:
        assert clinic_only(http_request).status_code == 200
    else:
        with pytest.raises(PermissionDenied):
            clinic_only(http_request)


class MunicipalityQuerySet(Municipality.objects.none().__class__):
    """A stand-in reach rule until patient models exist: coordinators reach their own only."""

    def for_user(self, user):
        if user.is_coordinator:
            return self.filter(pk=user.municipality_id)
        return self


@pytest.fixture
def municipalities():
    return MunicipalityQuerySet(model=Municipality)


def test_object_within_reach_is_returned(municipalities, coordinator_ballerup):
    found = get_for_user_or_404(municipalities, coordinator_ballerup, code="151")
    assert found.name == "Ballerup"


@pytest.mark.parametrize(
    "lookup", [{"code": "159"}, {"code": "999"}, {"pk": "not-a-number"}], ids=str
)
def test_out_of_reach_absent_and_malformed_all_answer_404(
    municipalities, coordinator_ballerup, lookup
):
    with pytest.raises(Http404):
        get_for_user_or_404(municipalities, coordinator_ballerup, **lookup)
