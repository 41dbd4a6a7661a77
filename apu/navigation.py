"""The main navigation: each entry names the roles that see it.

Later apps add their entries here by URL name; the list is filtered per user.
"""

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from apu.models import User

ALL_ROLES = frozenset(User.Role)
STAFF_ROLES = frozenset({User.Role.CLINICIAN, User.Role.ADMIN})


@dataclass(frozen=True)
class NavItem:
    label: Promise
    url_name: str
    roles: frozenset
    staff_only: bool = False


NAVIGATION: list[NavItem] = [
    NavItem(_("Overview"), "apu:home", ALL_ROLES),
    NavItem(_("Today"), "modules:today", STAFF_ROLES),
    NavItem(_("Referrals"), "referrals:referral_list", STAFF_ROLES | {User.Role.COORDINATOR}),
    NavItem(_("Meetings"), "coordination:worklist", STAFF_ROLES | {User.Role.COORDINATOR}),
    NavItem(_("Groups"), "modules:group_list", STAFF_ROLES),
    NavItem(_("Measurements"), "evaluation:worklist", STAFF_ROLES),
    NavItem(_("Research export"), "research:export", frozenset({User.Role.RESEARCHER})),
    NavItem(_("Dashboard"), "evaluation:dashboard", STAFF_ROLES | {User.Role.COORDINATOR}),
    NavItem(_("Administration"), "admin:index", frozenset({User.Role.ADMIN}), staff_only=True),
]


def items_for(user) -> list[NavItem]:
    """The navigation entries ``user`` may follow."""
    if not user.is_authenticated:
        return []
    role = User.Role.ADMIN if user.is_superuser else user.role
    return [
        item for item in NAVIGATION if role in item.roles and (not item.staff_only or user.is_staff)
    ]
