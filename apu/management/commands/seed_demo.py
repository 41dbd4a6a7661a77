"""Create a believable demo clinic; safe to run again (it only adds what is missing).

``--scale N`` adds N - 1 copies of the demo clinic with set-based SQL (see apu.scaling):
N times the volume, for trying the pages and queries on a region's worth of data.
"""

import time
from importlib import import_module

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.module_loading import module_has_submodule

from apu import scaling
from apu.models import Municipality, User

# Apps whose ``demo.seed()`` adds demo data, in the order of their dependencies.
DEMO_APPS = ["referrals", "coordination", "modules", "evaluation"]

# The documented development default; only ever used with DEBUG on.
DEFAULT_DEMO_PASSWORD = "apu-demo-2026"  # noqa: S105 (documented demo default)

# Made-up names for the demo coordinators of the five municipalities participating at the start.
COORDINATOR_NAMES = {
    "ballerup": ("Bente", "Bach"),
    "gladsaxe": ("Gustav", "Grøn"),
    "herlev": ("Hanne", "Holm"),
    "lyngby-taarbaek": ("Lars", "Lund"),
    "rudersdal": ("Rikke", "Rask"),
}


def positive_int(value: str) -> int:
    """An argument type: a whole number of at least 1."""
    number = int(value)
    if number < 1:
        raise ValueError(value)
    return number


def demo_password(*, force: bool) -> str:
    """DEMO_PASSWORD, or the documented default in DEBUG only."""
    if settings.DEMO_PASSWORD:
        return settings.DEMO_PASSWORD
    if settings.DEBUG:
        return DEFAULT_DEMO_PASSWORD
    raise CommandError("Set DEMO_PASSWORD: there is no default password when DEBUG is off.")


def demo_users() -> list[dict]:
    """The demo logins from the design: admin, clinician, researcher, one coordinator each."""
    users = [
        {
            "username": "admin",
            "role": User.Role.ADMIN,
            "first_name": "Anne",
            "last_name": "Admin",
            "is_staff": True,
            "is_superuser": True,
        },
        {
            "username": "klinik",
            "role": User.Role.CLINICIAN,
            "first_name": "Karen",
            "last_name": "Kliniker",
        },
        {
            "username": "forsker",
            "role": User.Role.RESEARCHER,
            "first_name": "Frederik",
            "last_name": "Forsker",
        },
    ]
    for municipality in Municipality.objects.filter(participating=True).order_by("slug"):
        first_name, last_name = COORDINATOR_NAMES.get(municipality.slug, ("Kim", "Koordinator"))
        users.append(
            {
                "username": f"koordinator-{municipality.slug}",
                "role": User.Role.COORDINATOR,
                "municipality": municipality,
                "first_name": first_name,
                "last_name": last_name,
            }
        )
    return users


class Command(BaseCommand):
    help = "Create the demo users and data (refuses with DEBUG off unless --force)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run even though DEBUG is off (never in production).",
        )
        parser.add_argument(
            "--users-only", action="store_true", help="Create the demo logins but no demo data."
        )
        parser.add_argument(
            "--scale",
            type=positive_int,
            default=1,
            metavar="N",
            help="Make N times the demo's volume: N - 1 copies of the demo clinic, each with "
            "its own clinician (klinik-002, ...), patients and groups; copies have no history.",
        )

    def handle(
        self, *args, force: bool = False, users_only: bool = False, scale: int = 1, **options
    ):
        if not settings.DEBUG and not force:
            raise CommandError(
                "seed_demo refuses to run with DEBUG off: it creates demo logins. "
                "Use --force only on a test or demo server."
            )
        if scale > 1 and users_only:
            raise CommandError("--scale copies the demo data, so it cannot go with --users-only.")
        present = scaling.copies_present() + 1
        if scale > 1 and present not in (1, scale):
            raise CommandError(
                f"The database holds the demo at scale {present} already; seed_demo never "
                f"removes copies or adds to them. For scale {scale}, start from an empty "
                "database (migrate, then seed_demo --scale N)."
            )
        password = demo_password(force=force)
        created = self._create_users(password)
        self.stdout.write(
            f"Demo users: {created} created, {len(demo_users()) - created} already there."
        )
        if not users_only:
            self._seed_apps()
        if scale > 1 and present == scale:
            self.stdout.write(f"Demo data at scale {scale}: already there, nothing added.")
        elif scale > 1:
            self._scale(scale, password)
        self._print_logins(password)

    def _scale(self, scale: int, password: str) -> None:
        self.stdout.write(f"Demo data at scale {scale}: adding {scale - 1} copies ...")
        started = time.monotonic()
        try:
            added = scaling.scale_demo(scale - 1, stdout=self.stdout, password=password)
        except ValueError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"Demo data at scale {scale}: {sum(added.values())} rows in {len(added)} tables "
            f"added in {time.monotonic() - started:.1f} s (no history for the copies)."
        )

    @transaction.atomic
    def _create_users(self, password: str) -> int:
        created = 0
        for spec in demo_users():
            username = spec.pop("username")
            if User.objects.filter(username=username).exists():
                continue
            user = User(username=username, email=f"{username}@apu.example", **spec)
            user.set_password(password)
            user.save()
            created += 1
        return created

    def _seed_apps(self) -> None:
        # Each app may add its demo data in a ``demo`` module with ``seed()``; found by
        # name in dependency order, so this low app imports none of the higher ones.
        for app_config in apps.get_app_configs():
            if app_config.name not in DEMO_APPS or not module_has_submodule(
                app_config.module, "demo"
            ):
                continue
            module = import_module(f"{app_config.name}.demo")
            count = module.seed(stdout=self.stdout)
            self.stdout.write(f"Demo data for {app_config.name}: {count} created.")

    def _print_logins(self, password: str) -> None:
        usernames = [spec["username"] for spec in demo_users()]
        self.stdout.write("")
        self.stdout.write(f"Demo logins (password: {password}):")
        for username in usernames:
            self.stdout.write(f"  {username}")
        copies = scaling.copies_present()
        if copies:
            last = scaling.copy_clinician_username(copies)
            self.stdout.write(f"  {scaling.copy_clinician_username(1)} ... {last} (clinicians)")
        self.stdout.write("")
