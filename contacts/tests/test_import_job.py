"""The import job: upload, mapping, a run through a real worker, duplicates, resuming, reverting, limits, pages."""

import contextlib
import csv
import io
import time

import pytest
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, connection, connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from contacts.importers import job as job_module
from contacts.importers.job import (
    LOCK_NAMESPACE,
    import_prepare,
    import_resume,
    import_revert,
    import_run,
    import_start,
    job_fields,
)
from contacts.models import (
    Company,
    Contact,
    ContactEmail,
    ContactPhone,
    CustomField,
    FieldChange,
    ImportJob,
    ImportRowResult,
    Notification,
    PhaseChange,
)
from contacts.services import contact_create
from contacts.tests.factories import CompanyFactory
from crm.testing import assert_access

Action = ImportRowResult.Action
Status = ImportJob.Status

SAMPLE = (
    "First Name,Last Name,Email,Phone,Company,City,Tags,Lifecycle Stage\n"
    'Asha,Rao,asha@example.com,+91 98450 10001,Ganga Agro,Pune,"vip, north",lead\n'  # 2 created
    "Ravi,Kumar,ravi@example.com,,ganga agro,Goa,,customer\n"  # 3 created, same company
    "Bad,,not-an-email,,,,,\n"  # 4 rejected
    "Existing,Person,old@example.com,,,Mumbai,new-tag,customer\n"  # 5 duplicate of a contact we have
    'Asha,Rao,asha@example.com,+91 98450 10001,Ganga Agro,Pune,"vip, north",lead\n'  # 6 the same line again
    "Asha,R.,asha2@example.com,+91 98450 10001,,Pune,,\n"  # 7 duplicate of line 2 by phone
    ",,,,,,,\n"  # 8 blank: not a row
    ",,nobody@example.com,,,,,\n"  # 9 rejected: no name
    "Meera,Nair,meera@example.com,098470 12345,Kerala Spices,Kochi,,opportunity\n"  # 10 created
)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def upload(content, name: str = "contacts.csv") -> SimpleUploadedFile:
    data = content.encode("utf-8") if isinstance(content, str) else content
    return SimpleUploadedFile(name, data, content_type="text/csv")


def existing_contact(owner):
    return contact_create(
        by=owner, owner=owner, given_name="Existing", family_name="Person", email="old@example.com", city="Delhi"
    )


def run_file(owner, content=SAMPLE, *, on_duplicate="skip", fields=None, **run_args) -> ImportJob:
    job = import_prepare(owner=owner, upload=upload(content), on_duplicate=on_duplicate)
    import_start(job=job, fields=fields or job_fields(job), by=owner)
    import_run(job_id=job.pk, **run_args)
    job.refresh_from_db()
    return job


def outcomes(job) -> list[tuple]:
    return list(job.rows.order_by("line").values_list("line", "action", "message"))


def snapshot(owner) -> list[tuple]:
    contacts = (
        Contact.objects.filter(owner=owner)
        .select_related("company")
        .prefetch_related("emails", "phones", "tags")
        .order_by("display_name", "id")
    )
    return [
        (
            c.display_name,
            c.given_name,
            c.family_name,
            c.email,
            c.phone,
            [(e.email, e.is_primary) for e in c.emails.all()],
            [(p.number, p.is_primary) for p in c.phones.all()],
            sorted(t.name for t in c.tags.all()),
            c.company.name if c.company else "",
            c.city,
            c.phase,
            c.source,
        )
        for c in contacts
    ]


