"""Importing orders from a CSV file: prepare an upload, run it in batches (resumable), resume it.

It reads files with the contact importer's machinery (encoding detection, delimiter sniffing,
numbered records) and works the same way: a job streams its file BATCH_SIZE lines at a time; each
batch is one transaction writing its orders, the result of every line and the job's
processed_rows, so a killed worker leaves whole batches behind and the next run continues after
them. Every order goes through the order services, so totals, the timeline and the lifecycle
rules are the same as for an order entered by hand.

One line is one order line. Consecutive lines with the same reference are one order; a line
without a reference is an order of its own, given a reference made from its content, so that
importing a file again (or a file that overlaps it) skips what is already there. A bad line
rejects its whole order, with the reason, and never stops the other orders.
"""

import contextlib
import datetime
import hashlib
import itertools
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.db.models import F
from django.db.models.functions import Coalesce, Now
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from contacts.export import unneutralise
from contacts.importers import csvfile, decoding
from contacts.models import Contact, ContactEmail
from contacts.normalise import clean_text
from contacts.services import notify
from crm.locks import worker_lock
from sales.lifecycle import business_zone
from sales.models import Order, OrderChannel, OrderImport, OrderImportRow, OrderStatus, Product
from sales.services import order_cancel, order_create, order_refund

BATCH_SIZE = 500
# Namespace of the advisory locks that keep one worker per job (pg_try_advisory_lock(namespace, job id)).
LOCK_NAMESPACE = 0x5A1F
Status = OrderImport.Status
Action = OrderImportRow.Action

# field -> the headers it is recognised by (compared lower-cased, without spaces, dashes, underscores)
COLUMNS = {
    "contact_email": ["contactemail", "email", "customeremail", "emailaddress"],
    "placed_at": ["placedat", "date", "orderdate", "placed", "datetime", "ordertime"],
    "sku": ["sku", "productsku", "itemcode", "productcode"],
    "quantity": ["quantity", "qty"],
    "unit_price": ["unitprice", "price", "rate"],
    "discount": ["discount"],
    "reference": ["reference", "ordernumber", "orderno", "orderid", "invoicenumber", "invoiceno"],
    "channel": ["channel"],
    "status": ["status", "orderstatus"],
    "currency": ["currency"],
    "paid_at": ["paidat", "paymentdate", "paid"],
}
REQUIRED = ["contact_email", "placed_at", "sku"]
DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y"]
TIME_FORMATS = ["%H:%M:%S", "%H:%M"]


def _key(header: str) -> str:
    return re.sub(r"[\s_\-.]+", "", header.strip().lower())


def columns_of(headers: list[str]) -> list[str]:
    """Which order field each column holds ("" for a column that is ignored); first match wins."""
    taken, result = set(), []
    lookup = {alias: name for name, aliases in COLUMNS.items() for alias in aliases}
    for header in headers:
        name = lookup.get(_key(header), "")
        if name in taken:
            name = ""
        taken.add(name)
        result.append(name)
    return result


# Prepare ----------------------------------------------------------------------------------


@transaction.atomic
def order_import_prepare(*, owner, upload) -> OrderImport:
    """Check an uploaded file (size, encoding, columns, rows) and queue it as a job.

    Raises ValidationError with a message for the user when the file cannot be imported; nothing is saved then."""
    max_bytes = settings.IMPORT_MAX_BYTES
    if upload.size == 0:
        raise ValidationError(_("The file is empty."))
    if upload.size > max_bytes:
        raise ValidationError(
            _("The file is %(size)s MB; files up to %(max)s MB can be imported. Split it into smaller files.")
            % {"size": round(upload.size / 2**20, 1), "max": round(max_bytes / 2**20, 1)}
        )
    try:
        detected = decoding.detect(upload.file)
    except decoding.UnreadableFile as error:
        raise ValidationError(str(error)) from None
    head = decoding.text_lines(upload.file, detected.encoding)
    try:
        delimiter = csvfile.sniff_delimiter(csvfile.head_lines(head))
    finally:
        head.close()
    headers, total = _scan(upload.file, encoding=detected.encoding, delimiter=delimiter)
    columns = columns_of(headers)
    missing = [name for name in REQUIRED if name not in columns]
    if missing:
        raise ValidationError(
            _("The file needs the columns %(missing)s (found: %(found)s).")
            % {"missing": ", ".join(missing), "found": ", ".join(header for header in headers if header) or "—"}
        )
    name = os.path.basename(upload.name or "orders.csv")[:255]
    job = OrderImport(
        owner=owner,
        file_name=name,
        file_sha256=detected.sha256,
        encoding=detected.encoding,
        delimiter=delimiter,
        headers=headers,
        columns=columns,
        total_rows=total,
    )
    job.file.save(name, upload, save=False)
    job.save()
    _enqueue(job.pk)
    return job


