"""Data quality of contact records: how complete they are, which are stale, which need attention.

The completeness score exists twice, once in Python for one record (`contact_quality`) and once
as an SQL annotation for lists (`with_completeness`); both are built from the same table of
weights and a test checks that they agree.
"""

import datetime

from django.conf import settings
from django.db.models import Case, Exists, F, IntegerField, OuterRef, Q, QuerySet, Value, When
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from contacts.models import Consent, Contact, CustomerType

# (label, weight, SQL condition of "present", applies to B2B only)
COMPLETENESS_RULES = [
    ("name", _("Name"), 10, Q(given_name__gt="") | Q(family_name__gt=""), False),
    ("email", _("Email"), 20, Q(email__gt=""), False),
    ("phone", _("Phone"), 20, Q(phone__gt=""), False),
    ("company", _("Company"), 10, Q(company__isnull=False), True),
    ("job_title", _("Job title"), 5, Q(job_title__gt=""), True),
    ("city", _("City"), 5, Q(city__gt=""), False),
    ("state", _("State"), 5, Q(state__gt=""), False),
    ("postcode", _("PIN / postcode"), 5, Q(postcode__gt=""), False),
    ("source", _("Source"), 5, Q(source__gt=""), False),
    ("preferred_channel", _("Preferred channel"), 5, Q(preferred_channel__gt=""), False),
    ("consent", _("Consent recorded"), 10, Q(has_consent=True), False),
]
TOTAL_B2B = sum(weight for _key, _label, weight, _q, _b2b in COMPLETENESS_RULES)
TOTAL_B2C = sum(weight for _key, _label, weight, _q, b2b in COMPLETENESS_RULES if not b2b)
# Below this score a record shows on the "needs attention" page.
ATTENTION_BELOW = 60


def _present(contact: Contact, key: str) -> bool:
    if key == "name":
        return bool(contact.given_name or contact.family_name)
    if key == "company":
        return contact.company_id is not None
    if key == "consent":
        has_consent = getattr(contact, "has_consent", None)  # annotated by with_completeness
        if has_consent is None:
            has_consent = Consent.objects.filter(contact_id=contact.pk).exists()
        return bool(has_consent)
    return bool(getattr(contact, key))


def contact_quality(contact: Contact) -> tuple[int, list[str]]:
    """(completeness 0..100, labels of what is missing) of one contact.

    Company and job title count for business (B2B) contacts only; the score is the share of the
    applicable weights that is present, rounded down."""
    b2b = contact.customer_type == CustomerType.B2B
    earned, missing = 0, []
    for key, label, weight, _condition, b2b_only in COMPLETENESS_RULES:
        if b2b_only and not b2b:
            continue
        if _present(contact, key):
            earned += weight
        else:
            missing.append(str(label))
    return earned * 100 // (TOTAL_B2B if b2b else TOTAL_B2C), missing


def with_completeness(queryset: QuerySet[Contact]) -> QuerySet[Contact]:
    """The queryset with `has_consent` and `completeness` (0..100, the same as contact_quality) annotated."""
    queryset = queryset.annotate(has_consent=Exists(Consent.objects.filter(contact=OuterRef("pk"))))
    b2b = Q(customer_type=CustomerType.B2B)
    earned = Value(0)
    for _key, _label, weight, condition, b2b_only in COMPLETENESS_RULES:
        when = condition & b2b if b2b_only else condition
        earned = earned + Case(When(when, then=Value(weight)), default=Value(0), output_field=IntegerField())
    total = Case(When(b2b, then=Value(TOTAL_B2B)), default=Value(TOTAL_B2C), output_field=IntegerField())
    return queryset.annotate(completeness=earned * Value(100) / total)


def stale_before(now: datetime.datetime | None = None) -> datetime.datetime:
    """Records neither updated nor verified since this moment are stale."""
    return (now or timezone.now()) - datetime.timedelta(days=settings.CONTACT_STALE_DAYS)


def contact_is_stale(contact: Contact, *, now: datetime.datetime | None = None) -> bool:
    last_checked = max(contact.updated_at, contact.verified_at or contact.updated_at)
    return last_checked < stale_before(now)


def stale_condition(now: datetime.datetime | None = None) -> Q:
    cutoff = stale_before(now)
    return Q(updated_at__lt=cutoff) & (Q(verified_at__isnull=True) | Q(verified_at__lt=cutoff))


def needs_attention(*, user, owner=None, below: int = ATTENTION_BELOW) -> QuerySet[Contact]:
    """The user's visible contacts that are stale or less complete than `below`, the least
    complete and longest untouched first; optionally of one owner."""
    contacts = Contact.objects.visible_to(user)
    if owner is not None:
        contacts = contacts.filter(owner=owner)
    return (
        with_completeness(contacts)
        .filter(Q(completeness__lt=below) | stale_condition())
        .annotate(last_checked=Greatest("verified_at", "updated_at"))
        .select_related("owner")
        .order_by("completeness", F("updated_at").asc(), "id")
    )
