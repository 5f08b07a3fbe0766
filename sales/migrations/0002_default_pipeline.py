"""A first pipeline, so that the board works on a new installation; admins rename or replace it."""

from django.db import migrations

STAGES = [
    # name, kind, win probability (%)
    ("Qualification", "open", 10),
    ("Needs analysis", "open", 25),
    ("Proposal", "open", 50),
    ("Negotiation", "open", 75),
    ("Won", "won", 100),
    ("Lost", "lost", 0),
]


def create_default_pipeline(apps, schema_editor):
    Pipeline = apps.get_model("sales", "Pipeline")
    Stage = apps.get_model("sales", "Stage")
    db = schema_editor.connection.alias
    if Pipeline.objects.using(db).exists():
        return
    pipeline = Pipeline.objects.using(db).create(name="Sales", active=True, position=0)
    Stage.objects.using(db).bulk_create(
        Stage(pipeline=pipeline, name=name, kind=kind, probability=probability, position=position)
        for position, (name, kind, probability) in enumerate(STAGES, start=1)
    )


class Migration(migrations.Migration):
    dependencies = [
        ("sales", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(create_default_pipeline, migrations.RunPython.noop),
    ]
