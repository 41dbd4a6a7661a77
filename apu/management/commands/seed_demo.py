"""Create a believable demo clinic; safe to run again (it only adds what is missing)."""

from importlib import import_module

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.module_loading import module_has_submodule

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

    def handle(self, *args, force: bool = False, users_only: bool = False, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "seed_demo refuses to run with DEBUG off: it creates demo logins. "
                "Use --force only on a test or demo server."
            )
        password = demo_password(force=force)
        created = self._create_users(password)
        self.stdout.write(
            f"Demo users: {created} created, {len(demo_users()) - created} already there."
        )
        if not users_only:
            self._seed_apps()
        self._print_logins(password)

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
        self.stdout.write("")
