"""Generators of the sales app: the catalogue, the pipelines, the loyalty tiers, every contact's orders
with their lines (as bench.purchases planned them, so phases follow orders), deals with their stage
history, and the loyalty tiers the nightly job would give (set-based, after the load).

- about 250 products: the demo catalogue and its variants, popularity skewed (a few sell most);
- orders of 1-4 lines (mostly one), B2C one or two of a thing, B2B by the dozen; festive baskets and
  10 % off in the Diwali fortnight; totals the sum of their lines, in INR;
- deals: a won deal just before a share of the first purchases (linked to that order), lost deals of
  leads and of customers before they bought, open deals of leads and some upsells and renewals of
  customers, in every open stage (the kanban board's), each with its stage history;
- no accepted cross-sell relation (the lifecycle's extension then comes from repeat purchases alone,
  as bench.purchases replays it); the nightly suggestion job finds the pairs bought together.
Orders, deals, tickets and tier changes put no items on the timeline, unlike the services (the
timeline generator's `activities` ratio is the timeline's whole budget: ten million more rows at a
million contacts would double it).
"""

from bench import purchases
from bench.client_db import pick, table
from bench.copyload import NULL, escape
from bench.generator import after_load, generator, reference
from sales.demo import CATALOGUE
from sales.demo_deals import LOST_REASONS, RENEWAL_STAGES, SALES_STAGES
from sales.demo_loyalty import TIERS

DAY = purchases.DAY
HOUR = purchases.HOUR
CURRENCY = "INR"
# (suffix, price factor) of the variants of a catalogue item
VARIANTS = {
    "Phones": [("64 GB", 0.9), ("128 GB", 1.0), ("256 GB", 1.25), ("Blue", 1.0), ("Black", 1.0), ("Green", 1.02)],
    "Accessories": [("Black", 1.0), ("White", 1.0), ("Clear", 0.9), ("Pack of 2", 1.8)],
    "Home appliances": [("Standard", 1.0), ("Deluxe", 1.3), ("Compact", 0.85), ("Steel", 1.1)],
    "Textiles": [("Red", 1.0), ("Green", 1.0), ("Maroon", 1.05), ("Cream", 0.95), ("Royal blue", 1.1)],
    "Festive": [("Small", 0.6), ("Medium", 1.0), ("Large", 1.6)],
    "IT for business": [("i5, 16 GB", 1.0), ("i7, 32 GB", 1.35), ("Ryzen 7", 1.2)],
    "Services": [("1 year", 1.0), ("2 years", 1.8)],
}
EXTRA_ITEMS = [
    ("GRO-RICE", "Basmati rice 5 kg", "Grocery", "899.00"),
    ("GRO-OIL", "Cold-pressed groundnut oil 1 l", "Grocery", "349.00"),
    ("GRO-TEA", "Assam tea 500 g", "Grocery", "299.00"),
    ("GRO-DRY", "Dry fruit box 1 kg", "Festive", "1299.00"),
    ("HOM-KET", "Electric kettle 1.5 l", "Home appliances", "1199.00"),
    ("HOM-IRN", "Steam iron", "Home appliances", "1799.00"),
    ("HOM-AC", "Split air conditioner 1.5 t", "Home appliances", "38999.00"),
    ("TEX-DHT", "Cotton dhoti", "Textiles", "699.00"),
    ("TEX-DUP", "Phulkari dupatta", "Textiles", "1499.00"),
    ("B2B-PRN", "Laser printer", "IT for business", "14999.00"),
    ("B2B-MON", '24" monitor', "IT for business", "9999.00"),
    ("B2B-PAP", "A4 paper, box of 5 reams", "Office supplies", "1599.00"),
    ("B2B-TON", "Printer toner", "Office supplies", "3499.00"),
    ("ACC-PWR", "Power bank 20000 mAh", "Accessories", "1899.00"),
]
CHANNELS = (("online", 40), ("store", 35), ("phone", 15), ("partner", 10))
LINE_COUNTS = ((1, 70), (2, 20), (3, 7), (4, 3))
B2B_CATEGORIES = {"IT for business", "Office supplies", "Festive", "Services", "Home appliances"}
OPEN_STAGE_WEIGHTS = ((0, 40), (1, 27), (2, 20), (3, 13))
SALES_PIPELINE, RENEWALS_PIPELINE = 1, 2


