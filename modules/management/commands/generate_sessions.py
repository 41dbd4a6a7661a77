from django.core.management.base import BaseCommand

from modules.queries import open_groups
from modules.services import generate_sessions


class Command(BaseCommand):
    help = "Create the weekly sessions of the running groups for the coming weeks (no holidays)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--weeks", type=int, default=8, help="How many weeks ahead (default 8)."
        )

    def handle(self, *args, weeks: int = 8, **options):
        total = 0
        for group in open_groups().filter(module__is_group=True):
            total += len(generate_sessions(group, weeks=weeks))
        self.stdout.write(f"Sessions created: {total}")
