"""Who buys when: each contact's purchase plan, its orders' times and statuses, and the lifecycle moves
the CRM's rules (sales.lifecycle) make of them, so that phases follow orders by construction.

How many orders, deals and tickets each contact has is decided up front, for every contact at once,
by `profiles` (a reference step: one pass over the ids, a few seconds at a million contacts); their
running sums give each contact's first order, deal and ticket id, so a chunk writes dense,
deterministic ids without knowing the other chunks. The times are decided per chunk (`order_plan`),
and `lifecycle_moves` replays the rules over the paid orders in time order:

- the first paid order moves a prospect to retention ("first-purchase");
- a paid order in another business-calendar month than an earlier one moves retention to extension
  ("repeat-purchase"; no cross-sell relation is accepted in the data set, so that rule never fires);
- no paid order for CHURN_WINDOW_DAYS: churned at the start of the day after the window (the nightly
  job's "churn", dated when the window ran out);
- a paid order while churned: back to retention ("win-back").
Refunded orders are placed only while the contact is in extension (they move nothing and stop
counting), cancelled ones anywhere, and a few of the last days' orders are still waiting for payment.

Shapes of purchase history (the phase a contact is meant to end in; the replay has the last word):
most customers buy once (or two or three times in one month), a few buy very often (log-normal
frequency times the length of the relationship, scaled so that all orders average `orders` per
contact), with a Diwali peak in October/November.
"""

import bisect
import datetime
import math
from array import array

from django.conf import settings

DAY = 86400
YEAR = 365 * DAY
HOUR = 3600
CHURN_DAYS = getattr(settings, "CHURN_WINDOW_DAYS", 365)
# Paid five minutes after being placed (shop and online payments alike): moves stay in time order.
PAY_DELAY = 300
MAX_ORDERS = 3000
# The contact-page scenario's customer: exactly this many orders.
ORDERS_CONTACT_ORDERS = 1000

# Lakshmi Puja; a year missing here peaks on 1 November.
DIWALI = {
    2014: (10, 23),
    2015: (11, 11),
    2016: (10, 30),
    2017: (10, 19),
    2018: (11, 7),
    2019: (10, 27),
    2020: (11, 14),
    2021: (11, 4),
    2022: (10, 24),
    2023: (11, 12),
    2024: (11, 1),
    2025: (10, 21),
    2026: (11, 8),
    2027: (10, 29),
    2028: (10, 17),
    2029: (11, 5),
    2030: (10, 26),
}

SEL, ACQ, RET, EXT, CH_LIGHT, CH_HEAVY, WB_RET, WB_EXT = range(8)
PROSPECTS = (SEL, ACQ)
HEAVY = (EXT, CH_HEAVY, WB_EXT)
WINBACKS = (WB_RET, WB_EXT)

# Order statuses as written.
PAID, REFUNDED, CANCELLED, PLACED = "paid", "refunded", "cancelled", "placed"

# Deal flags of a contact (one bit each): a won deal (their first purchase), a lost one, an open one.
DEAL_WON, DEAL_LOST, DEAL_OPEN = 1, 2, 4


def business_offset(as_of: datetime.date) -> int:
    """The business time zone's offset from UTC in seconds (taken once: Asia/Kolkata has no DST)."""
    import zoneinfo

    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    noon = datetime.datetime.combine(as_of, datetime.time(12), zone)
    return int(noon.utcoffset().total_seconds())


