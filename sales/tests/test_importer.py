"""Importing orders from CSV: grouping, the lifecycle, rejected lines, re-runs, resuming, the pages."""

import datetime
import time
import zoneinfo
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from contacts.models import Phase
from contacts.services import contact_create
from crm.testing import assert_access
from sales.importer import order_import_prepare, order_import_resume, order_import_run
from sales.models import Order, OrderImport, OrderImportRow, OrderStatus
from sales.tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

IST = zoneinfo.ZoneInfo("Asia/Kolkata")
Status = OrderImport.Status

SAMPLE = """Order number,Email,Date,SKU,Qty,Price,Discount,Status,Channel
WEB-1,asha@example.com,2025-03-10 23:30,PH-1,1,,1000,paid,online
WEB-1,asha@example.com,2025-03-10 23:30,CASE-1,2,,,paid,online
WEB-2,asha@example.com,15/04/2025 10:00,CASE-1,1,,,refunded,store
WEB-3,nobody@example.com,2025-04-20,PH-1,1,,,paid,store
WEB-4,asha@example.com,2025-04-21,NO-SUCH,1,,,paid,store
WEB-4,asha@example.com,2025-04-21,PH-1,1,,,paid,store
,ravi@example.com,2025-05-01,PH-1,one,,,paid,store
,ravi@example.com,2025-05-02,PH-1,1,,,placed,phone
"""


def upload(text: str, name: str = "orders.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


@pytest.fixture
def catalogue(db):
    return {
        "phone": ProductFactory(sku="PH-1", unit_price=Decimal("15000.00")),
        "case": ProductFactory(sku="CASE-1", unit_price=Decimal("500.00")),
    }


@pytest.fixture
def people(org):
    start = datetime.datetime(2024, 1, 1, 9, tzinfo=IST)
    asha = contact_create(by=org.rep_a1, given_name="Asha", email="asha@example.com", phase=Phase.ACQUISITION, at=start)
    ravi = contact_create(by=org.rep_a1, given_name="Ravi", email="Ravi@Example.com", phase=Phase.ACQUISITION, at=start)
    contact_create(by=org.rep_a2, given_name="Not mine", email="nobody@example.com", at=start)
    return {"asha": asha, "ravi": ravi}


def imported(org, text: str = SAMPLE, **run) -> OrderImport:
    job = order_import_prepare(owner=org.rep_a1, upload=upload(text))
    order_import_run(job_id=job.pk, **run)
    job.refresh_from_db()
    return job


def rejected(job) -> dict[int, str]:
    return dict(job.rows.filter(action=OrderImportRow.Action.REJECTED).values_list("line", "message"))


def test_an_import_creates_orders_line_by_line_grouped_by_reference(org, catalogue, people):
    job = imported(org)
    assert job.status == Status.DONE
    assert (job.total_rows, job.processed_rows, job.created_count, job.error_count) == (8, 8, 3, 4)
    web1 = Order.objects.get(reference="WEB-1")
    assert (web1.total, web1.status, web1.channel, web1.contact) == (
        Decimal("15000.00"),
        OrderStatus.PAID,
        "online",
        people["asha"],
    )
    assert web1.placed_at == datetime.datetime(2025, 3, 10, 23, 30, tzinfo=IST)
    assert Order.objects.get(reference="WEB-2").status == OrderStatus.REFUNDED
    placed = Order.objects.get(contact=people["ravi"])
    assert placed.status == OrderStatus.PLACED and placed.reference.startswith("CSV-")


def test_imported_orders_move_contacts_through_the_lifecycle(org, catalogue, people):
    imported(org)
    people["asha"].refresh_from_db()
    people["ravi"].refresh_from_db()
    # March, then April (paid, a repeat purchase; refunded later, which moves nothing back)
    assert people["asha"].phase == Phase.EXTENSION
    assert people["ravi"].phase == Phase.ACQUISITION  # placed, not paid


def test_rejected_lines_say_why_and_reject_their_whole_order(org, catalogue, people):
    job = imported(org)
    reasons = rejected(job)
    assert set(reasons) == {5, 6, 7, 8}
    assert "No contact you can see has the email nobody@example.com" in reasons[5]
    assert "Line 6: No product has the SKU “NO-SUCH”" in reasons[6] and reasons[7] == reasons[6]
    assert "quantity" in reasons[8]
    assert not Order.objects.filter(reference__in=["WEB-3", "WEB-4"]).exists()


def test_importing_the_same_file_again_skips_what_is_there(org, catalogue, people):
    imported(org)
    again = imported(org)
    assert (again.created_count, again.skipped_count, again.error_count) == (0, 4, 4)
    assert Order.objects.count() == 3


def test_a_stopped_import_resumes_after_the_lines_it_handled(org, catalogue, people):
    job = order_import_prepare(owner=org.rep_a1, upload=upload(SAMPLE))
    assert order_import_run(job_id=job.pk, batch_size=2, max_batches=1) == "paused"
    job.refresh_from_db()
    assert (job.status, job.processed_rows) == (Status.RUNNING, 2)  # WEB-1 whole: an order is never split
    assert order_import_run(job_id=job.pk, batch_size=2) == "done"
    job.refresh_from_db()
    assert (job.processed_rows, job.created_count) == (8, 3)
    assert job.rows.count() == 8 and Order.objects.count() == 3
    assert order_import_run(job_id=job.pk) == "not runnable"


def test_a_failed_import_can_be_resumed_once(org, catalogue, people):
    job = order_import_prepare(owner=org.rep_a1, upload=upload(SAMPLE))
    OrderImport.objects.filter(pk=job.pk).update(status=Status.FAILED)
    order_import_resume(job=job, by=org.rep_a1)
    with pytest.raises(ValidationError):
        order_import_resume(job=job, by=org.rep_a1)
    assert order_import_run(job_id=job.pk) == "done"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("Email,SKU\nasha@example.com,PH-1\n", "needs the columns"),
        ("Email,Date,SKU\n", "no orders"),
        ("Name,Phone\nA,1\n", "contact_email, placed_at, sku"),
    ],
)
def test_a_file_that_cannot_be_imported_is_refused_with_a_reason(org, text, message):
    with pytest.raises(ValidationError, match=message):
        order_import_prepare(owner=org.rep_a1, upload=upload(text))
    assert not OrderImport.objects.exists()