# One run -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_run_creates_contacts_with_the_records_contact_create_gives(org):
    existing_contact(org.rep_a1)
    job = run_file(org.rep_a1)
    assert job.status == Status.DONE
    assert (job.total_rows, job.processed_rows) == (8, 8)  # the blank line is not a row
    assert (job.created_count, job.updated_count, job.skipped_count, job.error_count) == (3, 0, 3, 2)
    asha = Contact.objects.get(display_name="Asha Rao")
    assert (asha.owner, asha.email, asha.phone, asha.source, asha.phase) == (
        org.rep_a1,
        "asha@example.com",
        "+919845010001",
        "import",
        "acquisition",
    )
    assert list(asha.emails.values_list("email", "is_primary")) == [("asha@example.com", True)]
    assert list(asha.phones.values_list("number", "is_primary")) == [("+919845010001", True)]
    assert sorted(asha.tags.values_list("name", flat=True)) == ["north", "vip"]
    assert list(PhaseChange.objects.filter(contact=asha).values_list("from_phase", "to_phase")) == [("", "acquisition")]
    created = FieldChange.objects.get(record_type="contact", record_id=asha.pk, field="created")
    assert (created.via, created.changed_by, created.new_value) == (f"import #{job.pk}", org.rep_a1, "Asha Rao")
    # "Ganga Agro" and "ganga agro" are one company, created for the importer.
    ravi = Contact.objects.get(display_name="Ravi Kumar")
    assert ravi.company_id == asha.company_id
    assert asha.company.owner == org.rep_a1
    assert Company.objects.filter(name__iexact="ganga agro").count() == 1
    assert Notification.objects.filter(user=org.rep_a1, key=f"import:{job.pk}:done").exists()


@pytest.mark.django_db
def test_rejected_lines_are_reported_by_their_line_in_the_file(org):
    job = run_file(org.rep_a1)
    rejected = job.rows.filter(action=Action.REJECTED).order_by("line")
    assert [(row.line, row.message) for row in rejected] == [
        (4, "“not-an-email” is not a valid email address."),
        (9, "A name is needed: a given name, a family name or a display name."),
    ]


@pytest.mark.django_db
def test_the_error_report_lists_each_rejected_line_with_its_reason(client, org):
    job = run_file(org.rep_a1)
    client.force_login(org.rep_a1)
    response = client.get(reverse("contacts:import_errors", args=[job.pk]))
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(text))) == [
        ["Line", "Reason"],
        ["4", "“not-an-email” is not a valid email address."],
        ["9", "A name is needed: a given name, a family name or a display name."],
    ]


@pytest.mark.django_db
def test_a_company_is_found_by_name_among_the_visible_ones_only(org):
    mine = CompanyFactory(owner=org.rep_a1, name="GANGA AGRO")
    CompanyFactory(owner=org.rep_a2, name="Kerala Spices")  # not visible to rep_a1
    run_file(org.rep_a1)
    assert Contact.objects.get(display_name="Asha Rao").company == mine
    meera = Contact.objects.get(display_name="Meera Nair")
    assert meera.company.owner == org.rep_a1
    assert Company.objects.filter(name="Kerala Spices").count() == 2


@pytest.mark.django_db
def test_values_with_tabs_backslashes_and_line_breaks_are_written_as_they_are(org):
    CustomField.objects.create(key="nickname", label="Nickname", kind=CustomField.Kind.TEXT)
    job = run_file(
        org.rep_a1,
        "First Name,Last Name,Address,Nickname,Tags,Job Title\n"
        '"A\\sha",Rao,"12 MG Road\n\tFlat 3\\B","आशा \\ ""A""","back\\slash, शहर",'
        '"Head \\N of ""sales"""\n',
    )
    assert job.created_count == 1, outcomes(job)
    asha = Contact.objects.get()
    assert (asha.given_name, asha.display_name) == ("A\\sha", "A\\sha Rao")
    assert asha.address_line == "12 MG Road\n\tFlat 3\\B"
    assert asha.job_title == 'Head \\N of "sales"'
    assert asha.custom == {"nickname": 'आशा \\ "A"'}
    assert sorted(asha.tags.values_list("name", flat=True)) == ["back\\slash", "शहर"]
    created = FieldChange.objects.get(record_type="contact", record_id=asha.pk, field="created")
    assert created.new_value == "A\\sha Rao"


