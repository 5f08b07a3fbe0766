"""Scenarios of the client database: the contact list (page 1 and deep), search, the contact page,
import and export. Pages go through the Django test client signed in as the data set's manager (or
the admin, for the export of everything); import and export run the real job and view in a process
of their own, so their peak memory is theirs."""

import csv
import hashlib
import io
import os
import random
import re
import tempfile
import time
import urllib.parse
from html.parser import HTMLParser

from django.db import connection, transaction

from bench import names, phones, restore
from bench.harness import Measure, child_task, peak_rss_mb, query_log, scenario

LIST_URL = "/contacts/"
DEEP_PAGE = 500
LIST_PHASE = "retention"
LIST_COLUMNS = """
    c.id, c.display_name, c.email, c.phone, c.city, c.phase, c.last_activity_at, c.created_at,
    co.id, co.name, u.id, u.username, u.first_name, u.last_name
"""
LIST_FROM = """
    FROM contacts_contact c
    LEFT JOIN contacts_company co ON co.id = c.company_id
    JOIN crm_user u ON u.id = c.owner_id
"""


def page_size() -> int:
    try:
        from contacts.forms_lists import DEFAULT_PAGE_SIZE
    except ImportError:
        return 50
    return DEFAULT_PAGE_SIZE


def timeline_size() -> int:
    from contacts.selectors_work import TIMELINE_PAGE_SIZE

    return TIMELINE_PAGE_SIZE


def visible_owner_list(user) -> list[int] | None:
    from crm.access import visible_owner_ids

    owners = visible_owner_ids(user)
    return None if owners is None else sorted(owners.values_list("pk", flat=True))


# Reading the pages ------------------------------------------------------------------------------


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.anchors: list[tuple[dict, str]] = []
        self._open: dict | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self._open, self._text = dict(attrs), []

    def handle_data(self, data):
        if self._open is not None:
            self._text.append(data)

    def handle_endtag(self, tag):
        if tag == "a" and self._open is not None:
            self.anchors.append((self._open, "".join(self._text).strip()))
            self._open = None


def anchors(html: str) -> list[tuple[dict, str]]:
    parser = _Links()
    parser.feed(html)
    return parser.anchors


def next_link(html: str) -> str | None:
    """The list's link to the next page: rel="next", or a link saying "Next"."""
    found = anchors(html)
    for attrs, _text in found:
        if "next" in (attrs.get("rel") or "").split() and attrs.get("href"):
            return attrs["href"]
    for attrs, text in found:
        if text.strip().lower().startswith("next") and attrs.get("href"):
            return attrs["href"]
    return None


def activity_sort(html: str) -> tuple[str, str] | None:
    """(parameter, value) of the list's sort by last activity, newest first, read from its column links."""
    for attrs, _text in anchors(html):
        query = urllib.parse.urlsplit(attrs.get("href") or "").query
        for key, value in urllib.parse.parse_qsl(query):
            if "activity" in value and key in ("sort", "order", "o", "ordering"):
                return key, value if value.startswith("-") else f"-{value}"
    return None


def absolute(base: str, href: str) -> str:
    return urllib.parse.urljoin(base, href)


# Lists and search --------------------------------------------------------------------------------


def _list_query(env, client) -> tuple[str, list[str]]:
    """The URL of the list filtered by phase and by the biggest owner, sorted by last activity."""
    notes = []
    owner = env.markers["top_rep_id"]
    query = {"phase": LIST_PHASE, "owner": owner}
    response = client.get(LIST_URL)
    sort = activity_sort(response.content.decode())
    if sort:
        query[sort[0]] = sort[1]
    else:
        notes.append("the list offers no sort by last activity: measured in its default order")
    return f"{LIST_URL}?{urllib.parse.urlencode(query)}", notes


def _list_floor_sql(*, after=None) -> str:
    keyset = "AND (c.last_activity_at, c.id) < (%s, %s)" if after else ""
    return f"""
        SELECT {LIST_COLUMNS} {LIST_FROM}
        WHERE c.phase = %s AND c.owner_id = %s {keyset}
        ORDER BY c.last_activity_at DESC, c.id DESC LIMIT %s
    """


def _explain_page(env, client, url: str, **headers):
    def queries():
        with query_log(keep=True) as log:
            client.get(url, headers=headers)
        return log.queries

    return queries


