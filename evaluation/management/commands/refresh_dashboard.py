"""Recompute the Lean dashboard's default views: the whole clinic and each municipality."""

import time

from django.core.management.base import BaseCommand, CommandError

from apu.models import Municipality, User
from evaluation.dashboard import period_filters, store_figures


class Command(BaseCommand):
    help = (
        "Recompute the dashboard's KPI snapshots for the last 18 months, for the whole clinic "
        "and each participating municipality (run from cron, e.g. every 10 minutes)."
    )

    def handle(self, *args, **options):
        # The KPIs read through the clinic's reach (every patient); any active clinic user has it.
        user = (
            User.objects.filter(is_active=True, role__in=[User.Role.CLINICIAN, User.Role.ADMIN])
            .order_by("pk")
            .first()
        )
        if user is None:
            raise CommandError("There is no active clinician or admin to compute the KPIs as.")
        municipalities = Municipality.objects.filter(participating=True).order_by("code")
        for municipality_id in [None, *municipalities.values_list("pk", flat=True)]:
            started = time.monotonic()
            store_figures(user, period_filters(municipality_id=municipality_id))
            where = municipality_id or "all"
            self.stdout.write(f"Dashboard {where}: {time.monotonic() - started:.1f} s")
