"""Generators of the client database: users and teams, companies, contacts with their emails, phones,
consent, tags, social accounts and referrals, lifecycle histories, the timeline, tasks and change history.

The shape of the data, per contact (ratios overridable with --ratio):
- an owner drawn from a skewed distribution (a few reps own many contacts), in teams of eight reps;
- 40 % work for a company (a few companies have thousands of people, most have one to five);
- Indian and international names; in the north, west, Karnataka and east a share is written in
  Devanagari, Kannada or Bengali script;
- unique emails (the contact's id ends the local part), with a few near-duplicate records: the same
  person entered twice with "+tag" or a misspelt domain, often the same phone;
- valid mobile numbers of the person's country in E.164 (+91 for India);
- what they bought (bench.purchases: most buy once, a few very often) and the lifecycle their purchases
  make under the CRM's rules: selection -> acquisition -> retention -> extension, churn a full churn
  window after the last purchase, some win-backs; every move is a PhaseChange, the contact's phase is
  the last one's, and each move after the first is a "phase" item on the timeline;
- timeline items skewed (log-normal: half the contacts have five or fewer, a few have hundreds),
  averaging `activities` per contact; contact 1 has exactly 1,000, for the contact-page scenario.
"""

import math

from bench import names, phones, purchases
from bench.copyload import NULL, escape, json_text
from bench.generator import after_load, generator, ratio, reference, stage

DAY = 86400
YEAR = 365 * DAY
TIMELINE_CONTACT_ITEMS = 1000
# The contact whose page shows a thousand orders (bench.purchases.ORDERS_CONTACT_ORDERS), owned by the top rep.
ORDERS_CONTACT = 2
CONTACT_CHUNK = 2000
COMPANY_CHUNK = 5000
PICK_TABLE = 4096

ratio("companies", 0.1, "companies per contact")
ratio("activities", 10.0, "timeline items per contact (log-normal; phase items included)")
ratio("tasks", 0.5, "tasks per contact")
ratio("contacts_per_rep", 20000.0, "contacts per sales rep (at least 4 reps; 8 reps and a manager per team)")
ratio("b2b", 0.4, "share of contacts who work for a company")
ratio("near_duplicates", 0.004, "share of contacts that are the same person entered again")
ratio("orders", 10.0, "orders per contact (most customers buy once, a few very often)")
ratio("deals", 0.3, "deals per contact (open ones included)")
ratio("open_deals", 0.02, "open deals per contact (the kanban board's)")
ratio("tickets", 0.2, "support tickets per contact")

PHASES = ("selection", "acquisition", "retention", "extension", "churned")
PHASE_LABELS = {p: p.capitalize() for p in PHASES}
# Where contacts stand today (churned: 15-20 % a year leave, the DESIGN's typical churn).
FINAL_PHASE_WEIGHTS = {"selection": 10, "acquisition": 28, "retention": 28, "extension": 14, "churned": 20}
SOURCES = (
    ("web_form", 25),
    ("referral", 18),
    ("walk_in", 15),
    ("event", 10),
    ("social", 12),
    ("phone", 10),
    ("partner", 6),
    ("import", 3),
    ("other", 1),
)
CHANNELS = (("", 30), ("whatsapp", 30), ("phone", 20), ("email", 15), ("sms", 5))
SIZE_BANDS = (("1-9", 45), ("10-49", 30), ("50-249", 17), ("250+", 8))
USER_LANGUAGES = (("en", 60), ("hi", 20), ("bn", 10), ("kn", 10))
EMAIL_PATTERNS = (
    ("{g}.{f}{n}", 35),
    ("{g}{f}{n}", 15),
    ("{g}_{f}{n}", 8),
    ("{g0}{f}{n}", 12),
    ("{g}{n}", 15),
    ("{f}.{g}{n}", 8),
    ("{g}.{f0}{n}", 7),
)
SOCIAL_PLATFORMS_B2B = (("linkedin", 70), ("x", 15), ("facebook", 15))
SOCIAL_PLATFORMS_B2C = (("instagram", 45), ("facebook", 35), ("youtube", 5), ("x", 15))
CONSENT_SHARE = {"email": 0.55, "sms": 0.35, "whatsapp": 0.5, "phone": 0.25}
GSTIN_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def table(weighted, size: int = PICK_TABLE) -> list:
    """A lookup table for fast weighted picks: table[int(random() * len(table))]."""
    items = list(weighted)
    total = sum(weight for _item, weight in items)
    result, acc = [], 0.0
    for item, weight in items:
        acc += weight
        while len(result) < round(size * acc / total):
            result.append(item)
    return result


def pick(rng, lookup: list):
    return lookup[int(rng.random() * len(lookup))]


# Reference data: users, teams and lookup tables ----------------------------------------------------


