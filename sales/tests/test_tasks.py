"""The nightly jobs of the sales app, run by a real Celery worker over the real Redis."""

import datetime

import pytest
from django.utils import timezone

from contacts.models import Contact, Phase, PhaseChange
from contacts.services import contact_create
from sales.models import ProductRelation
from sales.tasks import lifecycle_churn_task, suggestions_refresh_task
from sales.tests.factories import ProductFactory, paid_order


@pytest.mark.django_db(transaction=True)
def test_the_worker_churns_lapsed_customers_once_however_often_the_job_runs(org, celery_worker):
    long_ago = timezone.now() - datetime.timedelta(days=800)
    lapsed = contact_create(by=org.rep_a1, given_name="Lapsed", phase=Phase.ACQUISITION, at=long_ago)
    paid_order(lapsed, at=long_ago + datetime.timedelta(days=1))
    recent = contact_create(by=org.rep_a1, given_name="Recent", phase=Phase.ACQUISITION, at=long_ago)
    paid_order(recent, at=timezone.now() - datetime.timedelta(days=3))

    results = [lifecycle_churn_task.delay() for _ in range(3)]

    assert sorted(result.get(timeout=30) for result in results) == [0, 0, 1]
    assert Contact.objects.get(pk=lapsed.pk).phase == Phase.CHURNED
    assert Contact.objects.get(pk=recent.pk).phase == Phase.RETENTION
    assert PhaseChange.objects.filter(contact=lapsed, to_phase=Phase.CHURNED).count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_worker_refreshes_the_suggestions(org, celery_worker):
    phone, case = ProductFactory(), ProductFactory()
    other = ProductFactory()
    for n in range(4):
        buyer = contact_create(by=org.rep_a1, given_name=f"Buyer {n}", phase=Phase.ACQUISITION)
        paid_order(buyer, phone, case, at=timezone.now())
        paid_order(buyer, other, at=timezone.now())

    result = suggestions_refresh_task.delay().get(timeout=30)

    assert result["upserted"] == 2
    assert set(ProductRelation.objects.values_list("from_product", "to_product")) == {
        (phone.pk, case.pk),
        (case.pk, phone.pk),
    }


def test_the_nightly_jobs_are_scheduled_after_midnight_business_time():
    from crm.celery import app
    from crm.management.commands.setup_periodic_tasks import PERIODIC_TASKS

    app.loader.import_default_modules()
    ours = {task: fields for task, fields in PERIODIC_TASKS.values() if task.startswith("sales.")}
    nightly = {"sales.tasks.lifecycle_churn_task", "sales.tasks.suggestions_refresh_task"}
    assert nightly <= set(ours) and set(ours) <= set(app.tasks)
    assert all(int(ours[task]["hour"]) < 6 for task in nightly)