@scenario("contacts.list.page1", "Contact list, phase + owner, by last activity, page 1")
def list_page1(env) -> Measure:
    client = env.client(env.markers["manager_username"])
    url, notes = _list_query(env, client)
    owner, size = env.markers["top_rep_id"], page_size()
    return Measure(
        run=lambda: env.get(client, url),
        floor=lambda: env.sql(_list_floor_sql(), [LIST_PHASE, owner, size]),
        floor_title="one SELECT … ORDER BY last_activity_at DESC, id DESC LIMIT 50",
        explain=_explain_page(env, client, url),
        notes=notes,
    )


@scenario("contacts.list.deep", f"Contact list, same filter, page {DEEP_PAGE} (or the last)")
def list_deep(env) -> Measure:
    client = env.client(env.markers["manager_username"])
    url, notes = _list_query(env, client)
    owner, size = env.markers["top_rep_id"], page_size()
    page, current = 1, url
    started = time.perf_counter()
    # Follow the list's own Next links (keyset cursors are opaque); a numbered link is jumped to.
    while page < DEEP_PAGE:
        html = client.get(current).content.decode()
        link = next_link(html)
        if not link:
            break
        target = absolute(current, link)
        numbered = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(target).query)).get("page")
        if numbered and numbered.isdigit() and page == 1:
            total = env.sql(f"SELECT count(*) {LIST_FROM} WHERE c.phase = %s AND c.owner_id = %s", [LIST_PHASE, owner])[
                0
            ][0]
            page = min(DEEP_PAGE, max(1, -(-total // size)))
            current = re.sub(r"([?&]page=)\d+", rf"\g<1>{page}", target)
            break
        current, page = target, page + 1
    notes.append(f"page {page} reached by following Next links in {time.perf_counter() - started:.1f} s")
    offset = (page - 1) * size
    before = env.sql(
        "SELECT c.last_activity_at, c.id FROM contacts_contact c WHERE c.phase = %s AND c.owner_id = %s "
        "ORDER BY c.last_activity_at DESC, c.id DESC OFFSET %s LIMIT 1",
        [LIST_PHASE, owner, max(0, offset - 1)],
    )
    if page > 1 and before:
        at, pk = before[0]

        def floor():
            return env.sql(_list_floor_sql(after=True), [LIST_PHASE, owner, at, pk, size])
    else:

        def floor():
            return env.sql(_list_floor_sql(), [LIST_PHASE, owner, size])

    return Measure(
        run=lambda: env.get(client, current),
        floor=floor,
        floor_title="one keyset SELECT from the row before the page",
        explain=_explain_page(env, client, current),
        notes=notes,
    )


def _search_targets(env) -> dict:
    """What people type: part of a Latin name, part of a Devanagari name, an email, a phone as dialled."""
    manager = env.user(env.markers["manager_username"])
    owners = visible_owner_list(manager)
    where, params = ("c.owner_id = ANY(%s)", [owners]) if owners is not None else ("TRUE", [])
    middle = max(1, env.contacts // 2)
    email_row = env.sql(
        f"SELECT c.email FROM contacts_contact c WHERE {where} AND c.email <> '' AND c.id >= %s ORDER BY c.id LIMIT 1",  # noqa: S608
        [*params, middle],
    )
    phone_row = env.sql(
        f"SELECT c.phone FROM contacts_contact c WHERE {where} AND c.phone LIKE '+91%%' AND c.id >= %s "  # noqa: S608
        "ORDER BY c.id LIMIT 1",
        [*params, middle],
    )
    return {
        "owners": owners,
        "latin": "kulkarn",
        "devanagari": "शर्मा",
        "email": email_row[0][0] if email_row else "nobody@example.com",
        "phone": phone_row[0][0] if phone_row else "+919845012345",
    }


def _search_scenario(env, kind: str) -> Measure:
    client = env.client(env.markers["manager_username"])
    targets = _search_targets(env)
    owners, size = targets["owners"], page_size()
    visible = "c.owner_id = ANY(%s)" if owners is not None else "TRUE"
    visible_params = [owners] if owners is not None else []
    order = f"ORDER BY c.display_name, c.id LIMIT {size}"
    if kind in ("latin", "devanagari"):
        typed = targets[kind]
        # The first 50 matches in no particular order (the DESIGN's trigram floor): with an ORDER BY the
        # planner walks the name index and filters row by row, seconds for a rare (Devanagari) term.
        floor_sql = f"SELECT {LIST_COLUMNS} {LIST_FROM} WHERE {visible} AND c.display_name ILIKE %s LIMIT {size}"
        floor_params = [*visible_params, f"%{typed}%"]
        title = "one SELECT … display_name ILIKE '%…%' LIMIT 50"
    elif kind == "email":
        typed = targets["email"]
        floor_sql = (
            f"SELECT {LIST_COLUMNS} {LIST_FROM} WHERE {visible} "  # noqa: S608
            f"AND c.id IN (SELECT contact_id FROM contacts_contactemail WHERE email = %s) {order}"
        )
        floor_params = [*visible_params, typed]
        title = "one SELECT by the email index"
    else:
        typed = phones.local_format(targets["phone"])
        floor_sql = f"SELECT {LIST_COLUMNS} {LIST_FROM} WHERE {visible} AND c.phone = %s {order}"
        floor_params = [*visible_params, targets["phone"]]
        title = "one SELECT … phone = E.164 (btree)"
    url = f"{LIST_URL}?{urllib.parse.urlencode({'q': typed})}"
    found = env.sql(f"SELECT count(*) FROM ({floor_sql}) s", floor_params)[0][0]  # noqa: S608
    return Measure(
        run=lambda: env.get(client, url),
        floor=lambda: env.sql(floor_sql, floor_params),
        floor_title=title,
        explain=_explain_page(env, client, url),
        notes=[f"typed {typed!r}; the floor finds {found} rows on its first page"],
    )


@scenario("contacts.search.name", "Search: part of a Latin name")
def search_name(env) -> Measure:
    return _search_scenario(env, "latin")


@scenario("contacts.search.devanagari", "Search: part of a Devanagari name")
def search_devanagari(env) -> Measure:
    return _search_scenario(env, "devanagari")


@scenario("contacts.search.email", "Search: an email address")
def search_email(env) -> Measure:
    return _search_scenario(env, "email")


@scenario("contacts.search.phone", "Search: a phone typed in local format")
def search_phone(env) -> Measure:
    return _search_scenario(env, "phone")


# The contact page -----------------------------------------------------------------------------


@scenario("contacts.page", "Contact page with 1,000 timeline items (page + its timeline panel)")
def contact_page(env) -> Measure:
    client = env.client(env.markers["manager_username"])
    pk = env.markers["timeline_contact_id"]
    page_url, panel_url = f"/contacts/{pk}/", f"/contacts/{pk}/work/"
    size = timeline_size()
    items = env.sql("SELECT count(*) FROM contacts_activity WHERE contact_id = %s", [pk])[0][0]

    def run():
        page = env.get(client, page_url)
        panel = env.get(client, panel_url, HX_Request="true")
        return {"db_ms": page["db_ms"] + panel["db_ms"], "queries": page["queries"] + panel["queries"]}

    def explain():
        queries = _explain_page(env, client, page_url)()
        return queries + _explain_page(env, client, panel_url, HX_Request="true")()

    floor_sql = """
        SELECT c.id, c.display_name, c.email, c.phone, c.phase, a.id, a.kind, a.at, a.summary, a.outcome, u.username
        FROM contacts_contact c
        JOIN contacts_activity a ON a.contact_id = c.id
        LEFT JOIN crm_user u ON u.id = a.by_id
        WHERE c.id = %s ORDER BY a.at DESC, a.id DESC LIMIT %s
    """
    return Measure(
        run=run,
        floor=lambda: env.sql(floor_sql, [pk, size]),
        floor_title=f"one SELECT of the contact and its newest {size} items",
        explain=explain,
        notes=[f"contact {pk} has {items} timeline items"],
    )


# Export -------------------------------------------------------------------------------------------


class _Sink:
    def __init__(self):
        self.size = 0

    def write(self, data):
        self.size += len(data)


def _custom_keys() -> list[str]:
    from contacts.models import CustomField

    return list(CustomField.objects.filter(active=True).order_by("position", "id").values_list("key", flat=True))


def export_floor_sql() -> str:
    """The export's columns for every contact, in one statement (COPY … TO STDOUT)."""
    custom = "".join(
        f", c.custom ->> {connection.ops.quote_name(key).replace(chr(34), chr(39))}" for key in _custom_keys()
    )
    return f"""
        COPY (
            SELECT c.given_name, c.family_name, c.display_name, c.email,
                (SELECT string_agg(e.email, ', ' ORDER BY e.id) FROM contacts_contactemail e
                 WHERE e.contact_id = c.id AND e.email <> c.email),
                c.phone,
                (SELECT string_agg(p.number, ', ' ORDER BY p.id) FROM contacts_contactphone p
                 WHERE p.contact_id = c.id AND p.number <> c.phone),
                co.name, c.job_title, c.address_line, c.city, c.state, c.postcode, c.country,
                c.customer_type, c.source, c.phase,
                (SELECT string_agg(t.name, ', ' ORDER BY t.name) FROM contacts_contact_tags ct
                 JOIN contacts_tag t ON t.id = ct.tag_id WHERE ct.contact_id = c.id)
                {custom}
            FROM contacts_contact c LEFT JOIN contacts_company co ON co.id = c.company_id
            ORDER BY c.display_name, c.id
        ) TO STDOUT WITH (FORMAT csv, HEADER)
    """  # noqa: S608 - custom field keys are slugs, quoted


@child_task("export")
def export_child(*, username: str) -> dict:
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    base = peak_rss_mb()
    started = time.perf_counter()
    response = client.get("/contacts/export/?format=csv")
    size = lines = 0
    for part in response.streaming_content:
        size += len(part)
        lines += part.count(b"\n")
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "rss_mb": peak_rss_mb(),
        "rss_base_mb": base,
        "details": {"bytes": size, "lines": lines},
    }


@scenario("contacts.export", "Export of all contacts as CSV (streamed)", repeat=2, warmup=1, heavy=True)
def export_all(env) -> Measure:
    rows = env.sql("SELECT count(*) FROM contacts_contact")[0][0]
    admin = env.sql("SELECT username FROM crm_user WHERE id = %s", [env.markers["admin_id"]])[0][0]
    sql = export_floor_sql()

    def floor():
        with connection.cursor() as cursor:
            cursor.cursor.copy_expert(sql, _Sink())

    return Measure(
        run=lambda: env.child("export", username=admin),
        floor=floor,
        floor_title="COPY (one SELECT of the same columns) TO STDOUT",
        rows=rows,
        notes=["as the admin, who sees every contact"],
    )


# Import -------------------------------------------------------------------------------------------

IMPORT_HEADERS = [
    "Given name",
    "Family name",
    "Email",
    "Phone",
    "Company",
    "Job title",
    "City",
    "State",
    "Postcode",
    "Country",
    "Source",
]


def import_file(env, *, rows: int, owners: list[int] | None, seed: int) -> tuple[str, list[list[str]]]:
    """A CSV of `rows` new people, 1 % of them broken (bad email or phone), 2 % already known (the email
    of a contact the importer sees). Returns the path and the clean new rows (for the floor)."""
    rng = random.Random(f"{seed}/import/{rows}")  # noqa: S311 - test data, not secrets
    where, params = ("owner_id = ANY(%s)", [owners]) if owners is not None else ("TRUE", [])
    duplicates = max(1, rows // 50)
    known = [
        row[0]
        for row in env.sql(
            f"SELECT email FROM contacts_contact WHERE {where} AND email <> '' ORDER BY id LIMIT %s",  # noqa: S608
            [*params, duplicates],
        )
    ]
    companies = [row[0] for row in env.sql("SELECT name FROM contacts_company ORDER BY id LIMIT 500")]
    regions = [r for r in names.REGIONS if r.country == "IN"]
    clean = []
    handle, path = tempfile.mkstemp(prefix="bench-import-", suffix=".csv")
    with os.fdopen(handle, "w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(IMPORT_HEADERS)
        for n in range(rows):
            region = rng.choice(regions)
            g = rng.randrange(len(region.given))
            f = rng.randrange(len(region.family))
            native = rng.random() < region.native_share
            given, family = region.given[g][native], region.family[f][native]
            # ids above any contact's keep the addresses new (the generator ends each local part with the id)
            local = f"{names.ascii_slug(region.given[g][0])}.{names.ascii_slug(region.family[f][0])}"
            email = f"{local}{1_000_000_000 + n}@gmail.com"
            phone = phones.local_format(phones.mobile(rng, "IN")) if rng.random() < 0.1 else phones.mobile(rng, "IN")
            city, state, prefix = rng.choice(region.cities)
            company = rng.choice(companies) if companies and rng.random() < 0.2 else ""
            roll = rng.random()
            if roll < 0.01:
                email = email.split("@")[0] + "@"  # rejected: not an email address
            elif roll < 0.03 and known:
                email = known[int(rng.random() * len(known))]
            row = [
                given,
                family,
                email,
                phone,
                company,
                "",
                city,
                state,
                f"{prefix}{rng.randrange(1000):03d}",
                "IN",
                "Event",
            ]
            writer.writerow(row)
            if not (roll < 0.03 and (roll < 0.01 or known)):
                clean.append(row)
    return path, clean


def _floor_copy(clean: list[list[str]], owner_id: int) -> bytes:
    """The clean rows as COPY text for contacts_contact (what an importer could not do faster)."""
    from contacts.normalise import normalise_phone

    now = time.strftime("%Y-%m-%d %H:%M:%S+00", time.gmtime())
    lines = []
    for given, family, email, phone, _company, job, city, state, postcode, country, _source in clean:
        key = hashlib.sha256("\x1f".join((given, family, email, phone, city)).encode()).hexdigest()
        display = f"{given} {family}".strip()
        e164 = normalise_phone(phone)
        lines.append(
            f"{given}\t{family}\t{display}\t{email}\t{e164}\t{job}\tb2c\tevent\t\t\tf\tacquisition\t{now}\t{{}}\t"
            f"{owner_id}\t{now}\t{now}\t{now}\t{key}\t\t{city}\t{state}\t{postcode}\t{country}\n"
        )
    return "".join(lines).encode()


FLOOR_COLUMNS = (
    "given_name, family_name, display_name, email, phone, job_title, customer_type, source, preferred_language, "
    "preferred_channel, is_influencer, phase, phase_changed_at, custom, owner_id, created_at, updated_at, "
    "last_activity_at, import_key, address_line, city, state, postcode, country"
)


@child_task("import")
def import_child(*, path: str, username: str) -> dict:
    from django.contrib.auth import get_user_model
    from django.core.files import File

    from contacts.importers.job import import_prepare, import_start, job_fields

    owner = get_user_model().objects.get(username=username)
    base = peak_rss_mb()
    started = time.perf_counter()
    with open(path, "rb") as stream:
        job = import_prepare(owner=owner, upload=File(stream, name="bench-contacts.csv"), on_duplicate="skip")
    # Celery runs eagerly in benchmarks (bench.settings): the job runs to its end when the start commits.
    job = import_start(job=job, fields=job_fields(job), by=owner)
    seconds = time.perf_counter() - started
    job.refresh_from_db()
    details = {
        "status": job.status,
        "total": job.total_rows,
        "created": job.created_count,
        "skipped": job.skipped_count,
        "rejected": job.error_count,
    }
    job.file.storage.delete(job.file.name)
    return {"seconds": seconds, "rss_mb": peak_rss_mb(), "rss_base_mb": base, "details": details}


@scenario(
    "contacts.import",
    "Import of a contacts CSV (1 % bad rows, 2 % duplicates), end to end",
    repeat=2,
    warmup=0,
    heavy=True,
)
def import_contacts(env) -> Measure:
    from django.conf import settings

    manager = env.user(env.markers["manager_username"])
    rows = min(env.options.get("import_rows") or env.contacts, settings.IMPORT_MAX_ROWS)
    path, clean = import_file(env, rows=rows, owners=visible_owner_list(manager), seed=env.stamp.get("seed", 1))
    floor_data = _floor_copy(clean, manager.pk)
    marks = restore.id_marks()
    restore.remember(marks)

    def floor():
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.cursor.copy_expert(f"COPY contacts_contact ({FLOOR_COLUMNS}) FROM STDIN", io.BytesIO(floor_data))
            transaction.set_rollback(True)

    def cleanup():
        os.unlink(path)
        restore.restore(marks)
        restore.forget()

    return Measure(
        run=lambda: env.child("import", path=path, username=manager.username),
        after_each=lambda: restore.restore(marks),
        floor=floor,
        floor_title=f"COPY of the {len(clean):,} clean rows into contacts_contact with its indexes",
        rows=rows,
        floor_rows=len(clean),
        cleanup=cleanup,
        notes=[f"{rows:,} rows as {manager.username}, duplicates skipped; the data set is put back after each run"],
    )
