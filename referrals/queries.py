"""Reads for the referral pages, shaped so each page runs a fixed number of queries."""

from django.db.models import OuterRef, Prefetch, QuerySet, Subquery

from apu.models import User
from referrals.models import Course, Referral, ReferralDiagnosis, Screening


def latest_screening_outcome() -> Subquery:
    newest = Screening.objects.filter(referral=OuterRef("pk")).order_by("-screened_at", "-pk")
    return Subquery(newest.values("outcome")[:1])


def referral_worklist(user: User) -> QuerySet[Referral]:
    """Referrals ``user`` may see, oldest first contact first, with the newest screening outcome."""
    return (
        Referral.objects.for_user(user)
        .select_related("patient__municipality")
        .annotate(latest_outcome=latest_screening_outcome())
        .order_by("first_contact", "pk")
    )


# What a worklist row shows (the referral_rows tag): only these columns are loaded,
# which also keeps the patients' contact details and the referral texts out of the list.
REFERRAL_ROW = (
    "first_contact",
    "status",
    "patient__name",
    "patient__cpr",
    "patient__municipality__name",
)


def referral_rows(user: User) -> QuerySet[Referral]:
    """The worklist's referrals as its rows show them."""
    return referral_worklist(user).only(*REFERRAL_ROW)


def referral_for_detail(user: User) -> QuerySet[Referral]:
    return (
        Referral.objects.for_user(user)
        .select_related("patient__municipality", "submitted_by", "decision__decided_by")
        .prefetch_related(
            Prefetch(
                "diagnoses",
                queryset=ReferralDiagnosis.objects.select_related("code").order_by("role", "code"),
            )
        )
    )


def current_screening(referral: Referral) -> Screening | None:
    """The newest screening with its criteria (two queries)."""
    return (
        referral.screenings.select_related("screened_by")
        .prefetch_related("criteria")
        .order_by("-screened_at", "-pk")
        .first()
    )


def course_for_detail(user: User) -> QuerySet[Course]:
    return Course.objects.for_user(user).select_related("patient__municipality", "referral")
