"""The loyalty programme: tiers earned by the purchases of the last 12 months (recomputed nightly,
in sets) and single-use reward codes, issued to a contact or to every holder of a tier and
redeemed on one of the contact's orders. Its services (writes) and selectors (reads); the SQL is
in sales.sql_loyalty.

The rules (README, "Loyalty"):
- the last 12 months of a run on day D (business time zone, settings.TIME_ZONE) start at 00:00
  of the same date a year earlier (28 February when D is 29 February) and end at the run;
- a purchase is a paid order, dated when it was placed; placed, cancelled and refunded orders
  do not count;
- spend is the sum of the totals of those purchases in DEFAULT_CURRENCY; the count counts them all;
- a contact holds the active tier of highest rank whose minimum spend AND minimum purchase count
  they both meet, or no tier.
"""

import datetime
import secrets
import uuid
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from contacts.models import ActivityKind, Contact
from contacts.services import activity_log
from crm.access import visible_owner_ids
from crm.templatetags.money import money
from sales import sql_loyalty
from sales.lifecycle import business_zone
from sales.models import (
    ZERO,
    ContactTier,
    LoyaltyTier,
    Order,
    OrderStatus,
    RewardCode,
    RewardKind,
    TierChange,
)
from sales.services import order_discount_apply

CENT = Decimal("0.01")
HUNDRED = Decimal("100")
# 32 signs, none that reads as another (no I, O, 0, 1): a byte modulo 32 picks one uniformly.
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 12  # 60 random bits: guessing one of a million live codes takes ~10^12 tries
CODE_GROUP = 4
_CODE_SIGNS = bytes(ord(CODE_ALPHABET[byte % len(CODE_ALPHABET)]) for byte in range(256))
# Codes issued to a tier are written this many at a time (one statement each).
ISSUE_CHUNK = 20_000
# Up to this many holders, codes issued to a tier are written during the request (about a second).
INLINE_ISSUE_LIMIT = 10_000
PANEL_ROWS = 10


def _default_currency() -> str:
    return settings.DEFAULT_CURRENCY


def can_issue_codes(user) -> bool:
    """Managers and admins issue reward codes (to the contacts they may see)."""
    return user.is_authenticated and (user.is_crm_admin or user.is_manager)


# The 12-month window --------------------------------------------------------------------


def window_start(now: datetime.datetime) -> datetime.datetime:
    """00:00 (business time) of the same date a year before `now`: a purchase 12 months ago to
    the day still counts, whatever its hour."""
    day = now.astimezone(business_zone()).date()
    try:
        start = day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        start = day.replace(year=day.year - 1, day=28)
    return datetime.datetime.combine(start, datetime.time.min, tzinfo=business_zone())


def window_purchases(*, now: datetime.datetime) -> QuerySet[Order]:
    """The purchases that count for tiers at `now`."""
    return Order.objects.purchases().filter(placed_at__gte=window_start(now), placed_at__lte=now)


@dataclass(frozen=True)
class Standing:
    spend: Decimal
    purchases: int
    since: datetime.datetime


def contact_standing(*, contact: Contact, now: datetime.datetime | None = None) -> Standing:
    """What a contact has bought in the last 12 months, as the tier rules count it."""
    now = now or timezone.now()
    row = (
        window_purchases(now=now)
        .filter(contact=contact)
        .aggregate(spend=Sum("total", filter=Q(currency=_default_currency())), purchases=Count("id"))
    )
    return Standing(spend=row["spend"] or ZERO, purchases=row["purchases"], since=window_start(now))


def active_tiers() -> list[LoyaltyTier]:
    return list(LoyaltyTier.objects.filter(active=True).order_by("-rank"))


def tier_for(*, spend: Decimal, purchases: int, tiers: list[LoyaltyTier]) -> LoyaltyTier | None:
    """The rule, said plainly: the active tier of highest rank whose two thresholds are met."""
    qualifying = [
        tier for tier in tiers if tier.active and spend >= tier.min_spend and purchases >= tier.min_purchase_count
    ]
    return max(qualifying, key=lambda tier: tier.rank, default=None)