def money(paise: int) -> str:
    return f"{paise // 100}.{paise % 100:02d}"


# Reference: catalogue, pipelines ---------------------------------------------------------------


@reference
def _catalogue(ctx) -> None:
    """Products (id, sku, name, category, price in paise), weighted pick tables for consumers, businesses
    and the festive season, and the stages of the two pipelines."""
    rng = ctx.rng("catalogue")
    products = []
    for sku, name, category, price in [*CATALOGUE, *EXTRA_ITEMS]:
        paise = int(price.replace(".", ""))
        products.append((sku, name, category, paise))
        for suffix, factor in VARIANTS.get(category, [("Standard", 1.0), ("Value pack", 2.7)]):
            for edition in ("", " (2025)", " Pro"):
                if edition and rng.random() < 0.6:
                    continue
                variant_price = int(paise * factor * (1.2 if edition == " Pro" else 1.0)) // 100 * 100 - 1
                sku_suffix = "".join(ch for ch in (suffix + edition).upper() if ch.isalnum())[:12]
                products.append((f"{sku}-{sku_suffix}", f"{name}, {suffix}{edition}", category, max(99, variant_price)))
    # popularity: Zipf-like over a shuffled order (the base items are not always the favourites)
    order = list(range(len(products)))
    rng.shuffle(order)
    popularity = {index: (rank + 1) ** -0.9 for rank, index in enumerate(order)}
    rows = [(n + 1, *product) for n, product in enumerate(products)]
    consumer = [
        (row, popularity[n]) for n, row in enumerate(rows) if row[3] not in ("IT for business", "Office supplies")
    ]
    business = [(row, popularity[n] * (3 if row[3] in B2B_CATEGORIES else 0.3)) for n, row in enumerate(rows)]
    festive = [(row, popularity[n] + 0.02) for n, row in enumerate(rows) if row[3] in ("Festive", "Textiles")]
    ctx.ref["products"] = rows
    ctx.ref["price_text"] = ["", *(money(row[4]) for row in rows)]
    ctx.ref["pick_consumer"] = table(consumer)
    ctx.ref["pick_business"] = table(business)
    ctx.ref["pick_festive"] = table(festive)
    ctx.ref["order_channels"] = table(CHANNELS)
    ctx.ref["line_counts"] = table(LINE_COUNTS)
    ctx.ref["open_stages"] = table(OPEN_STAGE_WEIGHTS)
    stages, position = [], 0
    for pipeline, definition in ((SALES_PIPELINE, SALES_STAGES), (RENEWALS_PIPELINE, RENEWAL_STAGES)):
        for n, (name, kind, probability) in enumerate(definition, start=1):
            position += 1
            stages.append((position, pipeline, name, n, str(kind), probability))
    ctx.ref["stages"] = stages
    ctx.ref["stage_ids"] = {
        pipeline: {
            "open": [s[0] for s in stages if s[1] == pipeline and s[4] == "open"],
            "won": next(s[0] for s in stages if s[1] == pipeline and s[4] == "won"),
            "lost": next(s[0] for s in stages if s[1] == pipeline and s[4] == "lost"),
        }
        for pipeline in (SALES_PIPELINE, RENEWALS_PIPELINE)
    }


