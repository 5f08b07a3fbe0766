"""The import service: prepare an upload, start it with a mapping, run it in batches (resumable), resume, revert.

A job streams its file and handles BATCH_SIZE rows at a time. Each batch is one transaction that writes
the contacts, their side records, the ImportRowResult of every row and the job's processed_rows, so a
worker killed half way leaves whole batches behind and the next run continues after processed_rows.

A batch costs a few statements whatever its size, and little Python per row: the rows are read through
one RowReader (lookups cached), decided in file order with dictionaries against the contacts of before
that the batch's keys, emails and phones meet (one query each), and written set-based: the new contacts
with one COPY into contacts_contact, a TEMP stage of the same rows from which their emails, phones, tags,
first phase and history are inserted with one INSERT … SELECT each (contacts.sql), the result of every
row with one COPY. Only the rows that update a contact go through model instances.
"""

import contextlib
import gc
import hashlib
import io
import itertools
import json
import os
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import reduce
from operator import or_

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import F, Q
from django.db.models.deletion import ProtectedError, RestrictedError
from django.db.models.functions import Coalesce, Lower, Now
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from contacts import sql
from contacts.export import VCARD_HEADERS, unneutralise
from contacts.importers import csvfile, decoding, vcard
from contacts.importers.mapping import (
    SINGLE_TARGETS,
    RowReader,
    RowValues,
    active_custom_fields,
    check_mapping,
    guess,
)
from contacts.models import (
    Activity,
    ActivityKind,
    Company,
    Contact,
    ContactEmail,
    ContactPhone,
    FieldChange,
    ImportJob,
    ImportRowResult,
    Phase,
    PhaseChange,
    Source,
)
from contacts.normalise import clean_text
from contacts.services import contact_tags_add, lead_owners, notify
from crm.access import visible_owner_ids
from crm.locks import worker_lock

# Rows per transaction: large enough that the few statements of a batch cost little per row, small
# enough that a batch stays within a few tens of MB and a resumed job redoes little.
BATCH_SIZE = 10_000
MAX_COLUMNS = 500
PREVIEW_ROWS = 5
# Namespace of the advisory locks that keep one worker per job (pg_try_advisory_lock(namespace, job id)).
LOCK_NAMESPACE = 0x1E7A
# Fields a row overwrites on the contact it updates; the display name, company and phase have rules of their own.
UPDATABLE_FIELDS = [name for name in SINGLE_TARGETS if name not in {"display_name", "company", "phase"}]
Action = ImportRowResult.Action
Status = ImportJob.Status


# Reading the file of a job ----------------------------------------------------------------


@contextlib.contextmanager
def _job_stream(job: ImportJob):
    with job.file.storage.open(job.file.name, "rb") as stored:
        yield stored.file


def _records(stream, *, format: str, encoding: str, delimiter: str) -> tuple[list[str] | None, Iterator]:
    lines = decoding.text_lines(stream, encoding)
    if format == ImportJob.Format.VCARD:
        return list(VCARD_HEADERS), vcard.read_records(lines)
    return csvfile.read_records(lines, delimiter)


def job_records(job: ImportJob) -> Iterator[csvfile.Record]:
    with _job_stream(job) as stream:
        _header, records = _records(stream, format=job.format, encoding=job.encoding, delimiter=job.delimiter)
        yield from records


def job_preview(job: ImportJob, count: int = PREVIEW_ROWS) -> list[csvfile.Record]:
    records = job_records(job)
    try:
        return list(itertools.islice(records, count))
    finally:
        records.close()


def job_headers(job: ImportJob) -> list[str]:
    return list(job.mapping.get("headers", []))


def job_fields(job: ImportJob) -> list[str]:
    return list(job.mapping.get("fields", []))


# Prepare and start ------------------------------------------------------------------------


def _max_bytes() -> int:
    return getattr(settings, "IMPORT_MAX_BYTES", 200 * 1024 * 1024)


def _max_rows() -> int:
    return getattr(settings, "IMPORT_MAX_ROWS", 1_048_576)


