"""Demo data: a team with an admin, a manager and two reps, and a living client database."""

import datetime
import random

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import get_random_string

from contacts.demo import seed_client_work
from contacts.models import Company, Contact, CustomerType, Industry, Phase
from contacts.services import company_create, contact_create
from crm.models import Role, Team, User
from sales.demo import orders_demo
from sales.demo_deals import deals_demo
from sales.demo_loyalty import loyalty_demo
from support.demo import tickets_demo

DEMO_USERS = [
    # username, first, last, role, language, password used in development
    ("admin", "Anita", "Rao", Role.ADMIN, "en", "demo-admin-2026"),
    ("meera", "Meera", "Iyer", Role.MANAGER, "en", "demo-manager-2026"),
    ("arjun", "Arjun", "Sharma", Role.REP, "hi", "demo-rep-2026"),
    ("priya", "Priya", "Das", Role.REP, "bn", "demo-rep-2026"),
]

# (given, family) in Latin script, Indian and international
LATIN_NAMES = [
    ("Rahul", "Verma"),
    ("Sneha", "Kulkarni"),
    ("Vikram", "Reddy"),
    ("Aisha", "Khan"),
    ("Karthik", "Nair"),
    ("Pooja", "Mehta"),
    ("Rohan", "Gupta"),
    ("Divya", "Pillai"),
    ("Sanjay", "Patel"),
    ("Lakshmi", "Menon"),
    ("Imran", "Qureshi"),
    ("Neha", "Joshi"),
    ("Suresh", "Babu"),
    ("Kavya", "Hegde"),
    ("Amit", "Chatterjee"),
    ("Farah", "Siddiqui"),
    ("Manoj", "Tiwari"),
    ("Ritu", "Bansal"),
    ("Gurpreet", "Singh"),
    ("Deepa", "Shetty"),
    ("John", "Smith"),
    ("Maria", "Garcia"),
    ("Chen", "Wei"),
    ("Fatima", "Al-Sayed"),
    ("Lukas", "Müller"),
    ("Sophie", "Martin"),
    ("Kenji", "Tanaka"),
    ("Olivia", "Brown"),
    ("Ahmed", "Hassan"),
    ("Emma", "Wilson"),
]
# Names in Devanagari, Bengali and Kannada scripts
NATIVE_NAMES = [
    ("राजेश", "कुमार"),
    ("सुनीता", "शर्मा"),
    ("अनिल", "यादव"),
    ("प्रिया", "मिश्रा"),
    ("विनोद", "चौहान"),
    ("সৌরভ", "গাঙ্গুলী"),
    ("অনুশ্রী", "বসু"),
    ("দেবাশীষ", "মুখার্জি"),
    ("রুমা", "সেন"),
    ("ರಮೇಶ್", "ಗೌಡ"),
    ("ಶ್ವೇತಾ", "ರಾವ್"),
    ("ಮಂಜುನಾಥ್", "ಹೆಗ್ಡೆ"),
    ("ಅನಿತಾ", "ಶೆಟ್ಟಿ"),
]
CITIES = [
    ("Bengaluru", "Karnataka"),
    ("Mysuru", "Karnataka"),
    ("Mumbai", "Maharashtra"),
    ("Pune", "Maharashtra"),
    ("Delhi", "Delhi"),
    ("Kolkata", "West Bengal"),
    ("Chennai", "Tamil Nadu"),
    ("Hyderabad", "Telangana"),
    ("Ahmedabad", "Gujarat"),
    ("Jaipur", "Rajasthan"),
    ("Lucknow", "Uttar Pradesh"),
    ("Kochi", "Kerala"),
]
COMPANIES = [
    ("Sahyadri Textiles", "sahyadritextiles.in", "Textiles"),
    ("Ganga Agro Foods", "gangaagro.in", "Food"),
    ("Nilgiri Tea Traders", "nilgiritea.co.in", "Retail"),
    ("Vaishnavi Pharma", "vaishnavipharma.com", "Pharma"),
    ("Kaveri Logistics", "kaverilogistics.in", "Logistics"),
    ("Deccan Software Labs", "deccansoft.io", "IT services"),
    ("Bengal Handloom Co-op", "bengalhandloom.org", "Textiles"),
    ("Malabar Spices", "malabarspices.in", "Food"),
    ("Thar Solar Systems", "tharsolar.in", "Energy"),
    ("Coromandel Motors", "coromandelmotors.com", "Automotive"),
    ("Himalaya Hospitality", "himalayahotels.in", "Hospitality"),
    ("Indus Fintech", "indusfintech.in", "Finance"),
    ("Konkan Seafoods", "konkanseafoods.com", "Food"),
    ("Narmada Cement", "narmadacement.in", "Construction"),
    ("श्री गणेश ट्रेडर्स", "shriganeshtraders.in", "Retail"),
    ("ಮೈಸೂರು ಸಿಲ್ಕ್ ಹೌಸ್", "mysorusilkhouse.in", "Textiles"),
]
JOB_TITLES = ["Owner", "Purchase Manager", "Director", "Accounts Head", "Operations Lead", "CEO", "Store Manager"]
# Phases that only purchases reach (sales.lifecycle); the demo gets there through orders.
CUSTOMER_PHASES = {Phase.RETENTION, Phase.EXTENSION, Phase.CHURNED}
PHASE_WEIGHTS = [
    (Phase.SELECTION, 20),
    (Phase.ACQUISITION, 30),
    (Phase.RETENTION, 30),
    (Phase.EXTENSION, 12),
    (Phase.CHURNED, 8),
]


