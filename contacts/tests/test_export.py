"""Exporting the contact list as CSV and vCard: content, formula neutralisation, access, queries, round trip."""

import csv
import io
import threading

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.http import StreamingHttpResponse
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from contacts.export import (
    HEADERS,
    VCARD_COLUMNS,
    csv_chunks,
    join_tags,
    neutralise,
    unneutralise,
    vcard_chunks,
    vcard_records,
)
from contacts.importers.job import import_prepare, import_run, import_start, job_fields
from contacts.models import Contact, CustomField, Phase
from contacts.services import contact_create
from contacts.tests.factories import CompanyFactory, ContactFactory
from crm.testing import assert_access

pytestmark = pytest.mark.django_db
EXPORT = reverse("contacts:contact_export")


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def export(client, user, **params) -> str:
    client.force_login(user)
    response = client.get(EXPORT, params)
    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    return b"".join(response.streaming_content).decode("utf-8")


def rows_of(text: str) -> list[dict]:
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:])))


def people(owner) -> list[Contact]:
    """Contacts in Indian scripts, with several channels, tags, a company and formula-looking values."""
    company = CompanyFactory(owner=owner, name="=Ganga Agro Foods")
    return [
        contact_create(
            by=owner,
            owner=owner,
            given_name="राजेश",
            family_name="कुमार",
            emails=["rajesh@example.in", "r.kumar@work.example"],
            phones=["+91 98450 12345", "080 2345 6789"],
            tags=["vip", "north, east", "=cmd"],
            company=company,
            job_title="-Head of Sales",
            address_line="12 MG Road\nBlock B",
            city="@Bengaluru",
            state="Karnataka",
            postcode="560001",
            customer_type="b2b",
            source="referral",
            phase=Phase.RETENTION,
            custom={"shop-size": 12, "since": "2024-04-01"},
        ),
        contact_create(
            by=owner,
            owner=owner,
            given_name="সৌমিত্র",
            family_name="চট্টোপাধ্যায়",
            email="soumitra@example.in",
            phone="+91 98300 12345",
            city="Kolkata",
        ),
        contact_create(by=owner, owner=owner, given_name="ಪುನೀತ್", family_name="ರಾಜ್\u200cಕುಮಾರ್", display_name="+Appu"),
    ]


@pytest.fixture
def custom_fields():
    CustomField.objects.create(key="shop-size", label="Shop size", kind=CustomField.Kind.NUMBER, position=1)
    CustomField.objects.create(key="since", label="Customer since", kind=CustomField.Kind.DATE, position=2)


def test_csv_has_our_headers_and_every_value(client, org, custom_fields):
    people(org.rep_a1)
    rows = rows_of(export(client, org.rep_a1, format="csv"))
    assert list(rows[0]) == [*HEADERS, "Custom: shop-size", "Custom: since"]
    rajesh = next(row for row in rows if row["Given name"] == "राजेश")
    assert rajesh["Display name"] == "राजेश कुमार"
    assert rajesh["Email"] == "rajesh@example.in"
    assert rajesh["Other emails"] == "r.kumar@work.example"
    assert rajesh["Phone"] == "'+919845012345"
    assert rajesh["Other phones"] == "'+918023456789"
    assert rajesh["Company"] == "'=Ganga Agro Foods"
    assert rajesh["Address"] == "12 MG Road\nBlock B"
    assert rajesh["Tags"] == '\'=cmd, "north, east", vip'  # a tag holding a comma is quoted
    assert (rajesh["Customer type"], rajesh["Source"], rajesh["Phase"]) == ("b2b", "referral", "retention")
    assert (rajesh["Custom: shop-size"], rajesh["Custom: since"]) == ("12", "2024-04-01")


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_cells_that_would_run_as_formulas_are_neutralised_and_read_back(start):
    value = start + 'HYPERLINK("http://x")'
    assert neutralise(value) == "'" + value
    assert unneutralise(neutralise(value)) == value
    assert neutralise("Asha") == "Asha" and unneutralise("'quoted") == "'quoted"


def test_no_exported_cell_starts_a_formula(client, org):
    people(org.rep_a1)
    text = export(client, org.rep_a1, format="csv")
    for row in csv.reader(io.StringIO(text[1:])):
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell


def test_export_holds_only_what_the_user_may_see_and_follows_the_filters(client, org):
    ContactFactory(owner=org.rep_a1, display_name="Mine Retained", phase=Phase.RETENTION)
    ContactFactory(owner=org.rep_a1, display_name="Mine New", phase=Phase.SELECTION)
    ContactFactory(owner=org.rep_a2, display_name="Theirs Retained", phase=Phase.RETENTION)
    names = [row["Display name"] for row in rows_of(export(client, org.rep_a1))]
    assert names == ["Mine New", "Mine Retained"]
    filtered = [row["Display name"] for row in rows_of(export(client, org.rep_a1, phase="retention"))]
    assert filtered == ["Mine Retained"]
    searched = [row["Display name"] for row in rows_of(export(client, org.rep_a1, q="Retained"))]
    assert searched == ["Mine Retained"]
    peek = [row["Display name"] for row in rows_of(export(client, org.rep_a1, owner=org.rep_a2.pk))]
    assert "Theirs Retained" not in peek
    manager = [row["Display name"] for row in rows_of(export(client, org.manager_a, phase="retention"))]
    assert manager == ["Mine Retained", "Theirs Retained"]


