"""python manage.py send_reminders: today's reminder mails, unless already sent today.

The worker sends them on its own at REMINDER_TIME; this is for a first try, a server
without a worker (run it from cron) or after the mail settings changed.
"""

from datetime import date

from django.core.management.base import BaseCommand
from django.utils import timezone

from chain.reminders import send_reminders


class Command(BaseCommand):
    help = "Send today's reminder mails about open actions (at most once a day)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--date", type=date.fromisoformat, help="the day as YYYY-MM-DD (default: today)"
        )

    def handle(self, *, date=None, **options):
        sent = send_reminders(date or timezone.localdate())
        if sent is None:
            self.stdout.write("The reminders of this day were sent already.")
        else:
            self.stdout.write(f"{sent} reminder mail(s) sent.")