def _indian_mobile(rng: random.Random) -> str:
    return f"+91 {rng.choice('6789')}{rng.randrange(10**8, 10**9)}"


def _email(given: str, family: str, n: int, domain: str) -> str:
    parts = ("".join(ch for ch in part.lower() if ch.isascii() and ch.isalnum()) for part in (given, family))
    local = ".".join(part for part in parts if part) or "contact"
    return f"{local}{n}@{domain}"


def _spread_over_the_past(rng: random.Random, model, ids: list[int], *, days: int) -> None:
    """Give demo records creation dates over the past `days`, so reports have a history."""
    now = timezone.now()
    for pk in ids:
        created_at = now - datetime.timedelta(days=rng.randrange(days), minutes=rng.randrange(24 * 60))
        updated_at = min(now, created_at + datetime.timedelta(days=rng.randrange(120)))
        model.objects.filter(pk=pk).update(created_at=created_at, updated_at=updated_at)


@transaction.atomic
def seed_demo(*, contacts: int = 150, seed: int = 2026) -> dict:
    """Create the demo users, team, companies and contacts; returns the logins."""
    rng = random.Random(seed)
    logins = []
    users = {}
    for username, first, last, role, language, password in DEMO_USERS:
        if not settings.DEBUG:
            password = get_random_string(20)
        user = User.objects.create_user(
            username=username,
            email=f"{username}@example.com",
            password=password,
            first_name=first,
            last_name=last,
            role=role,
            language=language,
            is_staff=role == Role.ADMIN,
            is_superuser=role == Role.ADMIN,
        )
        users[username] = user
        logins.append((username, password if settings.DEBUG else None, role.label))
    team = Team.objects.create(name="Bengaluru Sales", manager=users["meera"])
    team.members.add(users["meera"], users["arjun"], users["priya"])
    owners = [users["arjun"], users["priya"], users["meera"]]

    industries = {name: Industry.objects.get_or_create(name=name)[0] for name in sorted({c[2] for c in COMPANIES})}
    companies: list[Company] = []
    for name, domain, industry in COMPANIES:
        city, state = rng.choice(CITIES)
        owner = rng.choice(owners)
        companies.append(
            company_create(
                by=owner, owner=owner, name=name, domain=domain, industry=industries[industry], city=city, state=state
            )
        )

    phases, weights = zip(*PHASE_WEIGHTS, strict=True)
    names = LATIN_NAMES * 4 + NATIVE_NAMES * 3
    created = []
    customers = []  # (contact, the phase its orders are to give it)
    for n in range(contacts):
        given, family = rng.choice(names)
        city, state = rng.choice(CITIES)
        phase = rng.choices(phases, weights)[0]
        b2b = rng.random() < 0.55
        company = rng.choice(companies) if b2b else None
        owner = company.owner if company else rng.choice(owners)
        contact = contact_create(
            by=owner,
            owner=owner,
            given_name=given,
            family_name=family,
            email=_email(
                given, family, n, company.domain if company else rng.choice(["gmail.com", "yahoo.co.in", "outlook.com"])
            ),
            phone=_indian_mobile(rng),
            company=company,
            job_title=rng.choice(JOB_TITLES) if company else "",
            city=company.city if company else city,
            state=company.state if company else state,
            customer_type=CustomerType.B2B if company else CustomerType.B2C,
            # A customer starts as a lead; its orders (sales.demo) move it on through the lifecycle rules.
            phase=Phase.ACQUISITION if phase in CUSTOMER_PHASES else phase,
        )
        created.append(contact.pk)
        if phase in CUSTOMER_PHASES:
            customers.append((contact, phase))
    _spread_over_the_past(rng, Contact, created, days=540)
    _spread_over_the_past(rng, Company, [company.pk for company in companies], days=720)
    work = seed_client_work(rng=rng, users=users, companies=companies, contact_ids=created)
    sales = orders_demo(rng=rng, customers=customers, by=users["admin"])
    # After the orders: tickets go to those the orders made customers.
    support = tickets_demo(rng=rng, contact_ids=created)
    # Last, so that the deals do not change the random draws of the parts before them.
    deals = deals_demo(rng=rng, contact_ids=created)
    # After every order: tiers come from the purchases; its own draws leave the parts above as they were.
    loyalty = loyalty_demo(rng=random.Random(seed + 1), by=users["admin"])
    return {
        "logins": logins,
        "companies": len(companies),
        "contacts": contacts,
        **work,
        **sales,
        **support,
        **deals,
        **loyalty,
    }