@reference
def _people_tables(ctx) -> None:
    names.check_pools()
    phones.warm_up()
    ref = ctx.ref
    ref["regions"] = table(zip(names.REGIONS, names.REGION_WEIGHTS, strict=True))
    ref["company_regions"] = table(
        zip(
            names.REGIONS,
            [w * (3 if r.country == "IN" else 1) for r, w in zip(names.REGIONS, names.REGION_WEIGHTS, strict=True)],
            strict=True,
        )
    )
    ref["slugs"] = {
        region.key: ([names.ascii_slug(g) for g, _n in region.given], [names.ascii_slug(f) for f, _n in region.family])
        for region in names.REGIONS
    }
    ref["sources"] = table(SOURCES)
    ref["channels"] = table(CHANNELS)
    ref["email_patterns"] = table(EMAIL_PATTERNS)
    ref["final_phases"] = table(FINAL_PHASE_WEIGHTS.items())
    ref["domains_in"] = table(names.PERSONAL_DOMAINS_IN)
    ref["domains_abroad"] = {country: table(d) for country, d in names.PERSONAL_DOMAINS_ABROAD.items()}
    ref["tags"] = table((n + 1, weight) for n, (_name, weight) in enumerate(names.TAGS))
    ref["size_bands"] = table(SIZE_BANDS)
    ref["social_b2b"] = table(SOCIAL_PLATFORMS_B2B)
    ref["social_b2c"] = table(SOCIAL_PLATFORMS_B2C)
    interactions = []
    for kind, direction, summaries, weight in names.INTERACTIONS:
        for summary in summaries:
            interactions.append(((kind, direction, summary), weight / len(summaries)))
    ref["interactions"] = table(interactions)