@generator(
    "catalogue",
    stage="setup",
    tables={
        "sales_product": (
            "id",
            "sku",
            "name",
            "category",
            "description",
            "unit_price",
            "currency",
            "active",
            "created_at",
            "updated_at",
        ),
        "sales_pipeline": ("id", "name", "active", "position"),
        "sales_stage": ("id", "pipeline_id", "name", "position", "kind", "probability"),
        "sales_loyaltytier": (
            "id",
            "name",
            "rank",
            "min_spend",
            "min_purchase_count",
            "active",
            "created_at",
            "updated_at",
        ),
        # filled by the after-load step below (listed so that the load empties it and builds its indexes;
        # sales_contacttier, keyed by contact, is emptied with the tiers)
        "sales_tierchange": ("contact_id", "from_tier_id", "to_tier_id", "at", "spend", "purchase_count", "reason"),
    },
)
def catalogue(ctx, chunk) -> None:
    clock = ctx.clock.text
    launched = clock(ctx.now - 7 * purchases.YEAR)
    out = chunk.out("sales_product")
    for pk, sku, name, category, paise in ctx.ref["products"]:
        out.append(
            f"{pk}\t{sku}\t{escape(name)}\t{category}\t\t{money(paise)}\t{CURRENCY}\tt\t{launched}\t{launched}\n"
        )
    chunk.out("sales_pipeline").extend([f"{SALES_PIPELINE}\tSales\tt\t0\n", f"{RENEWALS_PIPELINE}\tRenewals\tt\t1\n"])
    chunk.out("sales_stage").extend(
        f"{pk}\t{pipeline}\t{name}\t{position}\t{kind}\t{probability}\n"
        for pk, pipeline, name, position, kind, probability in ctx.ref["stages"]
    )
    chunk.out("sales_loyaltytier").extend(
        f"{rank}\t{name}\t{rank}\t{spend}\t{count}\tt\t{launched}\t{launched}\n" for name, rank, spend, count in TIERS
    )


# Orders ------------------------------------------------------------------------------------------