def import_prepare(*, owner, upload, on_duplicate: str = ImportJob.OnDuplicate.SKIP) -> ImportJob:
    """Check an uploaded file (size, encoding, format, rows) and keep it as a job waiting for its mapping.

    Raises ValidationError with a message for the user when the file cannot be imported; nothing is saved then.
    """
    if on_duplicate not in ImportJob.OnDuplicate.values:
        raise ValidationError(_("Choose what to do with duplicates."))
    if upload.size > _max_bytes():
        raise ValidationError(
            _("The file is %(size)s MB; files up to %(max)s MB can be imported. Split it into smaller files.")
            % {"size": round(upload.size / 2**20, 1), "max": round(_max_bytes() / 2**20, 1)}
        )
    if upload.size == 0:
        raise ValidationError(_("The file is empty."))
    stream = upload.file
    try:
        detected = decoding.detect(stream)
    except decoding.UnreadableFile as error:
        raise ValidationError(str(error)) from None
    head = decoding.text_lines(stream, detected.encoding)
    try:
        first_lines = csvfile.head_lines(head)
    finally:
        head.close()
    name = os.path.basename(upload.name or "contacts")[:255]
    is_vcard = vcard.looks_like_vcard("".join(first_lines)) or (
        name.lower().endswith((".vcf", ".vcard")) and not "".join(first_lines).strip()
    )
    job_format = ImportJob.Format.VCARD if is_vcard else ImportJob.Format.CSV
    delimiter = "" if is_vcard else csvfile.sniff_delimiter(first_lines)
    headers, total = _scan(stream, format=job_format, encoding=detected.encoding, delimiter=delimiter)
    job = ImportJob(
        owner=owner,
        file_name=name,
        file_sha256=detected.sha256,
        format=job_format,
        encoding=detected.encoding,
        delimiter=delimiter,
        mapping={"headers": headers, "fields": guess(headers, active_custom_fields())},
        on_duplicate=on_duplicate,
        total_rows=total,
        status=Status.MAPPING,
    )
    job.file.save(name, upload, save=False)
    job.save()
    return job


def _scan(stream, *, format: str, encoding: str, delimiter: str) -> tuple[list[str], int]:
    """The header and the number of data rows, reading the file as the job will; stops past the row limit."""
    limit = _max_rows()
    headers, records = _records(stream, format=format, encoding=encoding, delimiter=delimiter)
    if headers is None:
        raise ValidationError(_("The file is empty."))
    if len(headers) > MAX_COLUMNS:
        raise ValidationError(
            _("The file has %(count)s columns; at most %(max)s can be imported.")
            % {"count": len(headers), "max": MAX_COLUMNS}
        )
    total = 0
    try:
        for _record in records:
            total += 1
            if total > limit:
                raise ValidationError(
                    _("The file has more than %(max)s rows; split it into files of at most %(max)s rows.")
                    % {"max": f"{limit:,}"}
                )
    except csvfile.MalformedFile as error:
        raise ValidationError(str(error)) from None
    finally:
        records.close()
    if total == 0:
        if format == ImportJob.Format.VCARD:
            raise ValidationError(_("The file has no vCards (BEGIN:VCARD … END:VCARD) in it."))
        raise ValidationError(_("The file has only a header line and no contacts."))
    return headers, total


@transaction.atomic
def import_start(*, job: ImportJob, fields: list[str], by) -> ImportJob:
    """Save the chosen mapping and queue the job (once: a second start of the same job is refused)."""
    headers = job_headers(job)
    if len(fields) != len(headers):
        raise ValidationError(_("Choose a field for every column."))
    check_mapping(fields, active_custom_fields())
    started = ImportJob.objects.filter(pk=job.pk, status=Status.MAPPING).update(
        mapping={"headers": headers, "fields": fields}, status=Status.QUEUED
    )
    if not started:
        raise ValidationError(_("This import has already been started."))
    _enqueue(job.pk)
    job.refresh_from_db()
    return job


def _enqueue(job_id: int) -> None:
    from contacts.tasks import import_run_task

    transaction.on_commit(lambda: import_run_task.delay(job_id))


@transaction.atomic
def import_resume(*, job: ImportJob, by) -> ImportJob:
    """Queue a job that stopped on an error again; it continues after the rows it already handled."""
    resumed = ImportJob.objects.filter(pk=job.pk, status=Status.FAILED).update(
        status=Status.QUEUED, message="", finished_at=None
    )
    if not resumed:
        raise ValidationError(_("Only an import that stopped can be resumed."))
    _enqueue(job.pk)
    job.refresh_from_db()
    return job


# Run --------------------------------------------------------------------------------------


def _job_lock(job_id: int):
    return worker_lock(LOCK_NAMESPACE, job_id)


def import_run(*, job_id: int, batch_size: int = BATCH_SIZE, max_batches: int | None = None) -> str:
    """Run (or continue) a queued job; safe to call twice, and from two workers at once.

    The job is claimed by a conditional UPDATE (queued or interrupted -> running) under an advisory lock
    that only one database session can hold, so a second worker returns at once; the lock goes away with
    a killed worker's connection, so a redelivered task continues the job. `max_batches` stops after that
    many batches, as a kill would (the job stays running and the next run continues it).
    """
    with _job_lock(job_id) as locked:
        if not locked:
            return "busy"
        claimed = ImportJob.objects.filter(pk=job_id, status__in=[Status.QUEUED, Status.RUNNING]).update(
            status=Status.RUNNING, started_at=Coalesce(F("started_at"), Now())
        )
        if not claimed:
            return "not runnable"
        job = ImportJob.objects.select_related("owner").get(pk=job_id)
        with translation.override(job.owner.language or settings.LANGUAGE_CODE):
            try:
                finished = _run_batches(job, batch_size=batch_size, max_batches=max_batches)
            except Exception as error:
                _fail(job_id, error)
                raise
            if not finished:
                return "paused"
            _finish(job)
    return "done"