def _scan(stream, *, encoding: str, delimiter: str) -> tuple[list[str], int]:
    headers, records = csvfile.read_records(decoding.text_lines(stream, encoding), delimiter)
    if headers is None:
        raise ValidationError(_("The file is empty."))
    total = 0
    try:
        for _record in records:
            total += 1
            if total > settings.IMPORT_MAX_ROWS:
                raise ValidationError(
                    _("The file has more than %(max)s rows; split it into files of at most %(max)s rows.")
                    % {"max": f"{settings.IMPORT_MAX_ROWS:,}"}
                )
    except csvfile.MalformedFile as error:
        raise ValidationError(str(error)) from None
    finally:
        records.close()
    if total == 0:
        raise ValidationError(_("The file has only a header line and no orders."))
    return headers, total


def _enqueue(job_id: int) -> None:
    from sales.tasks import order_import_run_task

    transaction.on_commit(lambda: order_import_run_task.delay(job_id))


@transaction.atomic
def order_import_resume(*, job: OrderImport, by) -> OrderImport:
    """Queue a job that stopped on an error again; it continues after the lines it already handled."""
    if not OrderImport.objects.filter(pk=job.pk, status=Status.FAILED).update(
        status=Status.QUEUED, message="", finished_at=None
    ):
        raise ValidationError(_("Only an import that stopped can be resumed."))
    _enqueue(job.pk)
    job.refresh_from_db()
    return job


# Run --------------------------------------------------------------------------------------


def _job_lock(job_id: int):
    return worker_lock(LOCK_NAMESPACE, job_id)


def order_import_run(*, job_id: int, batch_size: int = BATCH_SIZE, max_batches: int | None = None) -> str:
    """Run (or continue) a queued job; safe to call twice, and from two workers at once (the claim
    is a conditional UPDATE under an advisory lock only one session can hold). `max_batches` stops
    after that many batches, as a kill would: the job stays running and the next run continues it."""
    with _job_lock(job_id) as locked:
        if not locked:
            return "busy"
        if not OrderImport.objects.filter(pk=job_id, status__in=[Status.QUEUED, Status.RUNNING]).update(
            status=Status.RUNNING, started_at=Coalesce(F("started_at"), Now())
        ):
            return "not runnable"
        job = OrderImport.objects.select_related("owner").get(pk=job_id)
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


def _records(job: OrderImport) -> Iterator[csvfile.Record]:
    with job.file.storage.open(job.file.name, "rb") as stored:
        _headers, records = csvfile.read_records(decoding.text_lines(stored.file, job.encoding), job.delimiter)
        yield from records


def _group_key(job: OrderImport, record: csvfile.Record) -> str:
    """Lines of one order share a key: the reference, or (without one) the line itself."""
    index = job.columns.index("reference") if "reference" in job.columns else None
    reference = clean_text(record.cells[index]) if index is not None else ""
    return reference or f"line:{record.line}"


def _orders(job: OrderImport, records: Iterator[csvfile.Record]) -> Iterator[list[csvfile.Record]]:
    for _key, group in itertools.groupby(records, key=lambda record: _group_key(job, record)):
        yield list(group)


def _batches(groups: Iterator[list], size: int) -> Iterator[list[list]]:
    """Whole orders, about `size` lines at a time (an order is never split between batches)."""
    batch, lines = [], 0
    for group in groups:
        batch.append(group)
        lines += len(group)
        if lines >= size:
            yield batch
            batch, lines = [], 0
    if batch:
        yield batch


def _run_batches(job: OrderImport, *, batch_size: int, max_batches: int | None) -> bool:
    records = _records(job)
    try:
        remaining = itertools.islice(records, job.processed_rows, None)
        for done, batch in enumerate(_batches(_orders(job, remaining), batch_size)):
            if max_batches is not None and done >= max_batches:
                return False
            _process_batch(job, batch)
    finally:
        records.close()
    return True


def _finish(job: OrderImport) -> None:
    if OrderImport.objects.filter(pk=job.pk, status=Status.RUNNING).update(
        status=Status.DONE, finished_at=timezone.now(), message=""
    ):
        job.refresh_from_db()
        notify(
            user=job.owner,
            key=f"order-import:{job.pk}:done",
            url=job.get_absolute_url(),
            text=_("Import of %(file)s finished: %(created)s orders created, %(errors)s lines rejected.")
            % {"file": job.file_name, "created": job.created_count, "errors": job.error_count},
        )