# Tiers ----------------------------------------------------------------------------------


@transaction.atomic
def tiers_recompute(*, now: datetime.datetime | None = None) -> int:
    """The nightly job: give every contact the tier their last 12 months earn, in one set-based
    statement (sales.sql_loyalty) that touches only the contacts whose tier changed, writing a
    TierChange and a timeline item for each. A second run changes nothing. Returns the number
    of contacts whose tier changed."""
    sql_loyalty.tiers_lock()
    now = now or timezone.now()
    since = window_start(now)
    currency = _default_currency()
    return sql_loyalty.tiers_recompute(
        now=now,
        since=since,
        currency=currency,
        reason=_("Purchases in the 12 months since %(date)s") % {"date": since.date().isoformat()},
        summaries={
            "gained": _("Loyalty tier: {to}"),
            "lost": _("Loyalty tier {from} lapsed"),
            "up": _("Loyalty tier up: {from} → {to}"),
            "down": _("Loyalty tier down: {from} → {to}"),
        },
        body=_("In the 12 months since %(date)s: {count} purchases, {spend} %(currency)s spent.")
        % {"date": since.date().isoformat(), "currency": currency},
    )


# Reward codes ---------------------------------------------------------------------------


def code_generate() -> str:
    """A fresh random code, e.g. K7QM-2XHD-9WPA (from the operating system's secure source)."""
    signs = secrets.token_bytes(CODE_LENGTH).translate(_CODE_SIGNS).decode("ascii")
    return "-".join(signs[i : i + CODE_GROUP] for i in range(0, CODE_LENGTH, CODE_GROUP))


def code_normalise(text: str) -> str:
    """What a person typed, as codes are stored: capitals, grouped by dashes; spaces and dashes
    anywhere are ignored ("k7qm 2xhd9wpa" finds K7QM-2XHD-9WPA)."""
    signs = "".join(ch for ch in (text or "").upper() if ch.isascii() and ch.isalnum())
    if len(signs) != CODE_LENGTH:
        return signs
    return "-".join(signs[i : i + CODE_GROUP] for i in range(0, CODE_LENGTH, CODE_GROUP))


def reward_label(*, kind: str, value: Decimal, currency: str) -> str:
    """A reward in words: 10 % off, ₹500.00 off."""
    if kind == RewardKind.PERCENT:
        return _("%(value)s %% off") % {"value": f"{value.normalize():f}"}
    return _("%(amount)s off") % {"amount": money(value, currency)}


def _reward_terms(*, kind: str, value, currency: str | None, expires_at: datetime.datetime, now) -> tuple:
    if kind not in RewardKind.values:
        raise ValidationError({"kind": _("Choose a percentage or an amount off.")})
    try:
        value = Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)
    except (InvalidOperation, TypeError, ValueError):
        raise ValidationError({"value": _("Enter a number, e.g. 10 or 500.00.")}) from None
    if not value.is_finite() or value <= 0:
        raise ValidationError({"value": _("The value must be more than 0.")})
    if kind == RewardKind.PERCENT and value > HUNDRED:
        raise ValidationError({"value": _("A percentage off is at most 100.")})
    currency = (currency or _default_currency()).strip().upper()
    if expires_at is None or expires_at <= now:
        raise ValidationError({"expires_at": _("A code must expire in the future.")})
    return value, currency


def _issued_texts(*, kind: str, value: Decimal, currency: str, expires_at, reason: str) -> tuple[str, str]:
    until = date_format(timezone.localtime(expires_at, business_zone()), "DATETIME_FORMAT")
    summary = _("Reward code issued: %(reward)s") % {"reward": reward_label(kind=kind, value=value, currency=currency)}
    body = _("Valid until %(until)s.") % {"until": until}
    return summary, f"{reason}\n{body}" if reason else body


