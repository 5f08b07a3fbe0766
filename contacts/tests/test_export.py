"""Exporting the contact list as CSV and vCard: content, formula neutralisation, access, queries, round trip."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.http import StreamingHttpResponse
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from contacts.export import HEADERS, neutralise, unneutralise
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