@pytest.mark.django_db
def test_a_batch_of_many_rows_writes_every_contact_with_its_rows(org):
    rows = "".join(f"P{n},S{n},p{n}@example.com,+91 98450 {30000 + n},,Pune,t{n % 3},lead\n" for n in range(250))
    job = run_file(org.rep_a1, SAMPLE.splitlines(keepends=True)[0] + rows, batch_size=100)
    assert (job.created_count, job.processed_rows) == (250, 250)
    contacts = Contact.objects.filter(owner=org.rep_a1)
    assert ContactEmail.objects.filter(contact__in=contacts, is_primary=True).count() == 250
    assert ContactPhone.objects.filter(contact__in=contacts, is_primary=True).count() == 250
    assert PhaseChange.objects.filter(contact__in=contacts, from_phase="", to_phase="acquisition").count() == 250
    assert Contact.tags.through.objects.filter(contact__in=contacts).count() == 250
    assert set(job.rows.values_list("contact_id", flat=True)) == set(contacts.values_list("pk", flat=True))
    p7 = Contact.objects.get(email="p7@example.com")
    assert (p7.display_name, p7.phone, list(p7.tags.values_list("name", flat=True))) == (
        "P7 S7",
        "+919845030007",
        ["t1"],
    )


# Duplicates ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_skip_keeps_the_existing_contact_as_it_was(org):
    existing = existing_contact(org.rep_a1)
    job = run_file(org.rep_a1, on_duplicate="skip")
    existing.refresh_from_db()
    assert existing.city == "Delhi"
    row = job.rows.get(line=5)
    assert (row.action, row.contact) == (Action.SKIPPED, existing)
    assert job.rows.get(line=7).action == Action.SKIPPED  # same phone as line 2


@pytest.mark.django_db
def test_update_overwrites_fields_adds_channels_and_keeps_the_previous_values(org):
    existing = existing_contact(org.rep_a1)
    job = run_file(org.rep_a1, on_duplicate="update")
    existing.refresh_from_db()
    assert (existing.city, existing.phase) == ("Mumbai", "retention")
    assert list(existing.tags.values_list("name", flat=True)) == ["new-tag"]
    row = job.rows.get(line=5)
    assert row.action == Action.UPDATED
    assert row.previous["fields"]["city"] == ["Delhi", "Mumbai"]
    assert row.previous["phase"] == ["selection", "retention"]
    assert FieldChange.objects.filter(record_id=existing.pk, field="city", via=f"import #{job.pk}").exists()
    # Line 7 shares a phone with line 2 (created just before, in the same batch): that contact is updated.
    asha = Contact.objects.get(email="asha@example.com")
    assert asha.family_name == "R." and asha.display_name == "Asha R."
    assert list(asha.emails.values_list("email", "is_primary")) == [
        ("asha@example.com", True),
        ("asha2@example.com", False),
    ]
    assert (job.created_count, job.updated_count) == (3, 2)


@pytest.mark.django_db
def test_create_makes_a_new_contact_even_for_a_duplicate(org):
    existing = existing_contact(org.rep_a1)
    job = run_file(org.rep_a1, on_duplicate="create")
    assert job.rows.get(line=5).action == Action.CREATED
    assert Contact.objects.filter(emails__email="old@example.com").count() == 2
    existing.refresh_from_db()
    assert existing.city == "Delhi"


@pytest.mark.django_db
def test_duplicates_are_looked_up_only_among_visible_contacts(org):
    existing_contact(org.rep_a2)  # same email, but rep_a1 cannot see it
    job = run_file(org.rep_a1, on_duplicate="skip")
    assert job.rows.get(line=5).action == Action.CREATED


@pytest.mark.django_db
@pytest.mark.parametrize("on_duplicate", ["skip", "update", "create"])
def test_the_same_file_twice_creates_nothing_twice(org, on_duplicate):
    existing_contact(org.rep_a1)
    run_file(org.rep_a1, on_duplicate=on_duplicate)
    before = snapshot(org.rep_a1)
    second = run_file(org.rep_a1, on_duplicate=on_duplicate)
    assert snapshot(org.rep_a1) == before
    assert (second.created_count, second.updated_count) == (0, 0)
    assert second.rows.get(line=2).message == "This line was already imported."