def test_export_follows_the_access_rule(org):
    assert_access(EXPORT, allowed=[org.rep_a1, org.rep_b1, org.manager_a, org.admin], data={"format": "vcard"})


def test_an_unknown_format_is_a_clear_400(client, org):
    client.force_login(org.rep_a1)
    response = client.get(EXPORT, {"format": "xlsx"})
    assert response.status_code == 400
    assert b"csv or vcard" in response.content


def test_vcard_30_has_names_channels_company_address_and_tags(client, org):
    people(org.rep_a1)
    text = export(client, org.rep_a1, format="vcard")
    assert text.count("BEGIN:VCARD\r\n") == 3 and text.count("END:VCARD\r\n") == 3
    unfolded = text.replace("\r\n ", "")
    assert "VERSION:3.0\r\n" in unfolded
    assert "N:कुमार;राजेश;;;\r\n" in unfolded
    assert "FN:राजेश कुमार\r\n" in unfolded
    assert "EMAIL;TYPE=INTERNET,PREF:rajesh@example.in\r\n" in unfolded
    assert "EMAIL;TYPE=INTERNET:r.kumar@work.example\r\n" in unfolded
    assert "TEL;TYPE=CELL,PREF:+919845012345\r\n" in unfolded
    assert "TEL;TYPE=CELL:+918023456789\r\n" in unfolded
    assert "ORG:=Ganga Agro Foods\r\n" in unfolded
    assert "ADR;TYPE=WORK:;;12 MG Road\\nBlock B;@Bengaluru;Karnataka;560001;IN\r\n" in unfolded
    assert "CATEGORIES:=cmd,north\\, east,vip\r\n" in unfolded
    for line in text.split("\r\n"):
        assert len(line.encode("utf-8")) <= 75


def test_export_queries_do_not_grow_with_rows(client, org):
    client.force_login(org.rep_a1)
    counts = []
    for total in (3, 40):
        Contact.objects.all().delete()
        for n in range(total):
            contact_create(
                by=org.rep_a1, given_name=f"P{n}", email=f"p{n}@example.com", phone=f"98450 {10000 + n}", tags=["t"]
            )
        for kind in ("csv", "vcard"):
            with CaptureQueriesContext(connection) as queries:
                response = client.get(EXPORT, {"format": kind})
                body = b"".join(response.streaming_content)
            assert body.count(b"@example.com") == total
            counts.append(len(queries))
    assert counts[:2] == counts[2:]


def _import(owner, data: bytes, name: str):
    job = import_prepare(owner=owner, upload=SimpleUploadedFile(name, data))
    import_start(job=job, fields=job_fields(job), by=owner)
    assert import_run(job_id=job.pk) == "done"
    job.refresh_from_db()
    return job


FIELDS = [
    "given_name",
    "family_name",
    "display_name",
    "email",
    "phone",
    "job_title",
    "address_line",
    "city",
    "state",
    "postcode",
    "country",
    "customer_type",
    "source",
    "phase",
    "custom",
]


def _values(owner, fields=FIELDS) -> list[tuple]:
    contacts = (
        Contact.objects.filter(owner=owner)
        .select_related("company")
        .prefetch_related("emails", "phones", "tags")
        .order_by("display_name")
    )
    return [
        (
            *(getattr(c, name) for name in fields),
            [e.email for e in c.emails.all()],
            [p.number for p in c.phones.all()],
            sorted(t.name for t in c.tags.all()),
            c.company.name if c.company else "",
        )
        for c in contacts
    ]


def test_our_csv_export_imports_into_another_account_with_identical_values(client, org, custom_fields):
    people(org.rep_a1)
    text = export(client, org.rep_a1, format="csv")
    job = _import(org.rep_b1, text.encode("utf-8"), "export.csv")
    assert (job.created_count, job.error_count) == (3, 0)
    assert _values(org.rep_b1) == _values(org.rep_a1)
    assert Contact.objects.get(owner=org.rep_b1, given_name="राजेश").company.owner == org.rep_b1


def test_our_vcard_export_imports_back_with_its_names_channels_and_tags(client, org):
    people(org.rep_a1)
    text = export(client, org.rep_a1, format="vcard")
    job = _import(org.rep_b1, text.encode("utf-8"), "export.vcf")
    assert (job.created_count, job.error_count) == (3, 0)
    vcard_fields = ["given_name", "family_name", "display_name", "email", "phone", "job_title", "address_line"]
    assert _values(org.rep_b1, vcard_fields) == _values(org.rep_a1, vcard_fields)


