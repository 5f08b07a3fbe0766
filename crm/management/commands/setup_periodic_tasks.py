import json

from django.core.management.base import BaseCommand
from django_celery_beat.models import CrontabSchedule, PeriodicTask

# name -> (task, crontab fields); later issues add their schedules here.
PERIODIC_TASKS = {
    "Clear expired sessions": ("crm.tasks.clear_expired_sessions_task", {"minute": "30", "hour": "3"}),
    "Send due task reminders": ("contacts.tasks.reminders_send_due_task", {"minute": "*"}),
    "Flag missed SLA targets of tickets": ("support.tasks.sla_breaches_flag_task", {"minute": "*"}),
    # After midnight in the business's time zone: the churn window counts whole business days.
    "Move lapsed customers to churned": ("sales.tasks.lifecycle_churn_task", {"minute": "15", "hour": "1"}),
    "Suggest cross-sells from orders": ("sales.tasks.suggestions_refresh_task", {"minute": "45", "hour": "2"}),
    # After midnight business time: the 12-month window of the loyalty tiers starts at a day's 00:00.
    "Recompute loyalty tiers": ("sales.tasks.tiers_recompute_task", {"minute": "30", "hour": "1"}),
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