@pytest.mark.django_db
def test_the_same_file_saved_differently_is_still_the_same_lines(org):
    run_file(org.rep_a1)
    again = SAMPLE.replace("\n", "\r\n").replace("Asha,Rao", "Asha ,  Rao")
    job = import_prepare(owner=org.rep_a1, upload=upload("\ufeff" + again))
    import_start(job=job, fields=job_fields(job), by=org.rep_a1)
    import_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.created_count == 0


@pytest.mark.django_db
def test_another_user_importing_the_same_file_gets_their_own_contacts(org):
    run_file(org.rep_a1)
    job = run_file(org.rep_b1)
    assert job.created_count == 4  # line 5 has no duplicate for rep_b1
    assert Contact.objects.filter(owner=org.rep_b1).count() == 4


# Resuming ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_job_stopped_after_a_batch_resumes_and_ends_as_an_uninterrupted_run(org):
    existing_contact(org.rep_a1)
    existing_contact(org.rep_b1)
    job = import_prepare(owner=org.rep_a1, upload=upload(SAMPLE), on_duplicate="update")
    import_start(job=job, fields=job_fields(job), by=org.rep_a1)
    assert import_run(job_id=job.pk, batch_size=2, max_batches=1) == "paused"  # as if the worker was killed
    job.refresh_from_db()
    assert (job.status, job.processed_rows, job.created_count) == (Status.RUNNING, 2, 2)
    assert import_run(job_id=job.pk, batch_size=2, max_batches=2) == "paused"
    assert import_run(job_id=job.pk, batch_size=2) == "done"
    job.refresh_from_db()

    whole = run_file(org.rep_b1, on_duplicate="update")
    assert outcomes(job) == outcomes(whole)
    assert snapshot(org.rep_a1) == snapshot(org.rep_b1)
    for field in ("processed_rows", "created_count", "updated_count", "skipped_count", "error_count"):
        assert getattr(job, field) == getattr(whole, field)


@pytest.mark.django_db
def test_a_job_that_failed_in_a_batch_keeps_the_batches_before_and_resumes(org, monkeypatch):
    real_write, calls = job_module._write, []

    def failing_second_batch(batch, rows):
        calls.append(len(rows))
        if len(calls) == 2:
            raise RuntimeError("worker lost")
        real_write(batch, rows)

    monkeypatch.setattr(job_module, "_write", failing_second_batch)
    job = import_prepare(owner=org.rep_a1, upload=upload(SAMPLE), on_duplicate="skip")
    import_start(job=job, fields=job_fields(job), by=org.rep_a1)
    with pytest.raises(RuntimeError):
        import_run(job_id=job.pk, batch_size=3)
    job.refresh_from_db()
    assert (job.status, job.processed_rows) == (Status.FAILED, 3)
    assert "resume" in job.message
    assert job.rows.count() == 3 and Contact.objects.filter(owner=org.rep_a1).count() == 2

    import_resume(job=job, by=org.rep_a1)
    assert import_run(job_id=job.pk, batch_size=3) == "done"
    job.refresh_from_db()
    whole = run_file(org.rep_b1, on_duplicate="skip")
    assert outcomes(job) == outcomes(whole)
    assert snapshot(org.rep_a1) == snapshot(org.rep_b1)


def _wait_for_session_end(pid: int) -> None:
    """The server ends a closed session (and frees its locks) a moment after the client hangs up."""
    deadline = time.monotonic() + 10
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            # pg_stat_activity is read once per transaction unless the snapshot is dropped
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid])
            if cursor.fetchone()[0] == 0:
                return
            time.sleep(0.02)
    raise AssertionError(f"session {pid} did not end")