@transaction.atomic
def code_issue(
    *,
    contact: Contact,
    by,
    kind: str,
    value,
    expires_at: datetime.datetime,
    currency: str | None = None,
    reason: str = "",
) -> RewardCode:
    """Issue a single-use code to one contact (an item on their timeline)."""
    now = timezone.now()
    value, currency = _reward_terms(kind=kind, value=value, currency=currency, expires_at=expires_at, now=now)
    reason = " ".join((reason or "").split())[:200]
    reward = RewardCode(
        contact=contact,
        kind=kind,
        value=value,
        currency=currency,
        expires_at=expires_at,
        reason=reason,
        issued_at=now,
        issued_by=by,
        code=code_generate(),
    )
    reward.full_clean(exclude=["code"])
    for _attempt in range(5):
        try:
            with transaction.atomic():
                reward.save()
            break
        except IntegrityError:
            # A clash with an existing code (one in 10^18): draw again.
            if RewardCode.objects.filter(code=reward.code).exists():
                reward.pk, reward.code = None, code_generate()
                continue
            raise
    summary, body = _issued_texts(kind=kind, value=value, currency=currency, expires_at=expires_at, reason=reason)
    activity_log(kind=ActivityKind.LOYALTY, by=by, contact=contact, summary=summary, body=body, at=now, ref=reward.ref)
    return reward


def _tier_holders(*, tier: LoyaltyTier, audience: QuerySet[Contact] | None) -> QuerySet[ContactTier]:
    holders = ContactTier.objects.filter(tier=tier)
    if audience is not None:
        holders = holders.filter(contact__in=audience.values("pk"))
    return holders


@transaction.atomic
def codes_issue_to_tier(
    *,
    tier: LoyaltyTier,
    by,
    kind: str,
    value,
    expires_at: datetime.datetime,
    currency: str | None = None,
    reason: str = "",
    audience: QuerySet[Contact] | None = None,
    batch: str = "",
) -> int:
    """Issue one code to every current holder of `tier` (of `audience`, when given: the contacts
    the issuing user may see), each with its timeline item; in sets, a statement per
    ISSUE_CHUNK contacts. With a `batch` key, holders who got a code of that batch already are
    skipped (the job delivered twice issues nothing twice). Returns the number of codes issued."""
    now = timezone.now()
    value, currency = _reward_terms(kind=kind, value=value, currency=currency, expires_at=expires_at, now=now)
    reason = " ".join((reason or "").split())[:200]
    holders = _tier_holders(tier=tier, audience=audience)
    if batch:
        sql_loyalty.batch_lock(batch)
        holders = holders.exclude(contact_id__in=RewardCode.objects.filter(batch=batch).values("contact_id"))
    contact_ids = list(holders.order_by("contact_id").values_list("contact_id", flat=True))
    summary, body = _issued_texts(kind=kind, value=value, currency=currency, expires_at=expires_at, reason=reason)
    issued = 0
    for start in range(0, len(contact_ids), ISSUE_CHUNK):
        waiting = contact_ids[start : start + ISSUE_CHUNK]
        for _attempt in range(5):
            done = sql_loyalty.codes_insert(
                pairs=[(contact_id, code_generate()) for contact_id in waiting],
                kind=kind,
                value=value,
                currency=currency,
                expires_at=expires_at,
                tier_id=tier.pk,
                reason=reason,
                batch=batch,
                now=now,
                by_id=getattr(by, "pk", None),
                summary=summary,
                body=body,
            )
            issued += len(done)
            # Those whose drawn code clashed with an existing one draw again.
            waiting = [contact_id for contact_id in waiting if contact_id not in done]
            if not waiting:
                break
        else:
            raise IntegrityError("could not draw unique reward codes")
    return issued


@dataclass(frozen=True)
class IssueRequest:
    holders: int
    queued: bool


