"""Default SLA policies, one per priority, in calendar time; admins change them in the admin."""

from django.db import migrations

# priority -> (first response, resolution), in minutes
DEFAULTS = {
    "urgent": (60, 4 * 60),
    "high": (4 * 60, 24 * 60),
    "normal": (8 * 60, 3 * 24 * 60),
    "low": (24 * 60, 7 * 24 * 60),
}


def create_policies(apps, schema_editor):
    SLAPolicy = apps.get_model("support", "SLAPolicy")
    for priority, (first_response, resolution) in DEFAULTS.items():
        SLAPolicy.objects.using(schema_editor.connection.alias).get_or_create(
            priority=priority,
            defaults={"first_response_minutes": first_response, "resolution_minutes": resolution},
        )


class Migration(migrations.Migration):
    dependencies = [("support", "0001_initial")]

    operations = [migrations.RunPython(create_policies, migrations.RunPython.noop)]