@pytest.mark.django_db
def test_a_second_worker_does_not_run_a_job_that_is_being_run(org):
    job = import_prepare(owner=org.rep_a1, upload=upload(SAMPLE))
    import_start(job=job, fields=job_fields(job), by=org.rep_a1)
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:  # another worker's session holds the job
            cursor.execute("SELECT pg_advisory_lock(%s, %s)", [LOCK_NAMESPACE, job.pk])
            cursor.execute("SELECT pg_backend_pid()")
            other_pid = cursor.fetchone()[0]
        assert import_run(job_id=job.pk) == "busy"
        job.refresh_from_db()
        assert (job.status, job.processed_rows) == (Status.QUEUED, 0)
        # The worker is killed: its session ends, and the lock goes with it.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [other_pid])
        _wait_for_session_end(other_pid)
    finally:
        with contextlib.suppress(DatabaseError):
            other.close()
    assert import_run(job_id=job.pk) == "done"
    assert import_run(job_id=job.pk) == "not runnable"  # a redelivered task after the end does nothing


@pytest.mark.django_db
def test_a_job_waiting_for_its_mapping_is_not_run(org):
    job = import_prepare(owner=org.rep_a1, upload=upload(SAMPLE))
    assert import_run(job_id=job.pk) == "not runnable"
    assert not Contact.objects.exists()


@pytest.mark.django_db
def test_a_job_cannot_be_started_twice(org):
    job = import_prepare(owner=org.rep_a1, upload=upload(SAMPLE))
    import_start(job=job, fields=job_fields(job), by=org.rep_a1)
    with pytest.raises(ValidationError, match="already been started"):
        import_start(job=job, fields=job_fields(job), by=org.rep_a1)


@pytest.mark.django_db
def test_queries_grow_with_batches_not_with_rows(org):
    existing_contact(org.rep_a1)
    rows = "".join(
        f"Person{n},Surname,p{n}@example.com,+91 98450 {20000 + n},Company {n % 3},Pune,tag{n % 2},lead\n"
        for n in range(150)
    )
    header = SAMPLE.splitlines(keepends=True)[0]
    counts = []
    for owner, body in ((org.rep_a1, rows[: len(rows) // 3]), (org.rep_b1, rows)):
        job = import_prepare(owner=owner, upload=upload(header + body), on_duplicate="update")
        import_start(job=job, fields=job_fields(job), by=owner)
        with CaptureQueriesContext(connection) as queries:
            import_run(job_id=job.pk, batch_size=50)
        counts.append(len(queries))
    one_batch, three_batches = counts
    assert three_batches <= 3 * one_batch
    assert three_batches < 150 / 2  # never a query per row


# Revert --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_revert_removes_what_it_created_and_restores_what_it_updated(org):
    existing = existing_contact(org.rep_a1)
    other_company = CompanyFactory(owner=org.rep_a1, name="Kept Traders")
    before = snapshot(org.rep_a1)
    job = run_file(org.rep_a1, on_duplicate="update")
    assert Company.objects.filter(name="Ganga Agro").exists()
    import_revert(job=job, by=org.rep_a1)
    job.refresh_from_db()
    assert job.status == Status.REVERTED and job.reverted_at is not None
    assert snapshot(org.rep_a1) == before
    existing.refresh_from_db()
    assert existing.phase == "selection"
    assert not Company.objects.filter(name__in=["Ganga Agro", "Kerala Spices"]).exists()
    assert Company.objects.filter(pk=other_company.pk).exists()
    assert not ContactEmail.objects.filter(email="asha@example.com").exists()
    assert not ContactPhone.objects.filter(number="+919845010001").exists()
    assert FieldChange.objects.filter(via=f"revert import #{job.pk}", field="deleted").count() == 3
    with pytest.raises(ValidationError, match="finished"):
        import_revert(job=job, by=org.rep_a1)


@pytest.mark.django_db
def test_revert_keeps_a_field_someone_changed_after_the_import(org):
    existing = existing_contact(org.rep_a1)
    job = run_file(org.rep_a1, on_duplicate="update")
    Contact.objects.filter(pk=existing.pk).update(city="Chennai")
    import_revert(job=job, by=org.rep_a1)
    existing.refresh_from_db()
    assert existing.city == "Chennai"
    assert list(existing.tags.values_list("name", flat=True)) == []


@pytest.mark.django_db
def test_revert_page_needs_the_confirmation(client, org):
    job = run_file(org.rep_a1)
    client.force_login(org.rep_a1)
    url = reverse("contacts:import_revert", args=[job.pk])
    assert client.post(url, {}).status_code == 200
    job.refresh_from_db()
    assert job.status == Status.DONE
    response = client.post(url, {"confirm": "on"})
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == Status.REVERTED
    assert not Contact.objects.filter(owner=org.rep_a1).exists()


# Limits and bad files ------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "file is empty."),
        (b"\r\n \r\n", "The file is empty."),
        (b"First Name,Last Name,Email\r\n", "only a header line"),
        (b'Name,City\n"Asha,Pune\n' + b"x" * 140_000 + b"\n", "cannot be read as CSV near line 2"),
    ],
)
def test_bad_files_give_a_clear_message_and_save_nothing(client, org, content, message):
    client.force_login(org.rep_a1)
    response = client.post(reverse("contacts:import_new"), {"file": upload(content), "on_duplicate": "skip"})
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors["file"])
    assert not ImportJob.objects.exists()


