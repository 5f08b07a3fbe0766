"""The demo data loaded by `make run`."""

import pytest
from django.core.management import call_command

from contacts.models import Company, Contact
from crm.models import Role, Team, User

pytestmark = pytest.mark.django_db


def test_seed_demo_fills_an_empty_database_once(settings, capsys):
    settings.DEBUG = True
    call_command("seed_demo", contacts=60)
    out = capsys.readouterr().out
    assert "arjun" in out and "demo-rep-2026" in out
    assert User.objects.filter(role=Role.REP).count() == 2
    team = Team.objects.get()
    assert team.manager.username == "meera" and team.members.count() == 3
    # 60 contacts asked for, and the few duplicates the demo types in again for the review queue
    assert 60 < Contact.objects.count() <= 63 and Company.objects.count() > 10
    names = "".join(Contact.objects.values_list("display_name", flat=True))
    assert any("\u0900" <= ch <= "\u097f" for ch in names)  # Devanagari
    assert all(Contact.objects.filter(phone__startswith="+91").values_list("phone", flat=True))
    count = Contact.objects.count()
    call_command("seed_demo", if_empty=True)
    assert Contact.objects.count() == count
    assert User.objects.get(username="arjun").check_password("demo-rep-2026")


def test_seed_demo_prints_no_password_outside_development(settings, capsys):
    settings.DEBUG = False
    call_command("seed_demo", contacts=5)
    out = capsys.readouterr().out
    assert "demo-rep-2026" not in out
    assert not User.objects.get(username="arjun").check_password("demo-rep-2026")


def test_setup_periodic_tasks_is_idempotent():
    from django_celery_beat.models import PeriodicTask

    call_command("setup_periodic_tasks")
    call_command("setup_periodic_tasks")
    assert PeriodicTask.objects.filter(task="crm.tasks.clear_expired_sessions_task").count() == 1


def test_seed_demo_shows_every_part_of_the_client_database(settings):
    from contacts.models import (
        Activity,
        AssignmentRule,
        ConsentEvent,
        CustomField,
        DuplicateCandidate,
        FieldChange,
        PhaseChange,
        Referral,
        Task,
    )

    settings.DEBUG = True
    call_command("seed_demo", contacts=60)
    assert Activity.objects.exclude(kind="phase").count() >= 60
    assert Task.objects.filter(status="open").exists()
    assert ConsentEvent.objects.filter(status="granted").exists()
    assert Referral.objects.filter(referrer__is_influencer=True).exists()
    assert DuplicateCandidate.objects.filter(status="open").exists()
    assert CustomField.objects.count() == 4 and Contact.objects.exclude(custom={}).exists()
    assert PhaseChange.objects.exclude(from_phase="").exclude(reason="").exists()
    assert FieldChange.objects.filter(via="form", field="job_title").exists()
    assert AssignmentRule.objects.filter(active=True).count() == 2
    assert Contact.objects.filter(tags__isnull=False).exists()
    assert Contact.objects.filter(social_accounts__isnull=False).exists()