def codes_issue_to_tier_request(*, tier: LoyaltyTier, by, audience: QuerySet[Contact], **terms) -> IssueRequest:
    """What the page does: a tier of up to INLINE_ISSUE_LIMIT holders gets its codes at once;
    a larger one in a background job (sales.tasks.codes_issue_to_tier_task, a batch key making
    it safe to deliver twice), so that the request does not wait for a hundred thousand codes.
    The terms are checked before anything is queued."""
    _reward_terms(
        kind=terms["kind"],
        value=terms["value"],
        currency=terms.get("currency"),
        expires_at=terms["expires_at"],
        now=timezone.now(),
    )
    holders = _tier_holders(tier=tier, audience=audience).count()
    if holders <= INLINE_ISSUE_LIMIT:
        return IssueRequest(holders=codes_issue_to_tier(tier=tier, by=by, audience=audience, **terms), queued=False)
    from sales.tasks import codes_issue_to_tier_task

    job = {
        "tier_id": tier.pk,
        "by_id": by.pk,
        "kind": terms["kind"],
        "value": str(terms["value"]),
        "currency": terms.get("currency") or "",
        "expires_at": terms["expires_at"].isoformat(),
        "reason": terms.get("reason", ""),
        "batch": str(uuid.uuid4()),
    }
    transaction.on_commit(lambda: codes_issue_to_tier_task.delay(**job))
    return IssueRequest(holders=holders, queued=True)


def codes_issue_to_tier_job(
    *, tier_id: int, by_id: int, kind: str, value: str, currency: str, expires_at: str, reason: str, batch: str
) -> int:
    """The background job of a large tier: the codes of the holders the user may see."""
    from crm.models import User

    by = User.objects.get(pk=by_id)
    return codes_issue_to_tier(
        tier=LoyaltyTier.objects.get(pk=tier_id),
        by=by,
        kind=kind,
        value=Decimal(value),
        currency=currency or None,
        expires_at=datetime.datetime.fromisoformat(expires_at),
        reason=reason,
        audience=Contact.objects.visible_to(by),
        batch=batch,
    )


def reward_discount(*, reward: RewardCode, total: Decimal) -> Decimal:
    """The amount a code takes off an order of `total`: never more than the total."""
    if reward.kind == RewardKind.PERCENT:
        amount = (total * reward.value / HUNDRED).quantize(CENT, rounding=ROUND_HALF_UP)
    else:
        amount = reward.value
    return min(amount, total)


def _refused(message: str, reason: str, /, **values) -> ValidationError:
    return ValidationError(message % values if values else message, code=reason)


@transaction.atomic
def code_redeem(*, code: str, order: Order, by) -> RewardCode:
    """Redeem a code on an order of its contact that is not paid yet: the code is claimed by a
    conditional UPDATE (not redeemed, not expired), so two requests at once cannot both use it,
    and the discount it gives is recorded on it. A ValidationError says why a code is refused
    (its `code`: unknown, wrong_contact, used, expired, order_not_placed, currency, order_has_code,
    nothing_off)."""
    # The order's row lock: a payment, or another code for the same order, waits for this one.
    order = Order.objects.select_for_update(of=("self",)).select_related("contact").get(pk=order.pk)
    text = code_normalise(code)
    reward = RewardCode.objects.filter(code=text).select_related("redeemed_order").first() if text else None
    if reward is None:
        raise _refused(_("There is no reward code “%(code)s”. Check it for typing mistakes."), "unknown", code=text)
    if reward.contact_id != order.contact_id:
        raise _refused(
            _("Code %(code)s was issued to another customer; it is for their orders only."),
            "wrong_contact",
            code=reward.code,
        )
    if reward.is_redeemed:
        raise _already_used(reward)
    now = timezone.now()
    if reward.is_expired(now):
        raise _expired(reward)
    if order.status != OrderStatus.PLACED:
        raise _refused(
            _("%(number)s is %(status)s: a code is redeemed on an order before it is paid."),
            "order_not_placed",
            number=order.number,
            status=order.get_status_display().lower(),
        )
    if reward.kind == RewardKind.AMOUNT and reward.currency != order.currency:
        raise _refused(
            _("Code %(code)s is an amount in %(code_currency)s; %(number)s is in %(currency)s."),
            "currency",
            code=reward.code,
            code_currency=reward.currency,
            number=order.number,
            currency=order.currency,
        )
    held = RewardCode.objects.filter(redeemed_order=order).values_list("code", flat=True).first()
    if held is not None:
        raise _refused(
            _("%(number)s already has reward code %(code)s; one code per order."),
            "order_has_code",
            number=order.number,
            code=held,
        )
    discount = reward_discount(reward=reward, total=order.total)
    if discount <= 0:
        raise _refused(_("%(number)s has nothing to take a discount off."), "nothing_off", number=order.number)
    claimed = RewardCode.objects.filter(pk=reward.pk, redeemed_at__isnull=True, expires_at__gt=now).update(
        redeemed_at=now, redeemed_order=order, redeemed_by=by, discount_amount=discount
    )
    if not claimed:
        # Another request got there first (or the code expired meanwhile): say which.
        reward.refresh_from_db()
        if reward.is_redeemed:
            raise _already_used(reward)
        raise _expired(reward)
    reward.redeemed_at, reward.redeemed_order, reward.redeemed_by, reward.discount_amount = now, order, by, discount
    order_discount_apply(order=order, amount=discount, by=by)
    activity_log(
        kind=ActivityKind.LOYALTY,
        by=by,
        contact=order.contact,
        company=order.company,
        summary=_("Reward code redeemed on %(number)s: %(discount)s off")
        % {"number": order.number, "discount": money(discount, order.currency)},
        body=_("Code %(code)s (%(reward)s).")
        % {"code": reward.code, "reward": reward_label(kind=reward.kind, value=reward.value, currency=reward.currency)},
        at=now,
        ref=order.ref,
    )
    return reward