@reference
def _users(ctx) -> None:
    """One admin, a manager per team of eight reps; rep 1 owns the most contacts (the list scenario's)."""
    plan, ref = ctx.plan, ctx.ref
    rng = ctx.rng("users")
    reps = max(4, round(plan.contacts / plan.ratio("contacts_per_rep")))
    teams = -(-reps // 8)
    languages = table(USER_LANGUAGES)
    region = names.REGIONS[2]
    users = []  # (id, username, first, last, role, language, is_staff)

    def person():
        source = names.REGIONS[int(rng.random() * 6)]
        return rng.choice(source.given)[0], rng.choice(source.family)[0]

    users.append((1, "admin", *person(), "admin", "en", True))
    manager_ids = list(range(2, 2 + teams))
    for n, pk in enumerate(manager_ids, start=1):
        users.append((pk, f"manager{n:02d}", *person(), "manager", pick(rng, languages), False))
    rep_ids = list(range(2 + teams, 2 + teams + reps))
    for n, pk in enumerate(rep_ids, start=1):
        users.append((pk, f"rep{n:03d}", *person(), "rep", pick(rng, languages), False))
    team_rows = []
    team_of = {}
    for t in range(teams):
        members = rep_ids[t * 8 : (t + 1) * 8]
        city = region.cities[t % len(region.cities)][0] if t < len(region.cities) else f"Region {t + 1}"
        team_rows.append((t + 1, f"{city} Sales {t + 1}", manager_ids[t], t % 2 == 1, members))
        for member in members:
            team_of[member] = members
    ref["users"] = users
    ref["teams"] = team_rows
    ref["rep_ids"] = rep_ids
    ref["team_of"] = team_of
    # Zipf-like ownership: rep k owns about k^-0.8 of the contacts.
    ref["owners"] = table((pk, (k + 1) ** -0.8) for k, pk in enumerate(rep_ids))
    ref["company_count"] = plan.count("companies")
    ref["markers"] = {
        "admin_id": 1,
        "manager_id": manager_ids[0],
        "manager_username": "manager01",
        "top_rep_id": rep_ids[0],
        "timeline_contact_id": 1,
        "timeline_items": TIMELINE_CONTACT_ITEMS,
        "orders_contact_id": ORDERS_CONTACT if plan.contacts >= ORDERS_CONTACT else None,
        "orders_contact_orders": purchases.ORDERS_CONTACT_ORDERS,
    }


@reference
def _purchase_profiles(ctx) -> None:
    """How many orders, deals and tickets each contact has, decided for all at once (see bench.purchases)."""
    markers = ctx.ref["markers"]
    ctx.ref["profiles"] = purchases.build_profiles(
        ctx,
        final_phases=ctx.ref["final_phases"],
        timeline_contact=markers["timeline_contact_id"],
        orders_contact=markers["orders_contact_id"] or 0,
    )


def _stamp(ctx, seconds_ago_max: int, seconds_ago_min: int, rng) -> int:
    return ctx.now - seconds_ago_min - int(rng.random() * (seconds_ago_max - seconds_ago_min))


stage("setup", count=lambda plan: 1, chunk_size=1)


@generator(
    "users",
    stage="setup",
    tables={
        "crm_user": (
            "id",
            "password",
            "last_login",
            "is_superuser",
            "username",
            "first_name",
            "last_name",
            "email",
            "is_staff",
            "is_active",
            "date_joined",
            "role",
            "language",
            "time_zone",
        ),
        "crm_team": ("id", "name", "manager_id", "shares_records"),
        "crm_team_members": ("team_id", "user_id"),
    },
)
def users(ctx, chunk) -> None:
    rng = chunk.rng("users")
    out = chunk.out("crm_user")
    joined = ctx.clock.text(ctx.now - 6 * YEAR)
    for pk, username, first, last, role, language, staff in ctx.ref["users"]:
        # An unusable password ("!" and random): the benchmark signs users in without one.
        password = "!" + "".join(rng.choice(LETTERS) for _ in range(40))
        flag = "t" if staff else "f"
        out.append(
            f"{pk}\t{password}\t{NULL}\t{flag}\t{username}\t{first}\t{last}\t{username}@bench.example\t{flag}\tt\t"
            f"{joined}\t{role}\t{language}\tAsia/Kolkata\n"
        )
    teams_out, members_out = chunk.out("crm_team"), chunk.out("crm_team_members")
    for pk, name, manager_id, shares, members in ctx.ref["teams"]:
        teams_out.append(f"{pk}\t{name}\t{manager_id}\t{'t' if shares else 'f'}\n")
        members_out.extend(f"{pk}\t{member}\n" for member in members)


@generator(
    "lists",
    stage="setup",
    tables={
        "contacts_industry": ("id", "name"),
        "contacts_tag": ("id", "name"),
        "contacts_customfield": ("id", "key", "label", "kind", "choices", "position", "active"),
    },
)
def lists(ctx, chunk) -> None:
    chunk.out("contacts_industry").extend(f"{n}\t{name}\n" for n, name in enumerate(names.INDUSTRIES, start=1))
    chunk.out("contacts_tag").extend(f"{n}\t{name}\n" for n, (name, _w) in enumerate(names.TAGS, start=1))
    chunk.out("contacts_customfield").extend(
        f"{n}\t{key}\t{label}\t{kind}\t{json_text(list(choices))}\t{n}\tt\n"
        for n, (key, label, kind, choices) in enumerate(names.CUSTOM_FIELDS, start=1)
    )


# Companies ------------------------------------------------------------------------------------------


def gstin(rng, state: str) -> str:
    """A GSTIN with a valid check character (GSTN's base-36 checksum, as contacts.normalise checks it)."""
    pan = "".join(rng.choice(LETTERS) for _ in range(3)) + "C" + rng.choice(LETTERS)
    body = f"{names.GST_STATE_CODES[state]}{pan}{rng.randrange(10000):04d}{rng.choice(LETTERS)}1Z"
    total = 0
    for position, char in enumerate(body):
        product = GSTIN_ALPHABET.index(char) * (2 if position % 2 else 1)
        total += product // 36 + product % 36
    return body + GSTIN_ALPHABET[(36 - total % 36) % 36]


def postcode(rng, region: names.Region, prefix: str) -> str:
    if region.country == "IN":
        return f"{prefix}{rng.randrange(1000):03d}"
    if region.country == "GB":
        return f"{prefix} {rng.randrange(1, 10)}{rng.choice(LETTERS)}{rng.choice(LETTERS)}"
    if region.country == "JP":
        return f"{prefix}{rng.randrange(100):02d}-{rng.randrange(10000):04d}"
    if region.country == "SG":
        return f"{rng.randrange(18000, 830000):06d}"
    if region.postcode_digits:
        rest = region.postcode_digits - len(prefix)
        return f"{prefix}{rng.randrange(10**rest):0{rest}d}"
    return ""


class CompanyIdentity:
    """What contacts need to know about a company: a pure function of its id and the seed."""

    __slots__ = ("city", "domain", "landline", "name", "owner", "postcode", "region", "state")


def company_identity(ctx, pk: int) -> CompanyIdentity:
    cache = ctx.ref.setdefault("company_cache", {})
    found = cache.get(pk)
    if found is not None:
        return found
    import random

    rng = random.Random(ctx.plan.seed * 1_000_003 + pk)  # noqa: S311 - test data, not secrets
    company = CompanyIdentity()
    region = pick(rng, ctx.ref["company_regions"])
    city, state, prefix = rng.choice(region.cities)
    family_latin, family_native = rng.choice(region.family)
    native = region.key in names.NATIVE_TRADES and rng.random() < region.native_share / 3
    if native:
        name = f"{family_native} {names.NATIVE_TRADES[region.key]}"
        domain_words = [names.ascii_slug(family_latin), "traders"]
    else:
        first = family_latin if rng.random() < 0.4 else rng.choice(names.COMPANY_WORDS)
        trade = rng.choice(names.COMPANY_TRADES)
        if region.country == "IN":
            suffix = rng.choice(names.COMPANY_SUFFIXES_IN)
        else:
            suffix = rng.choice(names.COMPANY_SUFFIXES_ABROAD[region.country])
        name = " ".join(part for part in (first, trade, suffix) if part)
        domain_words = [names.ascii_slug(first), names.ascii_slug(trade.split()[0])]
    tld = ".in" if region.country == "IN" and rng.random() < 0.5 else ".com"
    if region.country == "IN" and tld == ".com" and rng.random() < 0.3:
        tld = ".co.in"
    company.name = name
    company.domain = "".join(domain_words) + tld
    company.region = region
    company.city, company.state = city, state
    company.postcode = postcode(rng, region, prefix)
    code = phones.STD_CODES.get(state)
    company.landline = phones.landline_in(rng, code) if code else phones.mobile(rng, region.phone_region)
    company.owner = ctx.ref["owners"][rng.randrange(len(ctx.ref["owners"]))]
    if len(cache) < 200_000:
        cache[pk] = company
    return company


stage("companies", count=lambda plan: plan.count("companies"), chunk_size=COMPANY_CHUNK)


@generator(
    "companies",
    stage="companies",
    tables={
        "contacts_company": (
            "id",
            "name",
            "domain",
            "industry_id",
            "size_band",
            "gstin",
            "phone",
            "owner_id",
            "created_at",
            "updated_at",
            "last_activity_at",
            "address_line",
            "city",
            "state",
            "postcode",
            "country",
        ),
        "contacts_company_tags": ("company_id", "tag_id"),
        "contacts_fieldchange": (
            "record_type",
            "record_id",
            "field",
            "old_value",
            "new_value",
            "changed_by_id",
            "changed_at",
            "via",
        ),
    },
)
def companies(ctx, chunk) -> None:
    rng = chunk.rng("companies")
    clock = ctx.clock.text
    out, tags_out, history = (
        chunk.out("contacts_company"),
        chunk.out("contacts_company_tags"),
        chunk.out("contacts_fieldchange"),
    )
    industries = len(names.INDUSTRIES)
    size_bands, tag_table = ctx.ref["size_bands"], ctx.ref["tags"]
    for pk in chunk.ids:
        company = company_identity(ctx, pk)
        region = company.region
        created = clock(_stamp(ctx, 9 * YEAR, 30 * DAY, rng))
        number = rng.randrange(1, 400)
        street = rng.choice(names.STREETS if region.country == "IN" else names.STREETS_ABROAD)
        address = f"{number}, {street}" if region.country == "IN" else f"{number} {street}"
        tax_id = gstin(rng, company.state) if region.country == "IN" and rng.random() < 0.6 else ""
        name = escape(company.name)
        out.append(
            f"{pk}\t{name}\t{company.domain}\t{1 + int(rng.random() * industries)}\t{pick(rng, size_bands)}\t{tax_id}\t"
            f"{company.landline}\t{company.owner}\t{created}\t{created}\t{created}\t{address}\t{company.city}\t"
            f"{company.state}\t{company.postcode}\t{region.country}\n"
        )
        history.append(f"company\t{pk}\tcreated\t\t{name}\t{company.owner}\t{created}\tform\n")
        if rng.random() < 0.15:
            for tag in {pick(rng, tag_table) for _ in range(rng.randrange(1, 3))}:
                tags_out.append(f"{pk}\t{tag}\n")


@after_load("company last activity")
def company_last_activity(cursor, plan) -> None:
    """A company's last activity is its latest timeline item (contacts.services.activity_log bumps both)."""
    cursor.execute(
        """
        UPDATE contacts_company c SET last_activity_at = greatest(c.created_at, a.at), updated_at = c.created_at
        FROM (
            SELECT company_id, max(at) AS at FROM contacts_activity
            WHERE company_id IS NOT NULL GROUP BY company_id
        ) a
        WHERE a.company_id = c.id
        """
    )


@after_load("phone sample")
def phone_sample(cursor, plan) -> None:
    """A few thousand stored numbers, re-checked with the phonenumbers library: a bad one stops the load."""
    cursor.execute(
        """
        (SELECT number FROM contacts_contactphone TABLESAMPLE SYSTEM (2) LIMIT 2000)
        UNION ALL (SELECT phone FROM contacts_company WHERE phone <> '' LIMIT 500)
        """
    )
    bad = [number for (number,) in cursor.fetchall() if not phones.is_valid_e164(number)]
    if bad:
        raise ValueError(f"generated phone numbers that are not valid E.164: {bad[:5]}")


# Contacts -------------------------------------------------------------------------------------------


class Person:
    """One contact while its chunk is made; later generators (orders, deals, tickets, …) read these.

    `orders` are its orders as bench.purchases plans them ([placed_at, status, paid_at, closed_at],
    order `first_order_id + n` for the n-th), and `moves` the lifecycle the CRM's rules make of
    them: [(from, to, at, by_owner, rule, reason)], times in epoch seconds, the first one the
    creation. Phases follow orders by construction."""

    __slots__ = (
        "address",
        "channel",
        "city",
        "company",
        "company_id",
        "country",
        "created",
        "custom",
        "customer_type",
        "display",
        "emails",
        "family",
        "first_order_id",
        "given",
        "id",
        "influencer",
        "job_title",
        "language",
        "last_activity",
        "moves",
        "orders",
        "owner",
        "phase",
        "phase_changed",
        "phones",
        "postcode",
        "region",
        "slug",
        "source",
        "state",
        "timeline_items",
        "updated",
        "verified",
    )


stage("contacts", count=lambda plan: plan.contacts, chunk_size=CONTACT_CHUNK)


@generator("people", stage="contacts", tables={})
def people(ctx, chunk) -> None:
    """Decide who each contact of the chunk is; the generators after this one write the rows."""
    rng = chunk.rng("people")
    ref, now = ctx.ref, ctx.now
    regions, owners = ref["regions"], ref["owners"]
    slugs, patterns = ref["slugs"], ref["email_patterns"]
    domains_in, domains_abroad = ref["domains_in"], ref["domains_abroad"]
    sources, channels, profiles = ref["sources"], ref["channels"], ref["profiles"]
    buying = chunk.rng("purchases")
    company_count = ref["company_count"]
    b2b = ctx.plan.ratio("b2b") if company_count else 0.0
    near_dup_share = ctx.plan.ratio("near_duplicates")
    markers = ref["markers"]
    mean_items = ctx.plan.ratio("activities")
    sigma = 1.0
    mu = math.log(max(mean_items, 0.01)) - sigma * sigma / 2
    result = []
    duplicated = set()
    for pk in chunk.ids:
        p = Person()
        p.id = pk
        twin = None
        if result and rng.random() < near_dup_share:
            twin = result[int(rng.random() * len(result))]
            # each person is entered again at most once, and a second entry is not copied again
            if twin.id in duplicated:
                twin = None
        if twin is not None:
            duplicated.update((twin.id, pk))
            region = twin.region
            p.given, p.family, p.slug = twin.given, twin.family, twin.slug
            native = False
        else:
            region = pick(rng, regions)
            g = int(rng.random() * len(region.given))
            f = int(rng.random() * len(region.family))
            native = rng.random() < region.native_share
            column = 1 if native else 0
            p.given = region.given[g][column]
            p.family = region.family[f][column] if rng.random() > 0.04 else ""
            p.slug = (slugs[region.key][0][g], slugs[region.key][1][f] if p.family else "")
        p.region = region
        p.display = f"{p.given} {p.family}" if p.family else p.given
        if twin is not None and twin.family and rng.random() < 0.3:
            p.display = f"{p.given[0]}. {p.family}"
        # Work and place
        company, company_id = None, None
        if twin is not None:
            company, company_id = twin.company, twin.company_id
        elif b2b and rng.random() < b2b:
            # a few companies have thousands of people, most one to five
            company_id = 1 + int(company_count * rng.random() ** 2.2)
            company = company_identity(ctx, company_id)
        p.company, p.company_id = company, company_id
        p.customer_type = "b2b" if company is not None else "b2c"
        if pk in (markers["timeline_contact_id"], markers["orders_contact_id"]):
            p.owner = markers["top_rep_id"]
        elif company is not None and rng.random() < 0.8:
            p.owner = company.owner
        else:
            p.owner = owners[int(rng.random() * len(owners))]
        if twin is not None:
            p.city, p.state, p.postcode, p.country, p.address = (
                twin.city,
                twin.state,
                twin.postcode,
                twin.country,
                twin.address,
            )
        else:
            if company is not None and rng.random() < 0.7:
                p.city, p.state, p.postcode, p.country = (
                    company.city,
                    company.state,
                    company.postcode,
                    company.region.country,
                )
            else:
                city, state, prefix = region.cities[int(rng.random() * len(region.cities))]
                p.city, p.state, p.country = city, state, region.country
                p.postcode = postcode(rng, region, prefix)
            if rng.random() < 0.6:
                street = names.STREETS[int(rng.random() * len(names.STREETS))] if p.country == "IN" else "Main Street"
                p.address = (
                    f"{rng.randrange(1, 900)}, {street}" if p.country == "IN" else f"{rng.randrange(1, 900)} {street}"
                )
            else:
                p.address = ""
        p.job_title = (
            names.JOB_TITLES[int(rng.random() * len(names.JOB_TITLES))]
            if company is not None and rng.random() < 0.9
            else ""
        )
        # Channels
        emails = []
        if twin is not None:
            if twin.emails:
                local, _at, domain = twin.emails[0].partition("@")
                misspelt = names.MISSPELT_DOMAINS.get(domain)
                if misspelt and rng.random() < 0.5:
                    emails.append(f"{local}@{misspelt}")
                else:
                    emails.append(f"{local}+{names.PLUS_TAGS[int(rng.random() * len(names.PLUS_TAGS))]}@{domain}")
        elif rng.random() < 0.88:
            g_slug, f_slug = p.slug
            pattern = pick(rng, patterns) if f_slug else "{g}{n}"
            local = pattern.format(g=g_slug, f=f_slug, g0=g_slug[0], f0=f_slug[:1], n=pk)
            own = domains_in if region.country == "IN" else domains_abroad[region.country]
            first = company.domain if company is not None and rng.random() < 0.7 else pick(rng, own)
            emails.append(f"{local}@{first}")
            if rng.random() < 0.18:
                second = pick(rng, own)
                if second == first:
                    second = "outlook.com" if first != "outlook.com" else "gmail.com"
                emails.append(f"{local}@{second}")
        p.emails = emails
        numbers = []
        if twin is not None and twin.phones and rng.random() < 0.5:
            numbers.append((twin.phones[0][0], "mobile"))
        elif rng.random() < 0.92:
            numbers.append((phones.mobile(rng, region.phone_region), "mobile"))
        if company is not None and rng.random() < 0.15:
            numbers.append((company.landline, "work"))
        elif region.country != "IN" and rng.random() < 0.08:
            numbers.append((phones.mobile(rng, "IN"), "mobile"))
        if len(numbers) == 2 and numbers[0][0] == numbers[1][0]:
            numbers.pop()
        p.phones = numbers
        p.source = pick(rng, sources)
        p.language = region.language if native or rng.random() < 0.3 else ("en" if rng.random() < 0.7 else "")
        p.channel = pick(rng, channels)
        # When they joined (more recently than long ago: a growing business), what they bought, and
        # the lifecycle moves their purchases made (bench.purchases).
        p.created = profiles.created[pk]
        shape = profiles.shape[pk]
        start = "selection" if shape == purchases.SEL or buying.random() < 0.55 else "acquisition"
        gap = 1.3 if pk == markers["orders_contact_id"] else None
        p.orders = purchases.order_plan(ctx, buying, pk, profiles, gap_days=gap)
        p.first_order_id = profiles.order_base[pk]
        p.moves, paid_phases = purchases.lifecycle_moves(
            ctx, buying, p.orders, p.first_order_id, p.created, start, shape
        )
        purchases.place_refunds(ctx, buying, p.orders, paid_phases, profiles.refunded[pk])
        p.phase = p.moves[-1][1]
        p.phase_changed = p.moves[-1][2]
        if pk == markers["timeline_contact_id"]:
            p.timeline_items = TIMELINE_CONTACT_ITEMS
        else:
            p.timeline_items = max(1, round(rng.lognormvariate(mu, sigma))) if mean_items > 0 else 0
        p.influencer = rng.random() < 0.01
        p.verified = p.created + int(rng.random() * (now - p.created)) if rng.random() < 0.3 else None
        custom = {}
        if rng.random() < 0.4:
            custom["visit_day"] = names.CUSTOM_FIELDS[0][3][int(rng.random() * 4)]
        if company is not None and rng.random() < 0.5:
            custom["annual_budget"] = rng.randrange(50, 5000) * 1000
        if rng.random() < 0.2:
            custom["loyalty_card"] = f"LC{rng.randrange(10**6, 10**7)}"
        p.custom = custom
        p.last_activity = p.created
        p.updated = p.created
        result.append(p)
    chunk.data["people"] = result


@generator(
    "channels",
    stage="contacts",
    tables={
        "contacts_contactemail": ("contact_id", "email", "is_primary"),
        "contacts_contactphone": ("contact_id", "number", "kind", "is_primary"),
        "contacts_socialaccount": ("contact_id", "platform", "handle"),
        "contacts_consent": ("contact_id", "channel", "status", "changed_at"),
        "contacts_consentevent": ("contact_id", "channel", "status", "at", "method", "wording", "recorded_by_id"),
    },
)
def channels(ctx, chunk) -> None:
    rng = chunk.rng("channels")
    clock, now = ctx.clock.text, ctx.now
    emails_out, phones_out = chunk.out("contacts_contactemail"), chunk.out("contacts_contactphone")
    social_out = chunk.out("contacts_socialaccount")
    consent_out, events_out = chunk.out("contacts_consent"), chunk.out("contacts_consentevent")
    social_b2b, social_b2c = ctx.ref["social_b2b"], ctx.ref["social_b2c"]
    methods, withdraw_methods, wording = names.CONSENT_METHODS, names.WITHDRAW_METHODS, names.CONSENT_WORDING
    for p in chunk.data["people"]:
        pk = p.id
        for n, email in enumerate(p.emails):
            emails_out.append(f"{pk}\t{email}\t{'t' if n == 0 else 'f'}\n")
        for n, (number, kind) in enumerate(p.phones):
            phones_out.append(f"{pk}\t{number}\t{kind}\t{'t' if n == 0 else 'f'}\n")
        if rng.random() < 0.12 and p.slug[0]:
            platform = pick(rng, social_b2b if p.customer_type == "b2b" else social_b2c)
            handle = (
                f"https://www.linkedin.com/in/{p.slug[0]}-{p.slug[1]}-{pk}"
                if platform == "linkedin"
                else f"@{p.slug[0]}{p.slug[1]}{pk}"
            )
            social_out.append(f"{pk}\t{platform}\t{handle}\n")
        for channel, share in CONSENT_SHARE.items():
            if (not p.emails if channel == "email" else not p.phones) or rng.random() >= share:
                continue
            at = p.created + int(rng.random() * min(30 * DAY, now - p.created))
            method = methods[int(rng.random() * len(methods))]
            events_out.append(f"{pk}\t{channel}\tgranted\t{clock(at)}\t{method}\t{wording[channel]}\t{p.owner}\n")
            status = "granted"
            if rng.random() < 0.12:
                at = at + int(rng.random() * (now - at))
                events_out.append(
                    f"{pk}\t{channel}\twithdrawn\t{clock(at)}\t{withdraw_methods[int(rng.random() * 3)]}\t\t{p.owner}\n"
                )
                status = "withdrawn"
            consent_out.append(f"{pk}\t{channel}\t{status}\t{clock(at)}\n")


@generator(
    "timeline",
    stage="contacts",
    tables={
        "contacts_phasechange": ("contact_id", "from_phase", "to_phase", "at", "by_id", "rule", "reason"),
        "contacts_activity": (
            "kind",
            "contact_id",
            "company_id",
            "at",
            "direction",
            "by_id",
            "summary",
            "body",
            "outcome",
            "ref",
        ),
    },
)
def timeline(ctx, chunk) -> None:
    """The lifecycle moves, their timeline items, and the logged interactions; sets last_activity."""
    rng = chunk.rng("timeline")
    clock, now = ctx.clock.text, ctx.now
    moves_out, items_out = chunk.out("contacts_phasechange"), chunk.out("contacts_activity")
    interactions, outcomes, team_of = ctx.ref["interactions"], names.OUTCOMES, ctx.ref["team_of"]
    size, n_outcomes = len(interactions), len(outcomes)
    for p in chunk.data["people"]:
        pk, owner = p.id, p.owner
        phase_items = 0
        for source, to, at, manual, rule, reason in p.moves:
            by = owner if manual else NULL
            moves_out.append(f"{pk}\t{source}\t{to}\t{clock(at)}\t{by}\t{rule}\t{reason}\n")
            if source:
                # contacts.services.phase_change puts each move on the timeline (without the company)
                phase_items += 1
                summary = f"{PHASE_LABELS[source]} → {PHASE_LABELS[to]}"
                items_out.append(f"phase\t{pk}\t{NULL}\t{clock(at)}\t\t{by}\t{summary}\t{reason or rule}\t\t\n")
        count = p.timeline_items - phase_items
        if count <= 0:
            continue
        start = p.created
        # a churned contact went quiet when it left
        end = p.phase_changed if p.phase == "churned" else now
        span = max(1, end - start)
        company = p.company_id if p.company_id is not None else NULL
        mates = team_of.get(owner, (owner,))
        latest = start
        for _ in range(count):
            kind, direction, summary = interactions[int(rng.random() * size)]
            at = start + int(rng.random() * span)
            if at > latest:
                latest = at
            by = owner if rng.random() < 0.9 else mates[int(rng.random() * len(mates))]
            outcome = (
                outcomes[int(rng.random() * n_outcomes)] if kind in ("call", "meeting") and rng.random() < 0.5 else ""
            )
            items_out.append(f"{kind}\t{pk}\t{company}\t{clock(at)}\t{direction}\t{by}\t{summary}\t\t{outcome}\t\n")
        p.last_activity = latest


@generator(
    "tasks",
    stage="contacts",
    tables={
        "contacts_task": (
            "title",
            "notes",
            "due_at",
            "remind_at",
            "reminder_sent_at",
            "reminder_emailed_at",
            "assignee_id",
            "contact_id",
            "company_id",
            "status",
            "created_by_id",
            "created_at",
            "completed_at",
        ),
    },
)
def tasks(ctx, chunk) -> None:
    rng = chunk.rng("tasks")
    clock, now = ctx.clock.text, ctx.now
    out = chunk.out("contacts_task")
    mean = ctx.plan.ratio("tasks")
    more = mean / (1 + mean)  # geometric number of tasks with this mean
    titles = names.TASK_TITLES
    for p in chunk.data["people"]:
        while rng.random() < more:
            due = p.created + int(rng.random() * (now + 30 * DAY - p.created))
            created = max(p.created, due - DAY - int(rng.random() * 14 * DAY))
            remind = due - 3600 if rng.random() < 0.5 else None
            if due > now:
                status, completed = "open", None
            else:
                roll = rng.random()
                status = "done" if roll < 0.85 else ("cancelled" if roll < 0.9 else "open")
                completed = (
                    min(now, max(created, due - DAY + int(rng.random() * 3 * DAY))) if status == "done" else None
                )
            sent = remind if remind is not None and remind <= now else None
            out.append(
                f"{titles[int(rng.random() * len(titles))]}\t\t{clock(due)}\t{clock(remind) if remind else NULL}\t"
                f"{clock(sent) if sent else NULL}\t{clock(sent + 1) if sent else NULL}\t{p.owner}\t{p.id}\t{NULL}\t"
                f"{status}\t{p.owner}\t{clock(created)}\t{clock(completed) if completed else NULL}\n"
            )


@generator(
    "relations",
    stage="contacts",
    tables={
        "contacts_contact_tags": ("contact_id", "tag_id"),
        "contacts_referral": (
            "referrer_id",
            "referred_contact_id",
            "referred_company_id",
            "note",
            "created_at",
            "created_by_id",
        ),
    },
)
def relations(ctx, chunk) -> None:
    """Tags, and the people and companies influencers referred (within the chunk: ids are known)."""
    rng = chunk.rng("relations")
    clock = ctx.clock.text
    tags_out, referrals_out = chunk.out("contacts_contact_tags"), chunk.out("contacts_referral")
    tag_table, company_count = ctx.ref["tags"], ctx.ref["company_count"]
    people_ = chunk.data["people"]
    for p in people_:
        if rng.random() < 0.25:
            for tag in sorted({pick(rng, tag_table) for _ in range(rng.randrange(1, 4))}):
                tags_out.append(f"{p.id}\t{tag}\n")
        if p.influencer and len(people_) > 1:
            for other in rng.sample(people_, k=min(len(people_), rng.randrange(1, 7))):
                if other.id != p.id:
                    at = clock(max(p.created, other.created))
                    referrals_out.append(f"{p.id}\t{other.id}\t{NULL}\tRecommended us\t{at}\t{p.owner}\n")
            if company_count and rng.random() < 0.2:
                company = 1 + int(rng.random() * company_count)
                referrals_out.append(
                    f"{p.id}\t{NULL}\t{company}\tIntroduced the owner\t{clock(p.created)}\t{p.owner}\n"
                )


@generator(
    "history",
    stage="contacts",
    tables={
        "contacts_fieldchange": (
            "record_type",
            "record_id",
            "field",
            "old_value",
            "new_value",
            "changed_by_id",
            "changed_at",
            "via",
        ),
    },
)
def history(ctx, chunk) -> None:
    """Who created each contact, a few later edits (the current value is the last new value), verifications."""
    rng = chunk.rng("history")
    clock, now = ctx.clock.text, ctx.now
    out = chunk.out("contacts_fieldchange")
    for p in chunk.data["people"]:
        display = escape(p.display)
        out.append(f"contact\t{p.id}\tcreated\t\t{display}\t{p.owner}\t{clock(p.created)}\tform\n")
        if rng.random() < 0.12:
            at = p.created + int(rng.random() * (now - p.created))
            if p.job_title and rng.random() < 0.5:
                old = names.JOB_TITLES[int(rng.random() * len(names.JOB_TITLES))]
                if old != p.job_title:
                    out.append(f"contact\t{p.id}\tjob_title\t{old}\t{p.job_title}\t{p.owner}\t{clock(at)}\tform\n")
                    p.updated = at
            elif p.city:
                old = p.region.cities[int(rng.random() * len(p.region.cities))][0]
                if old != p.city:
                    out.append(f"contact\t{p.id}\tcity\t{old}\t{p.city}\t{p.owner}\t{clock(at)}\tform\n")
                    p.updated = at
        if p.verified is not None:
            day = clock(p.verified)[:10]
            out.append(f"contact\t{p.id}\tverified\t\t{day}\t{p.owner}\t{clock(p.verified)}\t\n")


@generator(
    "contact rows",
    stage="contacts",
    tables={
        "contacts_contact": (
            "id",
            "given_name",
            "family_name",
            "display_name",
            "email",
            "phone",
            "company_id",
            "job_title",
            "customer_type",
            "source",
            "preferred_language",
            "preferred_channel",
            "is_influencer",
            "phase",
            "phase_changed_at",
            "custom",
            "owner_id",
            "created_at",
            "updated_at",
            "verified_at",
            "last_activity_at",
            "import_key",
            "address_line",
            "city",
            "state",
            "postcode",
            "country",
        ),
    },
)
def contact_rows(ctx, chunk) -> None:
    """The contacts themselves, last: their last activity and update times are known by now."""
    clock = ctx.clock.text
    out = chunk.out("contacts_contact")
    for p in chunk.data["people"]:
        company = p.company_id if p.company_id is not None else NULL
        custom = json_text(p.custom) if p.custom else "{}"
        out.append(
            f"{p.id}\t{p.given}\t{p.family}\t{escape(p.display)}\t{p.emails[0] if p.emails else ''}\t"
            f"{p.phones[0][0] if p.phones else ''}\t{company}\t{p.job_title}\t{p.customer_type}\t{p.source}\t"
            f"{p.language}\t{p.channel}\t{'t' if p.influencer else 'f'}\t{p.phase}\t{clock(p.phase_changed)}\t"
            f"{custom}\t"
            f"{p.owner}\t{clock(p.created)}\t{clock(max(p.updated, p.phase_changed))}\t"
            f"{clock(p.verified) if p.verified is not None else NULL}\t{clock(p.last_activity)}\t\t{p.address}\t"
            f"{p.city}\t{p.state}\t{p.postcode}\t{p.country}\n"
        )