@pytest.mark.django_db
def test_a_cut_off_vcard_is_a_rejected_row_not_a_broken_file(org):
    data = b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Asha Rao\r\nEND:VCARD\r\nBEGIN:VCARD\r\nFN:Cut\r\n"
    job = run_file(org.rep_a1, data)
    assert outcomes(job) == [(1, Action.CREATED, ""), (5, Action.REJECTED, "This vCard has no END:VCARD line.")]


@pytest.mark.django_db
def test_a_file_over_the_size_limit_is_refused_with_a_message(client, org, settings):
    settings.IMPORT_MAX_BYTES = 100
    client.force_login(org.rep_a1)
    response = client.post(reverse("contacts:import_new"), {"file": upload(SAMPLE), "on_duplicate": "skip"})
    assert "files up to" in " ".join(response.context["form"].errors["file"])
    assert not ImportJob.objects.exists()


@pytest.mark.django_db
def test_the_row_limit_counts_data_rows(org, settings):
    settings.IMPORT_MAX_ROWS = 3
    header = "Name,Email\n"
    job = import_prepare(owner=org.rep_a1, upload=upload(header + "a,\nb,\n\nc,\n"))
    assert job.total_rows == 3
    with pytest.raises(ValidationError, match="more than 3 rows"):
        import_prepare(owner=org.rep_a1, upload=upload(header + "a,\nb,\nc,\nd,\n"))


@pytest.mark.django_db
def test_a_file_of_exactly_1048576_rows_is_accepted_and_one_more_is_not(org, tmp_path):
    path = tmp_path / "big.csv"
    with open(path, "w", encoding="utf-8", newline="") as big:
        big.write("Name,Email\n")
        big.writelines(f"P{n},\n" for n in range(1_048_576))
    with open(path, "rb") as stream:
        job = import_prepare(owner=org.rep_a1, upload=File(stream, name="big.csv"))
    assert job.total_rows == 1_048_576
    with open(path, "a", encoding="utf-8", newline="") as big:
        big.write("one,more\n")
    with open(path, "rb") as stream, pytest.raises(ValidationError, match="more than 1,048,576 rows"):
        import_prepare(owner=org.rep_a1, upload=File(stream, name="big.csv"))


@pytest.mark.django_db
def test_a_latin1_file_is_imported_and_the_fallback_is_shown(client, org):
    client.force_login(org.rep_a1)
    data = "First Name,Last Name,City\r\nJosé,Müller,Málaga\r\n".encode("cp1252")
    response = client.post(reverse("contacts:import_new"), {"file": upload(data), "on_duplicate": "skip"})
    job = ImportJob.objects.get()
    assert response["Location"] == reverse("contacts:import_mapping", args=[job.pk])
    page = client.get(response["Location"])
    assert "Windows-1252" in page.content.decode()
    assert "José" in page.content.decode()
    import_start(job=job, fields=job_fields(job), by=org.rep_a1)
    import_run(job_id=job.pk)
    assert Contact.objects.get().display_name == "José Müller"