def _already_used(reward: RewardCode) -> ValidationError:
    order = Order.objects.filter(pk=reward.redeemed_order_id).first()
    return _refused(
        _("Code %(code)s was already used on %(number)s on %(date)s."),
        "used",
        code=reward.code,
        number=order.number if order else "—",
        date=date_format(timezone.localtime(reward.redeemed_at), "SHORT_DATE_FORMAT"),
    )


def _expired(reward: RewardCode) -> ValidationError:
    return _refused(
        _("Code %(code)s expired on %(date)s."),
        "expired",
        code=reward.code,
        date=date_format(timezone.localtime(reward.expires_at), "SHORT_DATE_FORMAT"),
    )


# Selectors ------------------------------------------------------------------------------


@dataclass
class TierRow:
    tier: LoyaltyTier
    holders: int


def tier_overview(*, user) -> list[TierRow]:
    """The tiers page: every tier (best first) with how many of the contacts `user` may see hold it."""
    holders = ContactTier.objects.all()
    owner_ids = visible_owner_ids(user)
    if owner_ids is not None:
        holders = holders.filter(contact__owner__in=owner_ids)
    counts = dict(holders.values("tier").annotate(n=Count("contact")).values_list("tier", "n"))
    return [TierRow(tier=tier, holders=counts.get(tier.pk, 0)) for tier in LoyaltyTier.objects.order_by("-rank")]


def contact_loyalty(*, contact: Contact, limit: int = PANEL_ROWS) -> dict:
    """The loyalty panel of a contact (whom the user may see): their tier and since when, what
    they bought in the last 12 months, their tier history and their codes. Four queries."""
    current = ContactTier.objects.filter(contact=contact).select_related("tier").first()
    history = list(
        TierChange.objects.filter(contact=contact).select_related("from_tier", "to_tier").order_by("-at", "-id")[:limit]
    )
    codes = list(
        RewardCode.objects.filter(contact=contact)
        .select_related("redeemed_order")
        .order_by("-issued_at", "-id")[:limit]
    )
    return {
        "current": current,
        "standing": contact_standing(contact=contact),
        "currency": _default_currency(),
        "history": history,
        "codes": codes,
        "now": timezone.now(),
    }


def order_reward(*, order: Order) -> RewardCode | None:
    """The code redeemed on an order, if any."""
    return RewardCode.objects.filter(redeemed_order=order).first()