@generator(
    "orders",
    stage="contacts",
    tables={
        "sales_order": (
            "id",
            "contact_id",
            "company_id",
            "reference",
            "placed_at",
            "channel",
            "status",
            "currency",
            "discount",
            "total",
            "note",
            "paid_at",
            "refunded_at",
            "cancelled_at",
            "created_by_id",
            "created_at",
            "updated_at",
        ),
        "sales_orderline": ("order_id", "product_id", "quantity", "unit_price", "discount", "position"),
    },
)
def orders(ctx, chunk) -> None:
    """Each contact's planned orders with their lines; remembers each first purchase for its deal."""
    rng = chunk.rng("orders")
    clock = ctx.clock.text
    cal = purchases.calendar(ctx)
    festive_days, offset, first_day = cal.festive, cal.offset, cal.first_day
    ref = ctx.ref
    consumer, business, festive = ref["pick_consumer"], ref["pick_business"], ref["pick_festive"]
    channels, line_counts, price_text = ref["order_channels"], ref["line_counts"], ref["price_text"]
    orders_out, lines_out = chunk.out("sales_order"), chunk.out("sales_orderline")
    first_purchases = chunk.data["first_purchases"] = {}
    for p in chunk.data["people"]:
        if not p.orders:
            continue
        b2b = p.customer_type == "b2b"
        company = p.company_id if b2b else NULL
        pool = business if b2b else consumer
        owner = p.owner
        for number, (placed, status, paid_at, closed_at) in enumerate(p.orders, start=p.first_order_id):
            season = festive_days[(placed + offset) // DAY - first_day]
            basket = festive if season and rng.random() < 0.5 else pool
            offer = season and rng.random() < 0.35
            lines = line_counts[int(rng.random() * len(line_counts))]
            total = 0
            products = []
            for position in range(lines):
                pk, _sku, _name, _category, price = (
                    basket[int(rng.random() * len(basket))] if position == 0 else (pool[int(rng.random() * len(pool))])
                )
                roll = rng.random()
                quantity = (1 + int(roll * roll * 20)) if b2b else (1 if roll < 0.85 else 2 if roll < 0.97 else 3)
                amount = price * quantity
                discount = amount // 10 if offer else 0
                total += amount - discount
                products.append(pk)
                discount_text = money(discount) if discount else "0.00"
                lines_out.append(f"{number}\t{pk}\t{quantity}\t{price_text[pk]}\t{discount_text}\t{position}\n")
            channel = channels[int(rng.random() * len(channels))]
            reference = f"WEB-{number:08d}" if channel == "online" else ""
            at = clock(placed)
            paid = clock(paid_at) if paid_at is not None else NULL
            refunded = clock(closed_at) if status == purchases.REFUNDED else NULL
            cancelled = clock(closed_at) if status == purchases.CANCELLED else NULL
            updated = clock(closed_at) if closed_at is not None else (paid if paid_at is not None else at)
            orders_out.append(
                f"{number}\t{p.id}\t{company}\t{reference}\t{at}\t{channel}\t{status}\t{CURRENCY}\t0.00\t"
                f"{money(total)}\t\t{paid}\t{refunded}\t{cancelled}\t{owner}\t{at}\t{updated}\n"
            )
            if number == p.first_order_id and status == purchases.PAID:
                first_purchases[p.id] = (total, products)


# Deals -------------------------------------------------------------------------------------------


@generator(
    "deals",
    stage="contacts",
    tables={
        "sales_deal": (
            "id",
            "name",
            "contact_id",
            "company_id",
            "owner_id",
            "amount",
            "currency",
            "expected_close_date",
            "pipeline_id",
            "stage_id",
            "stage_entered_at",
            "status",
            "lost_reason",
            "won_at",
            "lost_at",
            "order_id",
            "created_by_id",
            "created_at",
            "updated_at",
        ),
        "sales_dealstagechange": ("deal_id", "from_stage_id", "to_stage_id", "at", "by_id"),
        "sales_deal_products": ("deal_id", "product_id"),
    },
)
def deals(ctx, chunk) -> None:
    rng = chunk.rng("deals")
    profiles = ctx.ref["profiles"]
    first_purchases = chunk.data["first_purchases"]
    outs = (chunk.out("sales_deal"), chunk.out("sales_dealstagechange"), chunk.out("sales_deal_products"))
    for p in chunk.data["people"]:
        flags = profiles.deals[p.id]
        if flags:
            _deals_of(ctx, rng, p, flags, profiles.deal_base[p.id], first_purchases.get(p.id), outs)


def _deals_of(ctx, rng, p, flags: int, number: int, first, outs) -> None:
    """The deals of one contact (ids from `number`): won (its first purchase), lost, open."""
    clock, now = ctx.clock.text, ctx.now
    ref = ctx.ref
    products, stage_ids = ref["products"], ref["stage_ids"]
    consumer, business, open_stages = ref["pick_consumer"], ref["pick_business"], ref["open_stages"]
    deals_out, moves_out, products_out = outs
    b2b = p.customer_type == "b2b"
    buyer = f"{escape(p.company.name)}: " if p.company is not None else ""
    company = p.company_id if p.company_id is not None else NULL
    start = p.created + 600
    first_paid = p.orders[0][0] if first is not None else None

    def offer():
        chosen = {pick(rng, business if b2b else consumer) for _ in range(1 + (rng.random() < 0.3))}
        units = 5 + int(rng.random() * 36) if b2b else 1 + (rng.random() < 0.3)
        return sorted(chosen), sum(row[4] for row in chosen) * units, units

    def write(pipeline, path, times, status, amount, chosen, name, *, order=NULL, reason="", close=NULL):
        nonlocal number
        entered = times[-1]
        won = clock(entered) if status == "won" else NULL
        lost = clock(entered) if status == "lost" else NULL
        deals_out.append(
            f"{number}\t{name[:200]}\t{p.id}\t{company}\t{p.owner}\t{money(amount)}\t{CURRENCY}\t{close}\t"
            f"{pipeline}\t{path[-1]}\t{clock(entered)}\t{status}\t{reason}\t{won}\t{lost}\t{order}\t{p.owner}\t"
            f"{clock(times[0])}\t{clock(entered)}\n"
        )
        previous = NULL
        for stage, at in zip(path, times, strict=True):
            moves_out.append(f"{number}\t{previous}\t{stage}\t{clock(at)}\t{p.owner}\n")
            previous = stage
        products_out.extend(f"{number}\t{row[0]}\n" for row in chosen)
        number += 1

    sales = stage_ids[SALES_PIPELINE]
    kinds = []
    if flags & purchases.DEAL_WON:
        kinds.append("won" if first is not None else "lost")
    if flags & purchases.DEAL_LOST:
        kinds.append("lost")
    if flags & purchases.DEAL_OPEN:
        kinds.append("open")
    for kind in kinds:
        if kind == "won":
            total, bought = first
            path = [*sales["open"], sales["won"]]
            # won an hour to two days before the order was placed (a minute before, for a customer
            # who bought at once)
            won_at = min(first_paid - 60, max(start + 120, first_paid - HOUR - int(rng.random() * 47 * HOUR)))
            opened = min(won_at - len(path), max(start, won_at - 7 * DAY - int(rng.random() * 33 * DAY)))
            chosen = sorted({products[pk - 1] for pk in bought})
            name = f"{buyer}{escape(chosen[0][2])}" + (" and more" if len(chosen) > 1 else "")
            times = _times(opened, won_at, len(path))
            write(SALES_PIPELINE, path, times, "won", total, chosen, name, order=p.first_order_id)
        elif kind == "lost":
            end = (first_paid - HOUR) if first_paid is not None else now - 2 * HOUR
            opened = start + int(rng.random() * max(0, end - start - 2 * DAY))
            lost_at = min(end, opened + 3 * DAY + int(rng.random() * 57 * DAY))
            path = [*sales["open"][: 1 + int(rng.random() * 3)], sales["lost"]]
            chosen, amount, units = offer()
            name = f"{buyer}{units} × {escape(chosen[0][2])}"
            reason = LOST_REASONS[int(rng.random() * len(LOST_REASONS))]
            write(
                SALES_PIPELINE,
                path,
                _times(opened, lost_at, len(path)),
                "lost",
                amount,
                chosen,
                name,
                reason=reason,
            )
        else:
            renewal = p.phase in ("retention", "extension") and rng.random() < 0.3
            pipeline = RENEWALS_PIPELINE if renewal else SALES_PIPELINE
            stages = stage_ids[pipeline]["open"]
            upto = min(len(stages) - 1, open_stages[int(rng.random() * len(open_stages))])
            earliest = max(start, now - 120 * DAY)
            opened = earliest + int(rng.random() * max(0, now - 2 * HOUR - earliest))
            last = opened + int(rng.random() * max(0, now - HOUR - opened))
            chosen, amount, units = offer()
            if renewal:
                name = f"{buyer}Service plan renewal"
            elif p.phase in ("retention", "extension"):
                name = f"Upsell: {buyer}{units} × {escape(chosen[0][2])}"
            else:
                name = f"{buyer}{units} × {escape(chosen[0][2])}"
            close = clock(now + int((rng.random() * 85 - 10) * DAY))[:10]
            path = stages[: upto + 1]
            write(pipeline, path, _times(opened, last, len(path)), "open", amount, chosen, name, close=close)


def _times(first: int, last: int, steps: int) -> list[int]:
    """`steps` moves from `first` to `last` (at least a second apart), evenly spaced."""
    last = max(last, first + steps)
    if steps == 1:
        return [last]
    return [first + (last - first) * n // (steps - 1) for n in range(steps)]


# Loyalty ---------------------------------------------------------------------------------------


@after_load("loyalty tiers")
def loyalty_tiers(cursor, plan) -> None:
    """Every contact's tier as the nightly recompute would give it at the data's now (its own
    statement's standing and tier rule, sales.sql_loyalty), with the TierChange it writes."""
    import datetime

    from django.conf import settings

    from sales import sql_loyalty
    from sales.loyalty import window_start

    now = datetime.datetime.fromtimestamp(plan.as_of_ts, datetime.UTC)
    since = window_start(now)
    reason = f"Purchases in the 12 months since {since.date().isoformat()}"
    cursor.execute(
        f"""
        WITH standing AS MATERIALIZED ({sql_loyalty._STANDING}),
        earned AS MATERIALIZED ({sql_loyalty._EARNED}),
        holders AS (
            INSERT INTO sales_contacttier (contact_id, tier_id, since)
            SELECT contact_id, tier_id, %(now)s FROM earned WHERE tier_id IS NOT NULL
        )
        INSERT INTO sales_tierchange (contact_id, from_tier_id, to_tier_id, at, spend, purchase_count, reason)
        SELECT contact_id, NULL, tier_id, %(now)s, spend, purchases, %(reason)s FROM earned WHERE tier_id IS NOT NULL
        ORDER BY contact_id
        """,  # noqa: S608 - the loyalty module's own fragments
        {"now": now, "since": since, "currency": settings.DEFAULT_CURRENCY, "reason": reason},
    )
    cursor.execute("ANALYZE sales_contacttier")