def _fail(job_id: int, error: Exception) -> None:
    with contextlib.suppress(DatabaseError):
        processed = OrderImport.objects.values_list("processed_rows", flat=True).get(pk=job_id)
        message = _(
            "The import stopped after %(rows)s lines (%(error)s). The lines before were imported; "
            "resume it to continue where it stopped."
        ) % {"rows": processed, "error": f"{type(error).__name__}: {error}"[:200]}
        OrderImport.objects.filter(pk=job_id, status=Status.RUNNING).update(
            status=Status.FAILED, finished_at=timezone.now(), message=message[:500]
        )


# One batch --------------------------------------------------------------------------------


class RowError(Exception):
    """A line that cannot be imported; the message is for the user."""


@dataclass
class _Line:
    record: csvfile.Record
    values: dict = field(default_factory=dict)


@dataclass
class _Lookups:
    contacts: dict[str, list[Contact]]
    products: dict[str, Product]
    existing: dict[str, int]


def _cells(job: OrderImport, record: csvfile.Record) -> dict[str, str]:
    return {name: clean_text(unneutralise(cell)) for name, cell in zip(job.columns, record.cells, strict=False) if name}


def _lookups(job: OrderImport, groups: list[list[csvfile.Record]]) -> _Lookups:
    """Everything the batch refers to, in three queries: contacts (by email, only those the importer
    may see), products (by SKU), and orders already imported (by reference)."""
    cells = [_cells(job, record) for group in groups for record in group]
    emails = {row.get("contact_email", "").lower() for row in cells} - {""}
    skus = {"".join(row.get("sku", "").split()).upper() for row in cells} - {""}
    references = {_reference(job, group, _cells(job, group[0])) for group in groups}
    contacts: dict[str, list[Contact]] = {}
    visible = Contact.objects.visible_to(job.owner)
    matches = ContactEmail.objects.filter(email__in=emails, contact__in=visible).select_related("contact")
    for match in matches.order_by("contact_id"):
        contacts.setdefault(match.email, []).append(match.contact)
    return _Lookups(
        contacts=contacts,
        products={product.sku: product for product in Product.objects.filter(sku__in=skus)},
        existing=dict(Order.objects.filter(reference__in=references).values_list("reference", "pk")),
    )


def _reference(job: OrderImport, group: list[csvfile.Record], first: dict) -> str:
    if first.get("reference"):
        return first["reference"][:64]
    digest = hashlib.sha256("\x1f".join(cell.strip() for cell in group[0].cells).encode("utf-8")).hexdigest()
    return f"CSV-{digest[:20]}"


def _moment(text: str, column: str) -> datetime.datetime:
    """A date or date-time of the file, read in the business's time zone (or with its own offset)."""
    text = text.strip()
    with contextlib.suppress(ValueError):
        moment = datetime.datetime.fromisoformat(text)
        return moment if timezone.is_aware(moment) else moment.replace(tzinfo=business_zone())
    date_text, _sep, time_text = text.partition(" ")
    for date_format in DATE_FORMATS:
        try:
            day = datetime.datetime.strptime(date_text, date_format).date()
        except ValueError:
            continue
        moment_time = datetime.time(0, 0)
        if time_text:
            for time_format in TIME_FORMATS:
                with contextlib.suppress(ValueError):
                    moment_time = datetime.datetime.strptime(time_text.strip(), time_format).time()
                    break
            else:
                break
        return datetime.datetime.combine(day, moment_time, tzinfo=business_zone())
    raise RowError(
        _("%(column)s: “%(value)s” is not a date (e.g. 2026-03-31 or 31/03/2026 14:30).")
        % {
            "column": column,
            "value": text[:40],
        }
    )


def _decimal(text: str, column: str) -> Decimal | None:
    text = text.replace(",", "").replace("₹", "").strip()
    if not text:
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        message = _("%(column)s: “%(value)s” is not an amount.") % {"column": column, "value": text[:40]}
        raise RowError(message) from None


def _choice(text: str, choices, column: str, default: str) -> str:
    if not text:
        return default
    for value, label in choices:
        if text.lower() in (value, str(label).lower()):
            return value
    raise RowError(
        _("%(column)s: “%(value)s” is not one of %(choices)s.")
        % {"column": column, "value": text[:40], "choices": ", ".join(value for value, _label in choices)}
    )


