from django.core.management.base import BaseCommand

from coordination.reminders import send_reminders


class Command(BaseCommand):
    help = (
        "E-mail participants about coordination meetings due within 7 days and outcomes "
        "not yet recorded. Run daily (cron); running it again sends nothing new."
    )

    def handle(self, *args, **options):
        count = send_reminders()
        self.stdout.write(f"Reminders sent: {count}")