class Calendar:
    """Business days and months of the data's time range, and a seasonal weight per day (Diwali peak)."""

    def __init__(self, first: datetime.date, last: datetime.date, offset: int):
        epoch = datetime.date(1970, 1, 1)
        self.offset = offset
        self.first_day = (first - epoch).days
        days = (last - first).days + 1
        self.month = []  # year * 12 + month - 1 of each business day
        self.label = {}
        cum = [0.0]
        for n in range(days):
            day = first + datetime.timedelta(days=n)
            self.month.append(day.year * 12 + day.month - 1)
            self.label.setdefault(self.month[-1], f"{day.year:04d}-{day.month:02d}")
            month, date = DIWALI.get(day.year, (11, 1))
            before = (datetime.date(day.year, month, date) - day).days
            # up to seven times an ordinary day in the fortnight before Diwali; weekends a little busier
            weight = 1 + 6 * math.exp(-(((before - 5) / 9) ** 2)) + (0.25 if day.weekday() >= 5 else 0)
            cum.append(cum[-1] + weight)
        self.cum = cum
        # the Diwali fortnight: days at least three times as busy as an ordinary one
        self.festive = [cum[n + 1] - cum[n] > 3 for n in range(days)]

    def day(self, ts: int) -> int:
        """Index of the business day of `ts`."""
        return (ts + self.offset) // DAY - self.first_day

    def month_of(self, ts: int) -> int:
        return self.month[self.day(ts)]

    def day_start(self, index: int) -> int:
        """The UTC instant at which business day `index` starts."""
        return (index + self.first_day) * DAY - self.offset

    def date_text(self, ts: int) -> str:
        return (datetime.date(1970, 1, 1) + datetime.timedelta(days=self.day(ts) + self.first_day)).isoformat()

    def lapse(self, last_purchase: int) -> int:
        """When a customer whose last purchase was at `last_purchase` churns (sales.lifecycle.churn_lapse_at)."""
        return self.day_start(self.day(last_purchase) + CHURN_DAYS + 1)

    def seasonal(self, rng, start: int, end: int) -> int:
        """A shopping time in [start, end], days weighted by the season, hours 09:00-21:00 business time."""
        if end <= start:
            return start
        offset, first_day, cum = self.offset, self.first_day, self.cum
        low, high = cum[(start + offset) // DAY - first_day], cum[(end + offset) // DAY - first_day + 1]
        index = bisect.bisect_right(cum, low + rng.random() * (high - low)) - 1
        at = (index + first_day) * DAY - offset + 9 * HOUR + int(rng.random() * 12 * HOUR)
        return start if at < start else (end if at > end else at)


def calendar(ctx) -> Calendar:
    found = ctx.ref.get("calendar")
    if found is None:
        plan = ctx.plan
        found = Calendar(
            plan.as_of - datetime.timedelta(days=3700),
            plan.as_of + datetime.timedelta(days=400),
            business_offset(plan.as_of),
        )
        ctx.ref["calendar"] = found
    return found


# Profiles: counts decided up front --------------------------------------------------------------


class Profiles:
    """Per contact id: created, shape, paid/refunded/cancelled/placed order counts, deal flags, tickets,
    and the first order, deal and ticket id of each contact (running sums)."""

    def __init__(self, contacts: int):
        size = contacts + 1
        self.created = array("q", bytes(8 * size))
        self.shape = bytearray(size)
        self.paid = array("l", bytes(array("l").itemsize * size))
        self.refunded = array("l", bytes(array("l").itemsize * size))
        self.cancelled = bytearray(size)
        self.placed = bytearray(size)
        self.deals = bytearray(size)
        self.tickets = bytearray(size)
        self.order_base = array("q", bytes(8 * (size + 1)))
        self.deal_base = array("q", bytes(8 * (size + 1)))
        self.ticket_base = array("q", bytes(8 * (size + 1)))

    def orders(self, pk: int) -> int:
        return self.paid[pk] + self.refunded[pk] + self.cancelled[pk] + self.placed[pk]


def _shape(final: str, age: int, rng) -> int:
    if final == "selection":
        return SEL
    if final == "acquisition":
        return ACQ
    old_enough = age > 2 * CHURN_DAYS * DAY + 120 * DAY
    if final == "churned":
        if age < CHURN_DAYS * DAY + 60 * DAY:
            return RET
        return CH_HEAVY if rng.random() < 0.3 else CH_LIGHT
    winback = old_enough and rng.random() < 0.1
    if final == "retention":
        return WB_RET if winback else RET
    return WB_EXT if winback else EXT


def _light_count(rng) -> int:
    """Purchases of a one-month customer: mostly one."""
    return 1 + (rng.random() < 0.12) + (rng.random() < 0.03)


def build_profiles(ctx, *, final_phases: list, timeline_contact: int, orders_contact: int) -> Profiles:
    plan, now = ctx.plan, ctx.now
    n = plan.contacts
    rng = ctx.rng("purchase profiles")
    profiles = Profiles(n)
    weights = {}  # heavy buyers: pk -> relative number of purchases
    light_orders = 0
    for pk in range(1, n + 1):
        created = now - int(6 * YEAR * rng.random() ** 1.6) - HOUR - int(rng.random() * DAY)
        if pk == orders_contact:
            created = now - 4 * YEAR - int(rng.random() * 30 * DAY)
        age = now - created
        if pk in (timeline_contact, orders_contact):
            final = "extension"
        elif created > now - 40 * DAY and rng.random() < 0.6:
            final = "selection" if rng.random() < 0.4 else "acquisition"
        else:
            final = final_phases[int(rng.random() * len(final_phases))]
        if final == "retention" and age > (CHURN_DAYS + 60) * DAY and rng.random() < 0.3:
            # contacts too young to have churned are retained instead: the old make up for them
            final = "churned"
        shape = _shape(final, age, rng)
        if pk in (timeline_contact, orders_contact):
            shape = EXT
        profiles.created[pk], profiles.shape[pk] = created, shape
        if shape in PROSPECTS:
            paid = 0
        elif shape in (RET, CH_LIGHT):
            paid = _light_count(rng)
        elif shape == WB_RET:
            paid = 1 + _winback_before(pk)
        else:
            years = max(0.15, (age - (CHURN_DAYS * DAY if shape == CH_HEAVY else 0)) / YEAR)
            if shape == WB_EXT:
                years = 0.6
            weights[pk] = rng.lognormvariate(0.0, 1.1) * years
            paid = 0
        profiles.paid[pk] = paid
        profiles.cancelled[pk] = 1 if rng.random() < 0.03 else 0
        profiles.placed[pk] = 1 if shape not in (CH_LIGHT, CH_HEAVY) and rng.random() < 0.01 else 0
        light_orders += paid + profiles.cancelled[pk] + profiles.placed[pk]
    # Heavy buyers share what the ratio leaves; about 3 % of their orders are refunded.
    fixed = {orders_contact: ORDERS_CONTACT_ORDERS} if orders_contact in weights else {}
    wanted = max(0, plan.count("orders") - light_orders - sum(fixed.values()))
    total_weight = sum(w for pk, w in weights.items() if pk not in fixed) or 1.0
    scale = wanted / 1.03 / total_weight
    for _attempt in range(4):
        got = sum(min(MAX_ORDERS, max(2, round(w * scale))) for pk, w in weights.items() if pk not in fixed)
        if not got:
            break
        scale *= wanted / 1.03 / got
    for pk, weight in weights.items():
        paid = fixed.get(pk) or min(MAX_ORDERS, max(2, round(weight * scale)))
        refunded = int(paid * 0.03 + rng.random())
        if pk in fixed:
            paid, refunded = paid - refunded - profiles.cancelled[pk] - profiles.placed[pk], refunded
        if profiles.shape[pk] == WB_EXT:
            paid += _winback_before(pk)
        profiles.paid[pk], profiles.refunded[pk] = paid, refunded
    _deals_and_tickets(ctx, profiles, rng)
    order_base, deal_base, ticket_base = profiles.order_base, profiles.deal_base, profiles.ticket_base
    order_base[1] = deal_base[1] = ticket_base[1] = 1
    for pk in range(1, n + 1):
        order_base[pk + 1] = order_base[pk] + profiles.orders(pk)
        flags = profiles.deals[pk]
        deal_base[pk + 1] = deal_base[pk] + (flags & 1) + (flags >> 1 & 1) + (flags >> 2 & 1)
        ticket_base[pk + 1] = ticket_base[pk] + profiles.tickets[pk]
    return profiles


def _winback_before(pk: int) -> int:
    """Purchases of a won-back customer before they churned (one, or two in one month)."""
    return 1 + (pk % 4 == 0)


def _deals_and_tickets(ctx, profiles: Profiles, rng) -> None:
    """Deal flags and ticket counts, scaled to the `deals`, `open_deals` and `tickets` ratios."""
    plan = ctx.plan
    n = plan.contacts
    counts = [0] * 8
    for pk in range(1, n + 1):
        counts[profiles.shape[pk]] += 1
    customers = n - counts[SEL] - counts[ACQ]
    active = counts[RET] + counts[EXT] + counts[WB_RET] + counts[WB_EXT]
    # Open deals: leads mostly, some customers with an upsell; won: a share of the first purchases;
    # lost: leads and, before they bought, some customers.
    open_wanted = plan.ratio("open_deals") * n
    closed_wanted = max(0.0, (plan.ratio("deals") - plan.ratio("open_deals")) * n)
    lead_share = 0.7 if counts[ACQ] else 0.0
    open_lead = min(1.0, lead_share * open_wanted / max(1, counts[ACQ]))
    open_customer = min(1.0, (1 - lead_share) * open_wanted / max(1, active))
    won_share = min(1.0, 0.6 * closed_wanted / max(1, customers))
    lost_lead = min(1.0, 0.25 * closed_wanted / max(1, counts[ACQ]))
    lost_customer = min(1.0, 0.15 * closed_wanted / max(1, customers))
    # Tickets: customers, the frequent buyers more often; a few prospects ask before buying.
    heavy = counts[EXT] + counts[CH_HEAVY] + counts[WB_EXT]
    tickets_wanted = plan.ratio("tickets") * n
    unit = tickets_wanted / max(1.0, 0.02 * (counts[SEL] + counts[ACQ]) + (customers - heavy) + 3 * heavy)
    for pk in range(1, n + 1):
        shape = profiles.shape[pk]
        flags = 0
        if shape == ACQ:
            flags |= DEAL_OPEN if rng.random() < open_lead else 0
            flags |= DEAL_LOST if rng.random() < lost_lead else 0
        elif shape != SEL:
            flags |= DEAL_WON if rng.random() < won_share else 0
            flags |= DEAL_LOST if rng.random() < lost_customer else 0
            if shape in (RET, EXT, WB_RET, WB_EXT):
                flags |= DEAL_OPEN if rng.random() < open_customer else 0
        profiles.deals[pk] = flags
        mean = unit * (0.02 if shape in PROSPECTS else (3 if shape in HEAVY else 1))
        tickets = int(mean) + (rng.random() < mean - int(mean))
        profiles.tickets[pk] = min(20, tickets)


# A contact's orders and moves --------------------------------------------------------------------


def _same_month_after(cal: Calendar, rng, first: int, count: int, end: int) -> list[int]:
    """`count` purchases after `first` in its business month (and before `end`)."""
    day = cal.day(first)
    month = cal.month[day]
    while day + 1 < len(cal.month) and cal.month[day + 1] == month:
        day += 1
    last = min(cal.day_start(day + 1) - 1, end)
    times, previous = [], first
    for _ in range(count):
        previous = previous + 60 + int(rng.random() * max(0, last - previous - 60))
        times.append(min(previous, max(first + 60, last)))
    return times


def _spread(cal: Calendar, rng, count: int, start: int, last: int, gap_days: float) -> list[int]:
    """`count` purchases ending at `last`, over a relationship of about `count` typical gaps."""
    if count <= 0:
        return []
    begin = max(start, last - int(count * gap_days * DAY))
    times = [cal.seasonal(rng, begin, last) for _ in range(count - 1)]
    times.append(last)
    return times


def order_plan(ctx, rng, pk: int, profiles: Profiles, *, gap_days: float | None = None) -> list[list]:
    """The orders of contact `pk`: [placed_at, status, paid_at, closed_at] (closed_at: when it was
    refunded or cancelled), the paid ones first in time order, then the cancelled and waiting ones;
    the refunded ones are added after the moves are known (`place_refunds`). The n-th is order
    first_id + n."""
    cal, now = calendar(ctx), ctx.now
    shape, created = profiles.shape[pk], profiles.created[pk]
    paid_count = profiles.paid[pk]
    start = created + 600
    recent = now - (CHURN_DAYS - 1) * DAY  # a purchase after this keeps a customer
    stale = now - (CHURN_DAYS + 2) * DAY  # one before this has run out
    gap = gap_days or min(80.0, rng.lognormvariate(math.log(25), 0.7))
    times: list[int] = []
    if shape in (RET, CH_LIGHT):
        end = now - HOUR if shape == RET else stale
        first = cal.seasonal(rng, max(start, recent) if shape == RET else start, end)
        times = [first, *_same_month_after(cal, rng, first, paid_count - 1, now - HOUR)]
    elif shape in (EXT, CH_HEAVY):
        if shape == EXT:
            last = cal.seasonal(rng, max(start, recent), now - HOUR)
        else:
            last = cal.seasonal(rng, min(start + 40 * DAY, stale), stale)
        times = _spread(cal, rng, paid_count, start, last, gap)
    elif shape in WINBACKS:
        before = _winback_before(pk)
        first = cal.seasonal(rng, start, max(start, now - 2 * CHURN_DAYS * DAY - 60 * DAY))
        times = [first, *_same_month_after(cal, rng, first, before - 1, now - HOUR)]
        back = cal.seasonal(rng, max(cal.lapse(max(times)) + DAY, recent), now - HOUR)
        times.append(back)
        after = paid_count - before - 1
        if after > 0:
            times += [cal.seasonal(rng, back + 60, now - HOUR) for _ in range(after)]
    orders: list[list] = [[t, PAID, t + PAY_DELAY, None] for t in sorted(times)]
    for _ in range(profiles.cancelled[pk]):
        at = cal.seasonal(rng, start, now - HOUR)
        orders.append([at, CANCELLED, None, min(now - 60, at + HOUR + int(rng.random() * 5 * HOUR))])
    for _ in range(profiles.placed[pk]):
        orders.append([max(start, now - 3 * DAY + int(rng.random() * (3 * DAY - HOUR))), PLACED, None, None])
    return orders


def lifecycle_moves(ctx, rng, orders: list[list], first_id: int, created: int, start: str, shape: int):
    """The PhaseChange rows the rules make of these orders (the paid ones first, in time order, with
    ids from `first_id`): [(from, to, at, by_owner, rule, reason)], the first one the contact's
    creation; and the phase the contact was in after each paid order."""
    cal, now = calendar(ctx), ctx.now
    moves = [("", start, created, True, "", "Created")]
    state = start
    paid = [order for order in orders if order[1] == PAID]
    first_paid = paid[0][0] if paid else now
    if start == "selection" and shape != SEL:
        qualified = created + 60 + int(rng.random() * max(1, min(first_paid, now) - created - 120))
        moves.append(("selection", "acquisition", qualified, True, "", "Qualified after the first conversation"))
        state = "acquisition"
    months: list[int] = []  # the business months bought in, in order
    seen: set[int] = set()
    month_of, lapse = cal.month, cal.lapse
    offset, first_day = cal.offset, cal.first_day
    last = lapse_at = None
    phases = []
    for number, (placed, _status, paid_at, _closed) in enumerate(paid, start=first_id):
        if lapse_at is not None and lapse_at <= placed and state in ("retention", "extension"):
            moves.append((state, "churned", lapse_at, False, "churn", _churn_reason(cal, last)))
            state = "churned"
        month = month_of[(placed + offset) // DAY - first_day]
        if state == "extension":
            pass
        elif state in ("selection", "acquisition"):
            moves.append((state, "retention", paid_at, False, "first-purchase", f"SO-{number:06d}: first purchase"))
            state = "retention"
        elif state == "churned":
            reason = f"win-back: SO-{number:06d} paid after the customer had churned"
            moves.append((state, "retention", paid_at, False, "win-back", reason))
            state = "retention"
        elif state == "retention" and (len(seen) > 1 or (seen and month not in seen)):
            other = next(m for m in months if m != month)
            reason = f"SO-{number:06d}: a repeat purchase (bought before in {cal.label[other]})"
            moves.append((state, "extension", paid_at, False, "repeat-purchase", reason))
            state = "extension"
        if month not in seen:
            seen.add(month)
            months.append(month)
        last = placed
        lapse_at = lapse(placed)
        phases.append(state)
    if lapse_at is not None and state in ("retention", "extension") and lapse_at <= now:
        moves.append((state, "churned", lapse_at, False, "churn", _churn_reason(cal, last)))
    return moves, phases


def _churn_reason(cal: Calendar, last: int) -> str:
    return f"No purchase within the {CHURN_DAYS}-day churn window; last purchase on {cal.date_text(last)}"


def place_refunds(ctx, rng, orders: list[list], phases: list[str], count: int) -> None:
    """`count` refunded orders, each placed a little after a purchase made in extension (so it moved
    nothing when paid); without such a purchase they are cancelled instead."""
    now = ctx.now
    paid = [order for order in orders if order[1] == PAID]
    bases = [order for order, phase in zip(paid, phases, strict=True) if phase == "extension"]
    for _ in range(count):
        if bases:
            base = bases[int(rng.random() * len(bases))]
            at = min(now - 2 * HOUR, base[0] + HOUR + int(rng.random() * 2 * DAY))
            refunded = min(now - 60, at + PAY_DELAY + DAY + int(rng.random() * 9 * DAY))
            orders.append([at, REFUNDED, at + PAY_DELAY, max(at + PAY_DELAY + 1, refunded)])
        else:
            at = paid[-1][0] + HOUR if paid else now - DAY
            orders.append([min(at, now - 2 * HOUR), CANCELLED, None, min(now - 60, at + 2 * HOUR)])
