import json

from django.core.management.base import BaseCommand
from django_celery_beat.models import CrontabSchedule, PeriodicTask

# name -> (task, crontab fields); later issues add their schedules here.
PERIODIC_TASKS = {
    "Clear expired sessions": ("crm.tasks.clear_expired_sessions_task", {"minute": "30", "hour": "3"}),
    "Send due task reminders": ("contacts.tasks.reminders_send_due_task", {"minute": "*"}),
}


class Command(BaseCommand):
    help = "Create or update the periodic tasks of the CRM (editable afterwards in the admin)."

    def handle(self, *args, **options):
        from django.conf import settings

        for name, (task, fields) in PERIODIC_TASKS.items():
            schedule, _ = CrontabSchedule.objects.get_or_create(timezone=settings.TIME_ZONE, **fields)
            _task, created = PeriodicTask.objects.get_or_create(
                name=name, defaults={"task": task, "crontab": schedule, "kwargs": json.dumps({})}
            )
            if created:
                self.stdout.write(f"Scheduled: {name}")