@pytest.mark.django_db
def test_a_vcard_file_is_imported(org):
    from pathlib import Path

    data = (Path(__file__).parent / "files" / "vcard40.vcf").read_bytes()
    job = import_prepare(owner=org.rep_a1, upload=upload(data, "phone.vcf"))
    assert job.format == ImportJob.Format.VCARD and job.total_rows == 2
    import_start(job=job, fields=job_fields(job), by=org.rep_a1)
    import_run(job_id=job.pk)
    anant = Contact.objects.get(given_name="ಅನಂತ್")
    assert list(anant.emails.values_list("email", flat=True)) == [
        "anant@example.in",
        "anant.home@example.in",
        "anant.other@example.in",
    ]
    assert anant.company.name == "ಕನ್ನಡ ಚಿತ್ರ"


# Pages ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_mapping_page_shows_the_guess_and_a_preview_and_takes_changes(client, org):
    client.force_login(org.rep_a1)
    job = import_prepare(owner=org.rep_a1, upload=upload(SAMPLE))
    url = reverse("contacts:import_mapping", args=[job.pk])
    page = client.get(url)
    form = page.context["form"]
    assert [form[f"column_{n}"].initial for n in range(8)] == [
        "given_name",
        "family_name",
        "email",
        "phone",
        "company",
        "city",
        "tags",
        "phase",
    ]
    assert "Ravi" in page.content.decode()
    assert f"{job.file_name}: {job.total_rows} rows to import" in page.content.decode()
    data = {f"column_{n}": value for n, value in enumerate(job_fields(job))}
    refused = client.post(url, {**data, "column_0": "ignore", "column_1": "ignore"})
    assert "at least one column" in refused.content.decode()
    job.refresh_from_db()
    assert job.status == Status.MAPPING
    data["column_5"] = "state"
    assert client.post(url, data).status_code == 302
    job.refresh_from_db()
    assert job.status == Status.QUEUED and job_fields(job)[5] == "state"
    assert client.get(url)["Location"] == job.get_absolute_url()  # no second mapping


@pytest.mark.django_db
def test_the_progress_partial_polls_while_running_and_stops_when_done(client, org):
    client.force_login(org.rep_a1)
    job = import_prepare(owner=org.rep_a1, upload=upload(SAMPLE))
    import_start(job=job, fields=job_fields(job), by=org.rep_a1)
    url = reverse("contacts:import_progress", args=[job.pk])
    running = client.get(url, headers={"HX-Request": "true"})
    assert 'hx-trigger="every 1s"' in running.content.decode()
    import_run(job_id=job.pk)
    done = client.get(url + "?was=running", headers={"HX-Request": "true"})
    assert "every 1s" not in done.content.decode()
    assert done["HX-Refresh"] == "true"
    assert "<html" not in done.content.decode()


@pytest.mark.django_db
def test_import_pages_follow_the_access_rule(org):
    done = run_file(org.rep_a1)
    waiting = import_prepare(owner=org.rep_a1, upload=upload(SAMPLE))
    allowed, denied = [org.rep_a1, org.manager_a, org.admin], [org.rep_a2, org.manager_b, org.rep_b1]
    for name, job in (
        ("contacts:import_detail", done),
        ("contacts:import_progress", done),
        ("contacts:import_errors", done),
        ("contacts:import_revert", done),
        ("contacts:import_mapping", waiting),
    ):
        assert_access(reverse(name, args=[job.pk]), allowed=allowed, denied=denied)
    assert_access(reverse("contacts:import_list"), allowed=[*allowed, *denied])
    assert_access(reverse("contacts:import_new"), allowed=[*allowed, *denied])


@pytest.mark.django_db
def test_revert_and_resume_of_another_owners_job_answer_404(client, org):
    job = run_file(org.rep_a1)
    client.force_login(org.rep_a2)
    assert client.post(reverse("contacts:import_revert", args=[job.pk]), {"confirm": "on"}).status_code == 404
    assert client.post(reverse("contacts:import_resume", args=[job.pk])).status_code == 404
    job.refresh_from_db()
    assert job.status == Status.DONE