def test_a_date_in_a_bad_format_is_rejected_with_an_example(org, catalogue, people):
    job = imported(org, "Email,Date,SKU\nasha@example.com,March 3rd,PH-1\n")
    assert "is not a date (e.g. 2026-03-31" in rejected(job)[2]


# Pages --------------------------------------------------------------------------------------


def test_the_import_pages_follow_the_access_rule(org, catalogue, people):
    job = order_import_prepare(owner=org.rep_a1, upload=upload(SAMPLE))
    for url_name in ("sales:order_import_detail", "sales:order_import_progress", "sales:order_import_errors"):
        assert_access(
            reverse(url_name, args=[job.pk]), allowed=[org.rep_a1, org.manager_a, org.admin], denied=[org.rep_a2]
        )
    assert_access(reverse("sales:order_import_new"), allowed=[org.rep_a1, org.rep_b1])


def test_the_error_report_is_a_csv_safe_to_open_in_a_spreadsheet(client, org, catalogue, people):
    job = imported(org, "Email,Date,SKU\n=cmd@example.com,2025-01-01,PH-1\n")
    client.force_login(org.rep_a1)
    report = b"".join(client.get(reverse("sales:order_import_errors", args=[job.pk])).streaming_content).decode()
    assert report.startswith("\ufeffLine,Reason")
    assert "2," in report and ",=" not in report


@pytest.mark.django_db(transaction=True)
def test_a_rep_imports_orders_through_the_worker(client, org, catalogue, people, celery_worker):
    client.force_login(org.rep_a1)
    response = client.post(reverse("sales:order_import_new"), {"file": upload(SAMPLE)})
    job = OrderImport.objects.get()
    assert response["Location"] == job.get_absolute_url()
    for _attempt in range(200):
        job.refresh_from_db()
        if job.status not in (Status.QUEUED, Status.RUNNING):
            break
        time.sleep(0.05)
    assert job.status == Status.DONE, job.message
    page = client.get(job.get_absolute_url()).content.decode()
    assert "No product has the SKU" in page and 'data-testid="error-report"' in page
    assert Order.objects.count() == 3


def test_the_resume_button_queues_a_failed_import_once_and_says_so(client, org, catalogue, people):
    job = order_import_prepare(owner=org.rep_a1, upload=upload(SAMPLE))
    OrderImport.objects.filter(pk=job.pk).update(status=Status.FAILED)
    client.force_login(org.rep_a1)
    url = reverse("sales:order_import_resume", args=[job.pk])
    first = client.post(url, follow=True)
    assert first.redirect_chain[-1][0] == job.get_absolute_url()
    assert "The import continues where it stopped." in first.content.decode()
    job.refresh_from_db()
    assert job.status != Status.FAILED
    second = client.post(url, follow=True)
    assert [m.level_tag for m in second.context["messages"]] == ["error"]