def _batched(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


@contextlib.contextmanager
def _collector_paused():
    """No cyclic garbage collection while a batch runs: its rows hold no cycles (refcounting frees
    them when it ends), and the collections that its tens of thousands of objects would set off
    cost a sixth of the time of reading them. Whatever else is cyclic goes at the next collection."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _run_batches(job: ImportJob, *, batch_size: int, max_batches: int | None) -> bool:
    custom_fields = {f.key: f for f in active_custom_fields()}
    reader = RowReader(job_fields(job), custom_fields)
    done = 0
    records = job_records(job)
    try:
        remaining = itertools.islice(records, job.processed_rows, None)
        for batch in _batched(remaining, batch_size):
            if max_batches is not None and done >= max_batches:
                return False
            for attempt in range(3):
                try:
                    with _collector_paused():
                        _process_batch(job, batch, custom_fields, reader)
                    break
                except IntegrityError:
                    # Another job inserted the same lines at the same moment: the retry sees them as imported.
                    if attempt == 2:
                        raise
            done += 1
    finally:
        records.close()
    return True


def _finish(job: ImportJob) -> None:
    finished = ImportJob.objects.filter(pk=job.pk, status=Status.RUNNING).update(
        status=Status.DONE, finished_at=timezone.now(), message=""
    )
    if finished:
        job.refresh_from_db()
        notify(
            user=job.owner,
            key=f"import:{job.pk}:done",
            url=job.get_absolute_url(),
            text=_("Import of %(file)s finished: %(created)s created, %(updated)s updated, %(errors)s rejected.")
            % {
                "file": job.file_name,
                "created": job.created_count,
                "updated": job.updated_count,
                "errors": job.error_count,
            },
        )


def _fail(job_id: int, error: Exception) -> None:
    with contextlib.suppress(DatabaseError):
        processed = ImportJob.objects.values_list("processed_rows", flat=True).get(pk=job_id)
        message = _(
            "The import stopped after %(rows)s rows (%(error)s). The rows before were imported; "
            "resume it to continue where it stopped."
        ) % {"rows": processed, "error": f"{type(error).__name__}: {error}"[:200]}
        ImportJob.objects.filter(pk=job_id, status=Status.RUNNING).update(
            status=Status.FAILED, finished_at=timezone.now(), message=message[:500]
        )


def line_key(owner_id: int, cells: list[str]) -> str:
    """The import_key of a line: its normalised content and the importer, so the same line imports once."""
    return _key_of(owner_id, _cleaned(cells))


def _cleaned(cells: list[str]) -> list[str]:
    return [clean_text(unneutralise(cell)) for cell in cells]


def _key_of(owner_id: int, cleaned: list[str]) -> str:
    parts = list(cleaned)
    while parts and not parts[-1]:
        parts.pop()
    return hashlib.sha256((f"{owner_id}\x1e" + "\x1f".join(parts)).encode("utf-8")).hexdigest()


@dataclass(slots=True, eq=False)
class _Target:
    """A contact this batch creates or updates, with its channels and tags as the batch leaves them."""

    pk: int | None
    is_new: bool
    rank: tuple
    emails: list[str]
    phones: list[str]
    tags: set[str]
    # The instance an update changes: loaded for a contact of before, made for one of this batch.
    contact: Contact | None = None
    # What the row that creates it (a new contact) says, and its import key (no reference to the row
    # itself: without cycles a batch is freed as soon as it ends, and the collector has nothing to do).
    values: RowValues | None = None
    key: str = ""
    owner_id: int | None = None
    has_primary_email: bool = False
    has_primary_phone: bool = False
    # What the batch adds to the contact once it exists (the one it creates, or one of before).
    new_emails: list[str] = field(default_factory=list)
    new_phones: list[str] = field(default_factory=list)
    new_tags: list[str] = field(default_factory=list)
    dirty: set[str] = field(default_factory=set)


@dataclass(slots=True, eq=False)
class _Row:
    line: int
    values: RowValues | None = None
    key: str = ""
    action: str = ""
    message: str = ""
    target: _Target | None = None
    previous: dict | None = None


class _Batch:
    """The state of one batch while it is decided and written."""

    def __init__(self, job: ImportJob, custom_fields: dict, reader: RowReader | None = None):
        self.job = job
        self.owner = job.owner
        self.fields = job_fields(job)
        self.mapped = set(self.fields)
        self.custom_fields = custom_fields
        self.reader = reader or RowReader(self.fields, custom_fields)
        self.via = f"import #{job.pk}"
        self.now = timezone.now()
        self.emails: dict[str, _Target] = {}
        self.phones: dict[str, _Target] = {}
        self.new_targets: list[_Target] = []
        self.existing: dict[int, _Target] = {}
        self.companies: dict[str, Company] = {}
        self.company_names: dict[int, str] = {}
        self.field_changes: list[tuple[_Target, str, str, str]] = []
        self.phase_moves: list[tuple[_Target, str, str]] = []
        # The source of a contact whose row has none: "import", unless the file has a source column.
        self.default_source = "" if "source" in self.mapped else Source.IMPORT


def _process_batch(job: ImportJob, records: list[csvfile.Record], custom_fields: dict, reader=None) -> None:
    with transaction.atomic():
        batch = _Batch(job, custom_fields, reader)
        rows = [_validate(batch, record) for record in records]
        valid = [row for row in rows if row.action != Action.REJECTED]
        _decide(batch, valid)
        _resolve_companies(batch, [row for row in valid if row.action in (Action.CREATED, Action.UPDATED)])
        # A row that updates a contact created by an earlier row of the batch comes after it, so
        # creating first and updating next (in file order) is importing the rows one at a time.
        _create(batch, [row for row in valid if row.action == Action.CREATED])
        for row in valid:
            if row.action == Action.UPDATED:
                _apply_update(batch, row)
        _write(batch, rows)


def _validate(batch: _Batch, record: csvfile.Record) -> _Row:
    row = _Row(line=record.line)
    if record.error:
        row.action, row.message = Action.REJECTED, record.error[:500]
        return row
    # The cells as the key reads them are the text fields as the row reads them: cleaned once for both.
    cleaned = _cleaned(record.cells)
    try:
        row.values = batch.reader(record.cells, cleaned)
    except ValidationError as error:
        row.action, row.message = Action.REJECTED, " ".join(error.messages)[:500]
        return row
    row.key = _key_of(batch.owner.pk, cleaned)
    return row


def _decide(batch: _Batch, rows: list[_Row]) -> None:
    """Created, updated or skipped, row by row in file order, as if the rows were imported one at a time.

    The contacts of before that the rows meet (by import key, email or phone) are read with one query
    each; the rest is dictionaries, so a batch of any size costs the same few queries."""
    policy = batch.job.on_duplicate
    imported = sql.import_keys_present([row.key for row in rows])
    if policy != ImportJob.OnDuplicate.CREATE:
        _load_duplicates(batch, rows, with_details=policy == ImportJob.OnDuplicate.UPDATE)
    keys = set()
    emails, phones = batch.emails, batch.phones
    for row in rows:
        if row.key in imported or row.key in keys:
            row.action, row.message = Action.SKIPPED, _("This line was already imported.")
            continue
        values = row.values
        match = None
        if policy != ImportJob.OnDuplicate.CREATE and (emails or phones):
            candidates = [emails[e] for e in values.emails if e in emails]
            candidates += [phones[p] for p in values.phones if p in phones]
            if candidates:
                match = min(candidates, key=lambda target: target.rank)
        if match is None:
            target = _Target(
                pk=None,
                is_new=True,
                rank=(1, len(batch.new_targets)),
                emails=list(values.emails),
                phones=list(values.phones),
                tags=set(values.tags),
                values=values,
                key=row.key,
            )
            batch.new_targets.append(target)
            keys.add(row.key)
            row.action, row.target = Action.CREATED, target
            if policy != ImportJob.OnDuplicate.CREATE:
                _register(batch, target, values.emails, values.phones)
        elif policy == ImportJob.OnDuplicate.SKIP:
            row.action, row.target = Action.SKIPPED, match
            row.message = _("Matches an existing contact by email or phone; kept as it was.")
        else:
            row.action, row.target = Action.UPDATED, match
            _register(batch, match, values.emails, values.phones)


def _register(batch: _Batch, target: _Target, emails: list[str], phones: list[str]) -> None:
    for email in emails:
        batch.emails.setdefault(email, target)
    for phone in phones:
        batch.phones.setdefault(phone, target)


def _visible_owner_ids(user) -> list[int] | None:
    """The owners whose contacts `user` sees (None: everyone's), by the access rule."""
    owner_ids = visible_owner_ids(user)
    return None if owner_ids is None else [row["pk"] for row in owner_ids]


def _load_duplicates(batch: _Batch, rows: list[_Row], *, with_details: bool) -> None:
    """The visible contacts that share an email or a phone with a row of the batch: one query per channel."""
    emails = list({email for row in rows for email in row.values.emails})
    phones = list({phone for row in rows for phone in row.values.phones})
    owner_ids = _visible_owner_ids(batch.owner)
    email_hits = sql.channel_holders(channel="email", values=emails, owner_ids=owner_ids)
    phone_hits = sql.channel_holders(channel="phone", values=phones, owner_ids=owner_ids)
    ids = {contact_id for _value, contact_id in email_hits + phone_hits}
    if not ids:
        return
    if with_details:
        contacts = Contact.objects.filter(pk__in=ids).select_related("company").prefetch_related("emails", "phones")
        tag_rows = Contact.tags.through.objects.filter(contact_id__in=ids).values_list("contact_id", "tag__name")
        tags: dict[int, set[str]] = {}
        for contact_id, name in tag_rows:
            tags.setdefault(contact_id, set()).add(name)
        for contact in contacts:
            emails_of = list(contact.emails.all())
            phones_of = list(contact.phones.all())
            batch.existing[contact.pk] = _Target(
                pk=contact.pk,
                contact=contact,
                is_new=False,
                rank=(0, contact.pk),
                emails=[item.email for item in emails_of],
                phones=[item.number for item in phones_of],
                tags=tags.get(contact.pk, set()),
                has_primary_email=any(item.is_primary for item in emails_of),
                has_primary_phone=any(item.is_primary for item in phones_of),
            )
            if contact.company_id:
                batch.company_names[contact.company_id] = contact.company.name
    else:
        for pk in ids:
            batch.existing[pk] = _Target(pk=pk, is_new=False, rank=(0, pk), emails=[], phones=[], tags=set())
    for value, contact_id in sorted(email_hits, key=lambda hit: hit[1]):
        batch.emails.setdefault(value, batch.existing[contact_id])
    for value, contact_id in sorted(phone_hits, key=lambda hit: hit[1]):
        batch.phones.setdefault(value, batch.existing[contact_id])


def _resolve_companies(batch: _Batch, rows: list[_Row]) -> None:
    """Companies by name: a visible one of the importer (any case), else one created for them, once per name."""
    wanted: dict[str, str] = {}
    for row in rows:
        name = row.values.fields.get("company")
        if name:
            wanted.setdefault(name.lower(), name)
    if not wanted:
        return
    found = (
        Company.objects.visible_to(batch.owner)
        .annotate(lower_name=Lower("name"))
        .filter(lower_name__in=list(wanted))
        .order_by("id")
        .only("id", "name")
    )
    for company in found:
        batch.companies.setdefault(company.lower_name, company)
    missing = [name for lower, name in wanted.items() if lower not in batch.companies]
    created = Company.objects.bulk_create(
        Company(name=name, owner=batch.owner, created_at=batch.now, updated_at=batch.now, last_activity_at=batch.now)
        for name in missing
    )
    FieldChange.objects.bulk_create(
        FieldChange(
            record_type="company",
            record_id=company.pk,
            field="created",
            changed_by=batch.owner,
            new_value=company.name,
            via=batch.via,
            changed_at=batch.now,
        )
        for company in created
    )
    created_ids = {company.pk for company in created}
    for company in created:
        batch.companies[company.name.lower()] = company
    for company in batch.companies.values():
        batch.company_names[company.pk] = company.name
    # The first row that uses a new company remembers it, so that a revert can remove it again.
    for row in rows:
        company = _company_of(batch, row.values)
        if company is not None and company.pk in created_ids:
            row.previous = {**(row.previous or {}), "created_company": company.pk}
            created_ids.discard(company.pk)


def _company_of(batch: _Batch, values: RowValues) -> Company | None:
    name = values.fields.get("company")
    return batch.companies.get(name.lower()) if name else None


def _create(batch: _Batch, rows: list[_Row]) -> None:
    """Ids and owners of the contacts the rows create (written by `_write` with one COPY): the owner
    the assignment rules give them, else the importer, as contacts_create gives them."""
    if not rows:
        return
    leads = []
    for row in rows:
        fields = row.values.fields
        source = fields.get("source", batch.default_source)
        leads.append(
            (
                {"state": fields.get("state", ""), "city": fields.get("city", ""), "source": source},
                _company_of(batch, row.values),
            )
        )
    owners = lead_owners(leads=leads)
    importer = batch.owner.pk
    for row, owner, pk in zip(rows, owners, sql.next_ids(Contact, len(rows)), strict=True):
        target = row.target
        target.pk, target.owner_id = pk, owner.pk if owner is not None else importer
        target.has_primary_email, target.has_primary_phone = bool(target.emails), bool(target.phones)


def _new_contact(batch: _Batch, target: _Target) -> Contact:
    """The instance of a contact this batch creates, as `_write` writes it (for a later row that updates it)."""
    values = target.values
    fields = {name: values.fields[name] for name in SINGLE_TARGETS if name in values.fields and name != "company"}
    fields.setdefault("source", batch.default_source)
    company = _company_of(batch, values)
    contact = Contact(
        pk=target.pk,
        owner_id=target.owner_id,
        company_id=company.pk if company is not None else None,
        custom=dict(values.custom),
        import_key=target.key,
        email=values.emails[0] if values.emails else "",
        phone=values.phones[0] if values.phones else "",
        created_at=batch.now,
        updated_at=batch.now,
        last_activity_at=batch.now,
        phase_changed_at=batch.now,
        **fields,
    )
    contact._state.adding = False
    return contact


def _derived_name(given: str, family: str) -> str:
    return " ".join(part for part in (given, family) if part)


def _apply_update(batch: _Batch, row: _Row) -> None:
    """Non-empty values of the row overwrite the contact's; new emails, phones and tags are added."""
    target, values = row.target, row.values
    if target.contact is None:
        target.contact = _new_contact(batch, target)
    contact, fields = target.contact, values.fields
    changes: dict[str, list] = {}
    old_name = _derived_name(contact.given_name, contact.family_name)
    for name in UPDATABLE_FIELDS:
        if name in fields and getattr(contact, name) != fields[name]:
            changes[name] = [getattr(contact, name), fields[name]]
            setattr(contact, name, fields[name])
    if values.display_given:
        new_display = fields["display_name"]
    elif contact.display_name == old_name:
        new_display = _derived_name(contact.given_name, contact.family_name)
    else:
        new_display = contact.display_name
    if new_display and new_display != contact.display_name:
        changes["display_name"] = [contact.display_name, new_display]
        contact.display_name = new_display
    company = _company_of(batch, values)
    if company is not None and contact.company_id != company.pk:
        changes["company"] = [contact.company_id, company.pk]
        contact.company_id = company.pk
    if values.custom:
        merged = {**(contact.custom or {}), **values.custom}
        if merged != (contact.custom or {}):
            changes["custom"] = [contact.custom or {}, merged]
            contact.custom = merged
    previous: dict = {"fields": changes} if changes else {}
    if fields.get("phase") and fields["phase"] != contact.phase:
        previous["phase"] = [contact.phase, fields["phase"]]
        batch.phase_moves.append((target, contact.phase, fields["phase"]))
        contact.phase, contact.phase_changed_at = fields["phase"], batch.now
        target.dirty.update({"phase", "phase_changed_at"})
    for kind, added_list, current, attr in (
        ("emails", values.emails, target.emails, "email"),
        ("phones", values.phones, target.phones, "phone"),
    ):
        added = [value for value in added_list if value not in current]
        if not added:
            continue
        before = list(current)
        current.extend(added)
        previous[kind] = added
        batch.field_changes.append((target, kind, ", ".join(before), ", ".join(current)))
        getattr(target, f"new_{kind}").extend(added)
        if not getattr(contact, attr):
            previous[attr] = [getattr(contact, attr), current[0]]
            setattr(contact, attr, current[0])
            target.dirty.add(attr)
    added_tags = [tag for tag in values.tags if tag not in target.tags]
    if added_tags:
        before = sorted(target.tags)
        target.tags.update(added_tags)
        previous["tags"] = added_tags
        batch.field_changes.append((target, "tags", ", ".join(before), ", ".join(sorted(target.tags))))
        target.new_tags.extend(added_tags)
    for name, (old, new) in changes.items():
        if name == "company":
            old, new = batch.company_names.get(old, ""), batch.company_names.get(new, "")
        batch.field_changes.append((target, name, _text(old), _text(new)))
    if not previous:
        row.action, row.message = (
            Action.SKIPPED,
            _("Matches an existing contact by email or phone; already up to date."),
        )
        return
    target.dirty.update(changes)
    target.dirty.add("updated_at")
    contact.updated_at = batch.now
    row.previous = {**(row.previous or {}), **previous}


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dict):
        return ", ".join(f"{key}: {item}" for key, item in sorted(value.items()))
    return str(value)


# The columns of a new contact that the COPY of a batch fills from its row; the others take their
# defaults, and the four times are the batch's.
_CONTACT_COLUMNS = [
    "id",
    "owner_id",
    "company_id",
    "import_key",
    "email",
    "phone",
    "phase",
    "source",
    "customer_type",
    "country",
    "given_name",
    "family_name",
    "display_name",
    "job_title",
    "address_line",
    "city",
    "state",
    "postcode",
    "custom",
    "created_at",
    "updated_at",
    "last_activity_at",
    "phase_changed_at",
]
# Free text of a row, after the columns above that are codes or numbers (COPY-escaped together).
_CONTACT_TEXTS = ["given_name", "family_name", "display_name", "job_title", "address_line", "city", "state", "postcode"]
_CONTACT_DEFAULTS = {
    name: Contact._meta.get_field(name).get_default() for name in ("phase", "customer_type", "country")
}


def _copy_texts(texts: list[str]) -> str:
    """Values of a COPY line in its text format, tab-separated (the common case without a check per value)."""
    line = "\t".join(texts)
    if "\\" in line or "\n" in line or "\r" in line or line.count("\t") != len(texts) - 1:
        line = "\t".join(map(sql.copy_escape, texts))
    return line


def _write_new(batch: _Batch) -> None:
    """The contacts the batch creates, with one COPY, and what they come with (emails, phones, tags,
    first phase, "created" history) with one INSERT … SELECT each from a stage of the same COPY."""
    targets = batch.new_targets
    if not targets:
        return
    columns, tail = sql.copy_layout(Contact, _CONTACT_COLUMNS)
    now = batch.now.isoformat()
    times = f"\t{now}\t{now}\t{now}\t{now}{tail}\n"
    contacts, stage = io.StringIO(), io.StringIO()
    default_source = batch.default_source
    default_phase, default_type, default_country = (_CONTACT_DEFAULTS[n] for n in ("phase", "customer_type", "country"))
    get, sep = dict.get, sql.LIST_SEPARATOR
    for target in targets:
        values = target.values
        fields = values.fields
        company = _company_of(batch, values)
        email = values.emails[0] if values.emails else ""
        phone = values.phones[0] if values.phones else ""
        phase = get(fields, "phase", default_phase)
        texts = [get(fields, name, "") for name in _CONTACT_TEXTS]
        texts = _copy_texts(texts)
        contacts.write(
            f"{target.pk}\t{target.owner_id}\t{company.pk if company is not None else sql.COPY_NULL}\t{target.key}\t"
            f"{_copy_texts([email])}\t{phone}\t{phase}\t{_copy_texts([get(fields, 'source', default_source)])}\t"
            f"{get(fields, 'customer_type', default_type)}\t{get(fields, 'country', default_country)}\t{texts}\t"
            f"{sql.copy_escape(json.dumps(values.custom)) if values.custom else '{}'}{times}"
        )
        display = texts.split("\t", 3)[2]
        stage.write(
            f"{target.pk}\t{phase}\t{display}\t{_copy_texts([sep.join(values.emails)])}\t{sep.join(values.phones)}\t"
            f"{_copy_texts([sep.join(sorted(target.tags))])}\n"
        )
    sql.copy_text(Contact, columns, contacts)
    sql.import_stage_create()
    sql.import_stage_copy(stage)
    sql.import_stage_fan_out(
        by_id=batch.owner.pk,
        via=batch.via,
        at=batch.now,
        reason=_("Created"),
        phone_kind=ContactPhone._meta.get_field("kind").get_default(),
    )


def _write_results(batch: _Batch, rows: list[_Row]) -> None:
    """The ImportRowResult of every row of the batch, with one COPY."""
    columns, tail = sql.copy_layout(ImportRowResult, ["job_id", "line", "action", "contact_id", "message", "previous"])
    job_id, null = batch.job.pk, sql.COPY_NULL
    buffer = io.StringIO()
    for row in rows:
        target = row.target
        message = _copy_texts([row.message[:500]]) if row.message else ""
        previous = sql.copy_escape(json.dumps(row.previous)) if row.previous else null
        buffer.write(
            f"{job_id}\t{row.line}\t{row.action}\t{target.pk if target is not None else null}\t"
            f"{message}\t{previous}{tail}\n"
        )
    if rows:
        sql.copy_text(ImportRowResult, columns, buffer)


def _write(batch: _Batch, rows: list[_Row]) -> None:
    """Everything the batch writes: the contacts it creates, what the rows that update change (fields,
    added emails, phones and tags, phase moves, history), the result of every row and the counts."""
    _write_new(batch)
    owner, now, via = batch.owner, batch.now, batch.via
    # Only the contacts that rows update have changes; a batch that updates nothing skips all this.
    targets = [target for target in (*batch.existing.values(), *batch.new_targets) if target.contact is not None]
    dirty = [target for target in targets if target.dirty]
    if dirty:
        update_fields = sorted(set().union(*(target.dirty for target in dirty)))
        Contact.objects.bulk_update([target.contact for target in dirty], update_fields, batch_size=500)
    emails, phones = [], []
    for target in targets:
        for email in target.new_emails:
            emails.append(ContactEmail(contact_id=target.pk, email=email, is_primary=not target.has_primary_email))
            target.has_primary_email = True
        for phone in target.new_phones:
            phones.append(ContactPhone(contact_id=target.pk, number=phone, is_primary=not target.has_primary_phone))
            target.has_primary_phone = True
    ContactEmail.objects.bulk_create(emails)
    ContactPhone.objects.bulk_create(phones)
    contact_tags_add(pairs=[(target.pk, name) for target in targets for name in target.new_tags])
    PhaseChange.objects.bulk_create(
        PhaseChange(contact_id=target.pk, from_phase=old, to_phase=to, at=now, by=owner, reason=via)
        for target, old, to in batch.phase_moves
    )
    Activity.objects.bulk_create(
        Activity(
            kind=ActivityKind.PHASE,
            contact_id=target.pk,
            company_id=target.contact.company_id,
            at=now,
            by=owner,
            summary=_("%(from)s → %(to)s") % {"from": Phase(old).label, "to": Phase(to).label},
            body=via,
        )
        for target, old, to in batch.phase_moves
    )
    FieldChange.objects.bulk_create(
        FieldChange(
            record_type="contact",
            record_id=target.pk,
            field=name,
            old_value=old,
            new_value=value,
            changed_by=owner,
            via=via,
            changed_at=now,
        )
        for target, name, old, value in batch.field_changes
    )
    _write_results(batch, rows)
    counts = Counter(row.action for row in rows)
    ImportJob.objects.filter(pk=batch.job.pk).update(
        processed_rows=F("processed_rows") + len(rows),
        created_count=F("created_count") + counts[Action.CREATED],
        updated_count=F("updated_count") + counts[Action.UPDATED],
        skipped_count=F("skipped_count") + counts[Action.SKIPPED],
        error_count=F("error_count") + counts[Action.REJECTED],
    )


# Revert -----------------------------------------------------------------------------------

REVERT_CHUNK = 1000


def _keyset(queryset, chunk: int = REVERT_CHUNK, *, descending: bool = False) -> Iterator[list[ImportRowResult]]:
    """The rows of a job in chunks by line number (bounded memory whatever the size of the job)."""
    last = None
    while True:
        page = queryset
        if last is not None:
            page = page.filter(line__lt=last) if descending else page.filter(line__gt=last)
        items = list(page.order_by("-line" if descending else "line")[:chunk])
        if not items:
            return
        yield items
        last = items[-1].line


@transaction.atomic
def import_revert(*, job: ImportJob, by) -> ImportJob:
    """Undo a finished import in one transaction: its contacts deleted, the fields it changed restored
    (where nobody changed them since), the companies it created and nobody uses removed."""
    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    if job.status not in (Status.DONE, Status.FAILED):
        raise ValidationError(_("Only a finished import can be reverted."))
    via = f"revert import #{job.pk}"
    now = timezone.now()
    updated = job.rows.filter(action=Action.UPDATED, contact__isnull=False).only("line", "contact_id", "previous")
    for chunk in _keyset(updated, descending=True):
        _restore(chunk, by=by, via=via, now=now)
    created = job.rows.filter(action=Action.CREATED, contact__isnull=False).only("line", "contact_id")
    try:
        for chunk in _keyset(created):
            ids = [row.contact_id for row in chunk]
            FieldChange.objects.bulk_create(
                FieldChange(
                    record_type="contact",
                    record_id=pk,
                    field="deleted",
                    old_value=name,
                    changed_by=by,
                    via=via,
                    changed_at=now,
                )
                for pk, name in Contact.objects.filter(pk__in=ids).values_list("pk", "display_name")
            )
            Contact.objects.filter(pk__in=ids).delete()
    except (ProtectedError, RestrictedError):
        raise ValidationError(
            _("This import cannot be reverted: some of its contacts are used by other records (orders, messages…).")
        ) from None
    companies = [
        row.previous["created_company"]
        for chunk in _keyset(job.rows.filter(previous__has_key="created_company").only("line", "previous"))
        for row in chunk
    ]
    for ids in _batched(companies, REVERT_CHUNK):
        with contextlib.suppress(ProtectedError, RestrictedError), transaction.atomic():
            Company.objects.filter(pk__in=ids, contacts__isnull=True).delete()
    job.status, job.reverted_at = Status.REVERTED, now
    job.save(update_fields=["status", "reverted_at"])
    return job


def _restore(rows: list[ImportRowResult], *, by, via: str, now) -> None:
    contacts = Contact.objects.in_bulk({row.contact_id for row in rows})
    changed: dict[int, set[str]] = {}
    history, moves = [], []
    email_deletes, phone_deletes, tag_deletes = [], [], []
    for row in rows:
        contact, previous = contacts.get(row.contact_id), row.previous or {}
        if contact is None:
            continue
        dirty = changed.setdefault(contact.pk, set())
        for name, (old, new) in previous.get("fields", {}).items():
            attr = "company_id" if name == "company" else name
            if getattr(contact, attr) == new:
                setattr(contact, attr, old)
                dirty.add(attr)
                history.append((contact.pk, name, new, old))
        for attr in ("email", "phone"):
            if attr in previous and getattr(contact, attr) == previous[attr][1]:
                setattr(contact, attr, previous[attr][0])
                dirty.add(attr)
        if "phase" in previous and contact.phase == previous["phase"][1]:
            old, new = previous["phase"]
            contact.phase, contact.phase_changed_at = old, now
            dirty.update({"phase", "phase_changed_at"})
            moves.append((contact, new, old))
        if previous.get("emails"):
            email_deletes.append(Q(contact_id=contact.pk, email__in=previous["emails"]))
            history.append((contact.pk, "emails", ", ".join(previous["emails"]), ""))
        if previous.get("phones"):
            phone_deletes.append(Q(contact_id=contact.pk, number__in=previous["phones"]))
            history.append((contact.pk, "phones", ", ".join(previous["phones"]), ""))
        if previous.get("tags"):
            tag_deletes.append(Q(contact_id=contact.pk, tag__name__in=previous["tags"]))
            history.append((contact.pk, "tags", ", ".join(previous["tags"]), ""))
    if email_deletes:
        ContactEmail.objects.filter(reduce(or_, email_deletes)).delete()
    if phone_deletes:
        ContactPhone.objects.filter(reduce(or_, phone_deletes)).delete()
    if tag_deletes:
        Contact.tags.through.objects.filter(reduce(or_, tag_deletes)).delete()
    dirty_contacts = [contacts[pk] for pk, fields in changed.items() if fields]
    if dirty_contacts:
        for contact in dirty_contacts:
            contact.updated_at = now
        fields = sorted(set().union(*changed.values()) | {"updated_at"})
        Contact.objects.bulk_update(dirty_contacts, fields, batch_size=500)
    FieldChange.objects.bulk_create(
        FieldChange(
            record_type="contact",
            record_id=pk,
            field=name,
            old_value=_text(old),
            new_value=_text(new),
            changed_by=by,
            via=via,
            changed_at=now,
        )
        for pk, name, old, new in history
    )
    PhaseChange.objects.bulk_create(
        PhaseChange(contact=contact, from_phase=old, to_phase=new, at=now, by=by, reason=via)
        for contact, old, new in moves
    )