def _plain_rows(owner, custom_keys) -> list[list[str]]:
    """The export's rows by the plainest means: model instances and their related rows, read by the ORM."""
    contacts = (
        Contact.objects.filter(owner=owner)
        .select_related("company")
        .prefetch_related("emails", "phones", "tags")
        .order_by("display_name", "id")
    )
    rows = []
    for c in contacts:
        emails = [e.email for e in c.emails.all()]
        phones = [p.number for p in c.phones.all()]
        if c.email and c.email not in emails:
            emails.insert(0, c.email)
        if c.phone and c.phone not in phones:
            phones.insert(0, c.phone)
        custom = c.custom or {}
        rows.append(
            [
                neutralise(cell)
                for cell in (
                    c.given_name,
                    c.family_name,
                    c.display_name,
                    emails[0] if emails else "",
                    ", ".join(emails[1:]),
                    phones[0] if phones else "",
                    ", ".join(phones[1:]),
                    c.company.name if c.company else "",
                    c.job_title,
                    c.address_line,
                    c.city,
                    c.state,
                    c.postcode,
                    c.country,
                    c.customer_type,
                    c.source,
                    c.phase,
                    join_tags(sorted(t.name for t in c.tags.all())),
                    *("" if custom.get(key) is None else str(custom[key]) for key in custom_keys),
                )
            ]
        )
    return rows


def test_csv_rows_equal_a_plain_orm_read_of_the_same_contacts(client, org, custom_fields):
    people(org.rep_a1)
    # a primary email and phone with no ContactEmail/ContactPhone row, and no company
    ContactFactory(owner=org.rep_a1, display_name="Zoya Bare", phone="+919845099999")
    odd = contact_create(by=org.rep_a1, given_name="Ödön", emails=["o@example.hu"], tags=["Zeta", "alpha", "Éclair"])
    # custom values of every JSON kind; keys no field names are not exported
    Contact.objects.filter(pk=odd.pk).update(custom={"shop-size": 2.5, "since": True, "gone": "x"})
    Contact.objects.filter(display_name="Zoya Bare").update(custom={"shop-size": None, "since": [1, "a"]})
    ContactFactory(owner=org.rep_a2, display_name="Not Mine")
    text = export(client, org.rep_a1, format="csv")
    exported = list(csv.reader(io.StringIO(text[1:])))
    assert exported[0] == [*HEADERS, "Custom: shop-size", "Custom: since"]
    assert exported[1:] == _plain_rows(org.rep_a1, ["shop-size", "since"])
    assert len(exported) == 6


def test_vcard_records_carry_the_same_channels_kinds_and_tags_as_the_orm(org):
    people(org.rep_a1)
    ContactFactory(owner=org.rep_a1, display_name="Zoya Bare", phone="+919845099999")
    records = {record[2]: record for record in vcard_records(Contact.objects.filter(owner=org.rep_a1))}
    assert len(records) == 4
    for contact in Contact.objects.filter(owner=org.rep_a1).prefetch_related("emails", "phones", "tags"):
        record = dict(zip(VCARD_COLUMNS, records[contact.display_name], strict=False))
        emails, phones, tags, kinds = records[contact.display_name][len(VCARD_COLUMNS) :]
        assert record["updated_at"] == contact.updated_at
        assert record["company__name"] == (contact.company.name if contact.company else None)
        assert emails == [e.email for e in contact.emails.all()]
        assert list(zip(phones, kinds, strict=True)) == [(p.number, p.kind) for p in contact.phones.all()]
        assert sorted(tags) == sorted(t.name for t in contact.tags.all())


def test_a_long_export_is_streamed_in_pieces_of_chunk_size_rows(client, org, monkeypatch):
    monkeypatch.setattr("contacts.export.CHUNK_SIZE", 2)
    for n in range(5):
        contact_create(by=org.rep_a1, given_name=f"P{n}", email=f"p{n}@example.com")
    client.force_login(org.rep_a1)
    for kind, marker in (("csv", "@example.com"), ("vcard", "BEGIN:VCARD")):
        pieces = [piece.decode() for piece in client.get(EXPORT, {"format": kind}).streaming_content]
        assert len(pieces) == 3
        assert [piece.count(marker) for piece in pieces] == [2, 2, 1]


def test_an_export_stopped_half_way_leaves_no_thread_cursor_or_savepoint_behind(org, monkeypatch):
    monkeypatch.setattr("contacts.export.CHUNK_SIZE", 2)
    for n in range(7):
        contact_create(by=org.rep_a1, given_name=f"P{n}", email=f"p{n}@example.com")
    savepoints, threads = list(connection.savepoint_ids), threading.active_count()
    for chunks in (csv_chunks, vcard_chunks):
        pieces = chunks(Contact.objects.filter(owner=org.rep_a1))
        assert "p0@example.com" in next(pieces)
        pieces.close()  # what the response does when the client goes away
        assert connection.savepoint_ids == savepoints
        assert threading.active_count() == threads
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_cursors")
            assert cursor.fetchone() == (0,)
    assert Contact.objects.filter(owner=org.rep_a1).count() == 7


def test_an_empty_selection_exports_only_the_header(client, org):
    contact_create(by=org.rep_a1, given_name="Asha")
    assert rows_of(export(client, org.rep_a1, format="csv", ids="not-ids")) == []
    assert export(client, org.rep_a1, format="vcard", ids="not-ids") == ""