def _line(job: OrderImport, record: csvfile.Record, lookups: _Lookups) -> dict:
    if record.error:
        raise RowError(record.error)
    cells = _cells(job, record)
    email = cells.get("contact_email", "").lower()
    if not email:
        raise RowError(_("contact_email is empty."))
    found = lookups.contacts.get(email, [])
    if not found:
        raise RowError(_("No contact you can see has the email %(email)s.") % {"email": email})
    if len(found) > 1:
        raise RowError(_("Several contacts you can see have the email %(email)s; merge them first.") % {"email": email})
    sku = "".join(cells.get("sku", "").split()).upper()
    product = lookups.products.get(sku)
    if product is None:
        raise RowError(_("No product has the SKU “%(sku)s”.") % {"sku": sku[:64]})
    quantity_text = cells.get("quantity", "") or "1"
    if not quantity_text.isdigit() or int(quantity_text) < 1:
        raise RowError(_("quantity: “%(value)s” is not a whole number of at least 1.") % {"value": quantity_text[:20]})
    if not cells.get("placed_at"):
        raise RowError(_("placed_at is empty."))
    return {
        "contact": found[0],
        "placed_at": _moment(cells["placed_at"], "placed_at"),
        "paid_at": _moment(cells["paid_at"], "paid_at") if cells.get("paid_at") else None,
        "channel": _choice(cells.get("channel", ""), OrderChannel.choices, "channel", OrderChannel.STORE),
        "status": _choice(cells.get("status", ""), OrderStatus.choices, "status", OrderStatus.PAID),
        "currency": cells.get("currency", "").upper() or None,
        "line": {
            "product": product,
            "quantity": int(quantity_text),
            "unit_price": _decimal(cells.get("unit_price", ""), "unit_price"),
            "discount": _decimal(cells.get("discount", ""), "discount") or Decimal("0"),
        },
    }


def _import_order(job: OrderImport, group: list[csvfile.Record], lookups: _Lookups) -> tuple[str, str, int | None]:
    """(action, message, order id) for every line of one order."""
    reference = _reference(job, group, _cells(job, group[0]))
    if reference in lookups.existing:
        return (
            Action.SKIPPED,
            _("Imported before (order %(number)s).") % {"number": f"SO-{lookups.existing[reference]:06d}"},
            lookups.existing[reference],
        )
    lines = []
    for record in group:
        try:
            lines.append(_line(job, record, lookups))
        except RowError as error:
            raise RowError(_("Line %(line)s: %(error)s") % {"line": record.line, "error": error}) from None
    first = lines[0]
    if any(line["contact"].pk != first["contact"].pk for line in lines):
        raise RowError(_("The lines of order %(reference)s are for different contacts.") % {"reference": reference})
    by = job.owner
    paid_at = first["paid_at"] or first["placed_at"]
    with transaction.atomic():
        order = order_create(
            by=by,
            contact=first["contact"],
            lines=[line["line"] for line in lines],
            placed_at=first["placed_at"],
            channel=first["channel"],
            currency=first["currency"],
            reference=reference,
            paid_at=paid_at if first["status"] in (OrderStatus.PAID, OrderStatus.REFUNDED) else None,
        )
        if first["status"] == OrderStatus.REFUNDED:
            order_refund(order=order, by=by, reason=_("Imported as refunded"), at=paid_at)
        elif first["status"] == OrderStatus.CANCELLED:
            order_cancel(order=order, by=by, reason=_("Imported as cancelled"), at=first["placed_at"])
    lookups.existing[reference] = order.pk
    return Action.CREATED, "", order.pk


def _process_batch(job: OrderImport, groups: list[list[csvfile.Record]]) -> None:
    with transaction.atomic():
        lookups = _lookups(job, groups)
        results, created = [], 0
        for group in groups:
            try:
                action, message, order_id = _import_order(job, group, lookups)
            except (RowError, ValidationError) as error:
                text = " ".join(error.messages) if isinstance(error, ValidationError) else str(error)
                action, message, order_id = Action.REJECTED, text, None
            created += action == Action.CREATED
            results += [
                OrderImportRow(job=job, line=record.line, action=action, order_id=order_id, message=message[:500])
                for record in group
            ]
        OrderImportRow.objects.bulk_create(results, ignore_conflicts=True)
        OrderImport.objects.filter(pk=job.pk).update(
            processed_rows=F("processed_rows") + len(results),
            created_count=F("created_count") + created,
            skipped_count=F("skipped_count") + sum(row.action == Action.SKIPPED for row in results),
            error_count=F("error_count") + sum(row.action == Action.REJECTED for row in results),
        )