@pytest.mark.django_db
def test_the_list_shows_only_visible_imports_with_bounded_queries(client, org, django_assert_max_num_queries):
    for _n in range(5):
        import_prepare(owner=org.rep_a1, upload=upload(SAMPLE, "mine.csv"))
    import_prepare(owner=org.rep_a2, upload=upload(SAMPLE, "theirs.csv"))
    client.force_login(org.rep_a1)
    with django_assert_max_num_queries(6):
        page = client.get(reverse("contacts:import_list"))
    assert page.content.decode().count("mine.csv") == 5
    assert "theirs.csv" not in page.content.decode()


@pytest.mark.django_db
def test_the_job_page_shows_counts_and_rejected_lines_with_bounded_queries(client, org, django_assert_max_num_queries):
    job = run_file(org.rep_a1)
    client.force_login(org.rep_a1)
    with django_assert_max_num_queries(6):
        page = client.get(job.get_absolute_url())
    body = page.content.decode()
    assert "“not-an-email” is not a valid email address." in body
    assert reverse("contacts:import_errors", args=[job.pk]) in body
    assert reverse("contacts:import_revert", args=[job.pk]) in body


# Through a real worker -----------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_full_import_through_the_worker(client, org, celery_worker):
    existing_contact(org.rep_a1)
    client.force_login(org.rep_a1)
    response = client.post(reverse("contacts:import_new"), {"file": upload(SAMPLE), "on_duplicate": "update"})
    job = ImportJob.objects.get()
    mapping = client.get(response["Location"]).context["form"]
    data = {name: field.initial for name, field in mapping.fields.items()}
    assert client.post(response["Location"], data).status_code == 302
    for _attempt in range(200):
        job.refresh_from_db()
        if job.status not in (Status.QUEUED, Status.RUNNING):
            break
        time.sleep(0.05)
    assert job.status == Status.DONE, job.message
    assert (job.created_count, job.updated_count, job.skipped_count, job.error_count) == (3, 2, 1, 2)
    page = client.get(job.get_absolute_url()).content.decode()
    assert "Done" in page and "every 1s" not in page
    assert Contact.objects.filter(owner=org.rep_a1).count() == 4


def _written_rows(contact) -> dict:
    """Every row a new contact consists of, without ids, times and the channel (form or import)."""
    return {
        "contact": Contact.objects.filter(pk=contact.pk)
        .values(
            "given_name",
            "family_name",
            "display_name",
            "email",
            "phone",
            "city",
            "country",
            "customer_type",
            "source",
            "phase",
            "owner",
            "custom",
        )
        .get(),
        "emails": list(contact.emails.order_by("id").values_list("email", "is_primary")),
        "phones": list(contact.phones.order_by("id").values_list("number", "kind", "is_primary")),
        "tags": sorted(contact.tags.values_list("name", flat=True)),
        "phases": list(contact.phase_changes.values_list("from_phase", "to_phase", "by", "reason", "rule")),
        "history": list(
            FieldChange.objects.filter(record_type="contact", record_id=contact.pk).values_list(
                "field", "old_value", "new_value", "changed_by"
            )
        ),
    }


@pytest.mark.django_db
def test_an_imported_contact_is_written_as_the_contact_form_writes_one(org):
    job = run_file(
        org.rep_a1,
        "First Name,Last Name,Email,Phone,City,Tags,Lifecycle Stage,Source\n"
        'Asha,Rao,Asha@Example.com,098450 10001,Pune,"vip, north",customer,Referral\n',
    )
    [imported] = Contact.objects.filter(pk__in=job.rows.values("contact"))
    typed = contact_create(
        by=org.rep_a1,
        given_name="Asha",
        family_name="Rao",
        email="asha@example.com",
        phone="+91 98450 10001",
        city="Pune",
        tags=["north", "vip"],
        phase="retention",
        source="referral",
    )
    assert _written_rows(imported) == _written_rows(typed)
    assert FieldChange.objects.get(record_id=imported.pk, field="created").via == f"import #{job.pk}"
