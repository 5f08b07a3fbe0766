"""Demo data of the loyalty programme: three tiers, a year of nightly recomputes (so that each
contact's tier history is what the job would have written), codes issued to the best tier and
to a few contacts, and one of them redeemed on an order waiting for payment. All through the
loyalty services, after the orders exist."""

import datetime
import random
from decimal import Decimal

from django.utils import timezone

from sales import loyalty
from sales.lifecycle import business_zone
from sales.models import ContactTier, LoyaltyTier, Order, OrderStatus, RewardKind

# name, rank, minimum spend (INR) and purchases over the last 12 months
TIERS = [
    ("Bronze", 1, "0.00", 1),
    ("Silver", 2, "15000.00", 2),
    ("Gold", 3, "40000.00", 3),
]


def loyalty_demo(*, rng: random.Random, by) -> dict[str, int]:
    now = timezone.now()
    tiers = {
        name: LoyaltyTier.objects.create(name=name, rank=rank, min_spend=Decimal(spend), min_purchase_count=count)
        for name, rank, spend, count in TIERS
    }
    # The job as it ran at 01:30 on the first of each of the last 12 months, then today.
    today = timezone.localdate(now, business_zone())
    changes = 0
    for months_ago in range(12, 0, -1):
        year, month = divmod(today.year * 12 + today.month - 1 - months_ago, 12)
        run = datetime.datetime.combine(datetime.date(year, month + 1, 1), datetime.time(1, 30), business_zone())
        changes += loyalty.tiers_recompute(now=run)
    changes += loyalty.tiers_recompute(now=now)

    in_two_months = now + datetime.timedelta(days=60)
    codes = loyalty.codes_issue_to_tier(
        tier=tiers["Gold"],
        by=by,
        kind=RewardKind.PERCENT,
        value=Decimal("10"),
        expires_at=in_two_months,
        reason="Thank you for a golden year",
    )
    silver = list(ContactTier.objects.filter(tier=tiers["Silver"]).select_related("contact")[:3])
    for holder in silver:
        loyalty.code_issue(
            contact=holder.contact,
            by=by,
            kind=RewardKind.AMOUNT,
            value=Decimal("500"),
            expires_at=in_two_months,
            reason="Festive offer",
        )
        codes += 1
    # Orders waiting for payment: the first gets a code redeemed on it, the next one a code to try.
    waiting = list(Order.objects.filter(status=OrderStatus.PLACED).select_related("contact").order_by("placed_at"))
    redeemed = 0
    for n, order in enumerate(waiting[:2]):
        reward = loyalty.code_issue(
            contact=order.contact,
            by=by,
            kind=RewardKind.PERCENT,
            value=Decimal(rng.choice(["5", "10", "15"])),
            expires_at=in_two_months,
            reason="Welcome back",
        )
        codes += 1
        if n == 0:
            loyalty.code_redeem(code=reward.code, order=order, by=by)
            redeemed += 1
    return {"tier_changes": changes, "reward_codes": codes, "codes_redeemed": redeemed}
