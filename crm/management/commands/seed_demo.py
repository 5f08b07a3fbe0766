from django.conf import settings
from django.core.management.base import BaseCommand

from crm.demo import seed_demo
from crm.models import User


class Command(BaseCommand):
    help = "Load the demo team and client database into an empty database (run by `make run`)."

    def add_arguments(self, parser):
        parser.add_argument("--contacts", type=int, default=150)
        parser.add_argument("--if-empty", action="store_true", help="Do nothing when any user exists.")

    def handle(self, *args, contacts, if_empty, **options):
        if User.objects.exists():
            if if_empty:
                self.stdout.write("Demo data: the database already has users; keeping it as it is.")
                return
            self.stderr.write("The database already has users; seed_demo only fills an empty one.")
            raise SystemExit(1)
        result = seed_demo(contacts=contacts)
        self.stdout.write(
            self.style.SUCCESS(f"Demo data: {result['companies']} companies, {result['contacts']} contacts.")
        )
        if settings.DEBUG:
            self.stdout.write("Demo logins (development only):")
            for username, password, role in result["logins"]:
                self.stdout.write(f"  {username:8} / {password:18} ({role})")
        else:
            self.stdout.write("Demo users created with random passwords; set them with `manage.py changepassword`.")
