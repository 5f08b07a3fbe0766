"""What customers buy and what reps sell: the product catalogue and its cross-sell relations,
orders (purchases) and their lines. Later sections: deals in pipelines, loyalty."""

from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.access import OwnedQuerySet

User = settings.AUTH_USER_MODEL
ZERO = Decimal("0.00")
currency_code = RegexValidator(r"^[A-Z]{3}$", _("A currency is a three-letter ISO code, e.g. INR."))


def default_currency() -> str:
    return settings.DEFAULT_CURRENCY


# Catalogue ------------------------------------------------------------------------------


class Product(models.Model):
    sku = models.CharField(_("SKU"), max_length=64, unique=True, help_text=_("Stored in capitals, without spaces."))
    name = models.CharField(_("name"), max_length=200)
    category = models.CharField(_("category"), max_length=100, blank=True)
    description = models.TextField(_("description"), blank=True)
    unit_price = models.DecimalField(
        _("unit price"), max_digits=12, decimal_places=2, validators=[MinValueValidator(ZERO)]
    )
    currency = models.CharField(_("currency"), max_length=3, default=default_currency, validators=[currency_code])
    active = models.BooleanField(_("on sale"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["name", "id"]
        indexes = [
            # the catalogue list, by name, optionally of one category / only those on sale
            models.Index(fields=["category", "name", "id"], name="product_category_name_idx"),
            models.Index(fields=["name", "id"], name="product_name_idx", condition=Q(active=True)),
            # the search box: part of a name in any script
            GinIndex(fields=["name"], name="product_name_trgm", opclasses=["gin_trgm_ops"]),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="product_price_not_negative"),
            models.CheckConstraint(condition=Q(currency__regex=r"^[A-Z]{3}$"), name="product_currency_code"),
        ]

    def __str__(self):
        return f"{self.name} ({self.sku})"

    def get_absolute_url(self):
        return reverse("sales:product_detail", args=[self.pk])


class RelationKind(models.TextChoices):
    CROSS_SELL = "cross_sell", _("Cross-sell")
    UPSELL = "upsell", _("Upsell")


class RelationSource(models.TextChoices):
    MANUAL = "manual", _("Set by hand")
    SUGGESTED = "suggested", _("Suggested from orders")


class ProductRelation(models.Model):
    """ "Who buys `from_product` should be offered `to_product`".

    Rows set by hand are accepted at once; the suggestion job adds rows from orders (products
    bought together) that wait for a person to accept or dismiss them, and keeps the figures
    (support, confidence, lift) of every pair up to date. Only accepted relations count as
    cross-sell/upsell for the lifecycle rules and for campaigns."""

    from_product = models.ForeignKey(
        Product, verbose_name=_("who buys"), on_delete=models.CASCADE, related_name="relations_out"
    )
    to_product = models.ForeignKey(
        Product, verbose_name=_("is offered"), on_delete=models.CASCADE, related_name="relations_in"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=RelationKind.choices, default=RelationKind.CROSS_SELL)
    source = models.CharField(_("source"), max_length=10, choices=RelationSource.choices, default=RelationSource.MANUAL)
    # Share of baskets (paid orders) holding both products.
    support = models.FloatField(_("support"), null=True, blank=True)
    # Share of the baskets holding from_product that also hold to_product.
    confidence = models.FloatField(_("confidence"), null=True, blank=True)
    # confidence / share of baskets holding to_product: above 1, bought together more than by chance.
    lift = models.FloatField(_("lift"), null=True, blank=True)
    together_count = models.PositiveIntegerField(_("baskets with both"), null=True, blank=True)
    computed_at = models.DateTimeField(_("figures computed"), null=True, blank=True)
    accepted = models.BooleanField(_("accepted"), default=False)
    accepted_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    # A dismissed suggestion keeps its row, so the nightly job does not offer it again.
    dismissed_at = models.DateTimeField(_("dismissed"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("product relation")
        verbose_name_plural = _("product relations")
        ordering = ["from_product", "-lift", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["from_product", "to_product"],
                name="productrelation_pair_uniq",
                violation_error_message=_("These two products are related already."),
            ),
            models.CheckConstraint(condition=~Q(from_product=models.F("to_product")), name="productrelation_not_self"),
            models.CheckConstraint(
                condition=~Q(accepted=True, dismissed_at__isnull=False), name="productrelation_accepted_or_dismissed"
            ),
        ]
        indexes = [
            # the lifecycle rule: accepted relations into the products of an order
            models.Index(
                fields=["to_product", "from_product"], name="productrelation_in_idx", condition=Q(accepted=True)
            ),
            # the product page: suggestions waiting for a decision, best first
            models.Index(
                fields=["from_product", "-lift"],
                name="productrelation_pending_idx",
                condition=Q(accepted=False, dismissed_at__isnull=True),
            ),
        ]

    def __str__(self):
        return f"{self.from_product} → {self.to_product} ({self.get_kind_display()})"

    @property
    def is_pending(self) -> bool:
        return not self.accepted and self.dismissed_at is None


# Orders ---------------------------------------------------------------------------------


class OrderChannel(models.TextChoices):
    ONLINE = "online", _("Online")
    STORE = "store", _("Store")
    PHONE = "phone", _("Phone")
    PARTNER = "partner", _("Partner")


class OrderStatus(models.TextChoices):
    """placed -> paid -> refunded, or placed -> cancelled. Only paid orders are purchases."""

    PLACED = "placed", _("Placed")
    PAID = "paid", _("Paid")
    REFUNDED = "refunded", _("Refunded")
    CANCELLED = "cancelled", _("Cancelled")


class OrderQuerySet(OwnedQuerySet):
    """An order is visible to whoever may see its contact."""

    owner_field = "contact__owner"

    def purchases(self):
        """Orders that count as purchases (paid; refunded and cancelled ones do not)."""
        return self.filter(status=OrderStatus.PAID)


class Order(models.Model):
    contact = models.ForeignKey(
        "contacts.Contact", verbose_name=_("contact"), on_delete=models.PROTECT, related_name="orders"
    )
    # The buying company of a B2B order (the contact's company when the order was placed).
    company = models.ForeignKey(
        "contacts.Company",
        verbose_name=_("company"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="orders",
    )
    # The shop's or accounting system's own order number, when there is one; an import matches on it.
    reference = models.CharField(_("reference"), max_length=64, blank=True)
    placed_at = models.DateTimeField(_("placed"), default=timezone.now)
    channel = models.CharField(_("channel"), max_length=8, choices=OrderChannel.choices, default=OrderChannel.STORE)
    status = models.CharField(_("status"), max_length=10, choices=OrderStatus.choices, default=OrderStatus.PLACED)
    currency = models.CharField(_("currency"), max_length=3, default=default_currency, validators=[currency_code])
    # Taken off the whole order by a reward code (sales.loyalty.code_redeem); lines keep their own discounts.
    discount = models.DecimalField(_("order discount"), max_digits=14, decimal_places=2, default=ZERO, editable=False)
    # Always the sum of the lines (quantity × unit price − discount) less the order discount; set by the services.
    total = models.DecimalField(_("total"), max_digits=14, decimal_places=2, default=ZERO, editable=False)
    note = models.CharField(_("note"), max_length=500, blank=True)
    paid_at = models.DateTimeField(_("paid"), null=True, blank=True)
    refunded_at = models.DateTimeField(_("refunded"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    created_by = models.ForeignKey(
        User, verbose_name=_("entered by"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    objects = OrderQuerySet.as_manager()

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-placed_at", "-id"]
        indexes = [
            # a contact's orders, newest first (the orders panel, lifetime revenue)
            models.Index(fields=["contact", "-placed_at", "-id"], name="order_contact_placed_idx"),
            # a company's orders, newest first (its orders panel)
            models.Index(fields=["company", "-placed_at", "-id"], name="order_company_placed_idx"),
            # the order list, newest first (keyset on placed_at, id)
            models.Index(fields=["-placed_at", "-id"], name="order_placed_idx"),
            # reports: paid orders by date (revenue per month, financial year)
            models.Index(fields=["placed_at"], name="order_paid_placed_idx", condition=Q(status="paid")),
            # the nightly churn job and the lifecycle rules: the last purchase of each contact
            models.Index(
                fields=["contact", "placed_at"], name="order_contact_purchase_idx", condition=Q(status="paid")
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["reference"],
                condition=~Q(reference=""),
                name="order_reference_uniq",
                violation_error_message=_("Another order has this reference."),
            ),
            models.CheckConstraint(condition=Q(total__gte=0), name="order_total_not_negative"),
            models.CheckConstraint(condition=Q(currency__regex=r"^[A-Z]{3}$"), name="order_currency_code"),
            models.CheckConstraint(
                condition=Q(status="placed") | Q(status="cancelled") | Q(paid_at__isnull=False),
                name="order_paid_has_paid_at",
            ),
        ]

    def __str__(self):
        return self.number

    def get_absolute_url(self):
        return reverse("sales:order_detail", args=[self.pk])

    @property
    def number(self) -> str:
        """The CRM's order number, shown everywhere: SO-000123."""
        return f"SO-{self.pk:06d}" if self.pk else "SO-…"

    @property
    def ref(self) -> str:
        """What the timeline stores to point at this order (Activity.ref)."""
        return f"sales.order:{self.pk}"

    @property
    def is_purchase(self) -> bool:
        return self.status == OrderStatus.PAID


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField(_("quantity"), default=1, validators=[MinValueValidator(1)])
    unit_price = models.DecimalField(
        _("unit price"), max_digits=12, decimal_places=2, validators=[MinValueValidator(ZERO)]
    )
    # An amount off the line (not a percentage), in the order's currency.
    discount = models.DecimalField(
        _("discount"), max_digits=12, decimal_places=2, default=ZERO, validators=[MinValueValidator(ZERO)]
    )
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["order", "position", "id"]
        indexes = [
            # the cross-sell job and the lifecycle rule: which orders hold a product
            models.Index(fields=["product", "order"], name="orderline_product_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="orderline_quantity_positive"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="orderline_price_not_negative"),
            models.CheckConstraint(condition=Q(discount__gte=0), name="orderline_discount_not_negative"),
            models.CheckConstraint(
                condition=Q(discount__lte=models.F("quantity") * models.F("unit_price")),
                name="orderline_discount_within_amount",
            ),
        ]

    def __str__(self):
        return f"{self.quantity} × {self.product_id}"

    @property
    def amount(self) -> Decimal:
        return self.quantity * self.unit_price - self.discount


# Order imports --------------------------------------------------------------------------


class OrderImport(models.Model):
    """A CSV file of orders being imported (sales.importer): streamed in batches, resumable."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    owner = models.ForeignKey(User, on_delete=models.PROTECT, related_name="order_imports")
    file = models.FileField(upload_to="imports/orders/%Y/%m/")
    file_name = models.CharField(max_length=255)
    file_sha256 = models.CharField(max_length=64)
    encoding = models.CharField(max_length=20)
    delimiter = models.CharField(max_length=1)
    # The file's header, and which order field each of its columns holds ("" = ignored).
    headers = models.JSONField(default=list)
    columns = models.JSONField(default=list)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    total_rows = models.PositiveIntegerField(default=0)
    # Lines handled so far; committed with each batch, so a killed job resumes after it.
    processed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0, help_text=_("Orders created."))
    skipped_count = models.PositiveIntegerField(default=0, help_text=_("Lines of orders imported before."))
    error_count = models.PositiveIntegerField(default=0, help_text=_("Lines rejected."))
    message = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = OwnedQuerySet.as_manager()

    class Meta:
        verbose_name = _("order import")
        verbose_name_plural = _("order imports")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["owner", "-created_at"], name="orderimport_owner_idx")]

    def __str__(self):
        return self.file_name

    def get_absolute_url(self):
        return reverse("sales:order_import_detail", args=[self.pk])


class OrderImportRow(models.Model):
    """What an order import did with one line of its file: for the error report."""

    class Action(models.TextChoices):
        CREATED = "created", _("Created")
        SKIPPED = "skipped", _("Skipped")
        REJECTED = "rejected", _("Rejected")

    job = models.ForeignKey(OrderImport, on_delete=models.CASCADE, related_name="rows")
    line = models.PositiveIntegerField()
    action = models.CharField(max_length=8, choices=Action.choices)
    order = models.ForeignKey(Order, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    message = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["job", "line"]
        constraints = [models.UniqueConstraint(fields=["job", "line"], name="orderimportrow_uniq")]
        indexes = [
            # the error report: a job's rejected lines in file order
            models.Index(fields=["job", "line"], name="orderimportrow_rejected_idx", condition=Q(action="rejected")),
        ]

    def __str__(self):
        return f"{self.job_id}:{self.line} {self.action}"


# Pipeline and deals ---------------------------------------------------------------------


class Pipeline(models.Model):
    """An ordered set of stages a deal goes through; admins edit them (Django admin)."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    active = models.BooleanField(_("in use"), default=True, help_text=_("Only pipelines in use get a board."))
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("pipeline")
        verbose_name_plural = _("pipelines")
        ordering = ["position", "id"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("sales:deal_board_of", args=[self.pk])


class StageKind(models.TextChoices):
    OPEN = "open", _("Open")
    WON = "won", _("Won")
    LOST = "lost", _("Lost")


class Stage(models.Model):
    pipeline = models.ForeignKey(Pipeline, verbose_name=_("pipeline"), on_delete=models.CASCADE, related_name="stages")
    name = models.CharField(_("name"), max_length=80)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    # A deal moved into a won (lost) stage is won (lost); open stages are the board's working columns.
    kind = models.CharField(_("kind"), max_length=4, choices=StageKind.choices, default=StageKind.OPEN)
    probability = models.PositiveSmallIntegerField(
        _("win probability (%)"),
        default=0,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text=_("Weighted totals count this share of the amount of the deals in the stage."),
    )

    class Meta:
        verbose_name = _("stage")
        verbose_name_plural = _("stages")
        ordering = ["pipeline", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["pipeline", "name"],
                name="stage_name_uniq",
                violation_error_message=_("The pipeline has a stage of this name already."),
            ),
            models.CheckConstraint(condition=Q(probability__lte=100), name="stage_probability_percent"),
        ]

    def __str__(self):
        return self.name

    @property
    def is_open(self) -> bool:
        return self.kind == StageKind.OPEN


class DealStatus(models.TextChoices):
    OPEN = "open", _("Open")
    WON = "won", _("Won")
    LOST = "lost", _("Lost")


class DealQuerySet(OwnedQuerySet):
    def changeable_by(self, user):
        """Deals `user` may move, edit, win or lose: their own, those of the members of the teams
        they manage, all for an admin. Narrower than `visible_to`: in a sharing team a rep sees a
        colleague's deals but does not move them (the pipeline and its forecast are the owner's)."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_crm_admin:
            return self
        return self.filter(owner__in=changeable_owner_ids(user))

    def open(self):
        return self.filter(status=DealStatus.OPEN)


def changeable_owner_ids(user):
    """Ids of the users whose deals `user` may change (see DealQuerySet.changeable_by), as a subquery."""
    from crm.models import User as UserModel

    return UserModel.objects.filter(Q(pk=user.pk) | Q(teams__manager=user)).values("pk")


class Deal(models.Model):
    name = models.CharField(_("name"), max_length=200)
    contact = models.ForeignKey(
        "contacts.Contact", verbose_name=_("contact"), on_delete=models.PROTECT, related_name="deals"
    )
    company = models.ForeignKey(
        "contacts.Company",
        verbose_name=_("company"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="deals",
    )
    owner = models.ForeignKey(User, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="deals")
    amount = models.DecimalField(
        _("amount"), max_digits=14, decimal_places=2, default=ZERO, validators=[MinValueValidator(ZERO)]
    )
    currency = models.CharField(_("currency"), max_length=3, default=default_currency, validators=[currency_code])
    expected_close_date = models.DateField(_("expected close"), null=True, blank=True)
    products = models.ManyToManyField(Product, verbose_name=_("products"), blank=True, related_name="deals")
    # The stage's pipeline, copied so that the board reads one table (index deal_board_idx).
    pipeline = models.ForeignKey(Pipeline, verbose_name=_("pipeline"), on_delete=models.PROTECT, related_name="deals")
    stage = models.ForeignKey(Stage, verbose_name=_("stage"), on_delete=models.PROTECT, related_name="deals")
    stage_entered_at = models.DateTimeField(_("in this stage since"), default=timezone.now)
    status = models.CharField(_("status"), max_length=4, choices=DealStatus.choices, default=DealStatus.OPEN)
    lost_reason = models.CharField(_("reason lost"), max_length=300, blank=True)
    won_at = models.DateTimeField(_("won"), null=True, blank=True)
    lost_at = models.DateTimeField(_("lost"), null=True, blank=True)
    order = models.OneToOneField(
        Order, verbose_name=_("order"), on_delete=models.SET_NULL, null=True, blank=True, related_name="deal"
    )
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    objects = DealQuerySet.as_manager()

    class Meta:
        verbose_name = _("deal")
        verbose_name_plural = _("deals")
        ordering = ["-updated_at", "-id"]
        indexes = [
            # the board: open deals of a pipeline, column by column, most recently changed first
            models.Index(
                fields=["pipeline", "stage", "-updated_at", "-id"],
                name="deal_board_idx",
                condition=Q(status="open"),
            ),
            # the board's won and lost columns (recently closed) and won/lost per month in reports
            models.Index(fields=["pipeline", "won_at"], name="deal_won_idx", condition=Q(status="won")),
            models.Index(fields=["pipeline", "lost_at"], name="deal_lost_idx", condition=Q(status="lost")),
            # the deal list, most recently changed first (keyset on updated_at, id), for all or per owner
            models.Index(fields=["-updated_at", "-id"], name="deal_updated_idx"),
            models.Index(fields=["owner", "-updated_at", "-id"], name="deal_owner_updated_idx"),
            # the open deals panels of a contact's and a company's page
            models.Index(fields=["contact", "-updated_at"], name="deal_contact_open_idx", condition=Q(status="open")),
            models.Index(fields=["company", "-updated_at"], name="deal_company_open_idx", condition=Q(status="open")),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="deal_amount_not_negative"),
            models.CheckConstraint(condition=Q(currency__regex=r"^[A-Z]{3}$"), name="deal_currency_code"),
            models.CheckConstraint(
                condition=(Q(status="won") & Q(won_at__isnull=False)) | (~Q(status="won") & Q(won_at__isnull=True)),
                name="deal_won_has_won_at",
            ),
            models.CheckConstraint(
                condition=(Q(status="lost") & Q(lost_at__isnull=False) & ~Q(lost_reason=""))
                | (~Q(status="lost") & Q(lost_at__isnull=True)),
                name="deal_lost_has_lost_at_and_reason",
            ),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("sales:deal_detail", args=[self.pk])

    @property
    def ref(self) -> str:
        """What the timeline stores to point at this deal (Activity.ref)."""
        return f"sales.deal:{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status == DealStatus.OPEN


class DealStageChange(models.Model):
    """One move of a deal, kept forever: time in stage and stage-to-stage conversion come from here.
    The first row of a deal (from_stage empty) is its creation."""

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.ForeignKey(
        Stage, verbose_name=_("from"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    to_stage = models.ForeignKey(Stage, verbose_name=_("to"), on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("at"), default=timezone.now)
    by = models.ForeignKey(
        User, verbose_name=_("by"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("stage change")
        verbose_name_plural = _("stage changes")
        ordering = ["deal", "at", "id"]
        indexes = [
            # a deal's history, in order (the deal page)
            models.Index(fields=["deal", "at", "id"], name="dealstagechange_deal_idx"),
            # conversion reports: moves into a stage in a period
            models.Index(fields=["to_stage", "at"], name="dealstagechange_to_idx"),
        ]

    def __str__(self):
        return f"{self.deal_id}: {self.from_stage_id} → {self.to_stage_id}"


# Loyalty --------------------------------------------------------------------------------


class LoyaltyTier(models.Model):
    """A level of the loyalty programme, earned by the purchases of the last 12 months.

    A contact holds the active tier of highest rank whose thresholds they meet, BOTH of them
    (AND): at least `min_spend` spent and at least `min_purchase_count` purchases. Spend counts
    the totals of paid orders in DEFAULT_CURRENCY (the CRM keeps no exchange rates); the count
    counts every paid order. Rules are recomputed nightly (sales.loyalty.tiers_recompute)."""

    name = models.CharField(_("name"), max_length=60, unique=True)
    rank = models.PositiveSmallIntegerField(
        _("rank"), unique=True, help_text=_("Higher is better: a contact gets the highest tier they qualify for.")
    )
    min_spend = models.DecimalField(
        _("minimum spend in 12 months"),
        max_digits=14,
        decimal_places=2,
        default=ZERO,
        validators=[MinValueValidator(ZERO)],
        help_text=_("Paid orders in the default currency; 0 rules on the purchase count alone."),
    )
    min_purchase_count = models.PositiveIntegerField(
        _("minimum purchases in 12 months"),
        default=1,
        validators=[MinValueValidator(1)],
        help_text=_("Paid orders, at least 1: a tier is always earned by buying."),
    )
    active = models.BooleanField(
        _("in use"), default=True, help_text=_("Holders of a tier taken out of use move at the next recompute.")
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        verbose_name = _("loyalty tier")
        verbose_name_plural = _("loyalty tiers")
        ordering = ["-rank", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(min_spend__gte=0), name="loyaltytier_spend_not_negative"),
            models.CheckConstraint(condition=Q(min_purchase_count__gte=1), name="loyaltytier_needs_a_purchase"),
        ]

    def __str__(self):
        return self.name


class ContactTier(models.Model):
    """The tier a contact holds now (no row: no tier). Written only by the nightly recompute.

    Merging contacts: the merged records' rows go with them (contacts.merge); the kept record's
    tier is recomputed from all the orders the next night."""

    contact = models.OneToOneField(
        "contacts.Contact", on_delete=models.CASCADE, primary_key=True, related_name="loyalty_tier"
    )
    tier = models.ForeignKey(LoyaltyTier, verbose_name=_("tier"), on_delete=models.PROTECT, related_name="holders")
    since = models.DateTimeField(_("since"), default=timezone.now)

    class Meta:
        verbose_name = _("contact's tier")
        verbose_name_plural = _("contacts' tiers")
        indexes = [
            # counts per tier (the tiers page) and the holders of a tier (codes issued to a tier)
            models.Index(fields=["tier", "contact"], name="contacttier_tier_idx"),
        ]

    def __str__(self):
        return f"{self.contact_id}: {self.tier_id}"


class TierChange(models.Model):
    """One move of a contact between tiers (either side empty: gained or lost a tier), kept forever."""

    contact = models.ForeignKey("contacts.Contact", on_delete=models.CASCADE, related_name="tier_changes")
    from_tier = models.ForeignKey(
        LoyaltyTier, verbose_name=_("from"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    to_tier = models.ForeignKey(
        LoyaltyTier, verbose_name=_("to"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField(_("when"), default=timezone.now)
    # What the contact had bought in the 12 months the move was computed on.
    spend = models.DecimalField(_("spend in 12 months"), max_digits=14, decimal_places=2, default=ZERO)
    purchase_count = models.PositiveIntegerField(_("purchases in 12 months"), default=0)
    reason = models.CharField(_("reason"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("tier change")
        verbose_name_plural = _("tier changes")
        ordering = ["-at", "-id"]
        indexes = [
            # a contact's tier history, newest first (the contact page's loyalty panel)
            models.Index(fields=["contact", "-at", "-id"], name="tierchange_contact_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(from_tier__isnull=False) | Q(to_tier__isnull=False), name="tierchange_has_a_tier"
            ),
            models.CheckConstraint(condition=~Q(from_tier=models.F("to_tier")), name="tierchange_is_a_change"),
        ]

    def __str__(self):
        return f"{self.contact_id}: {self.from_tier_id or '—'} → {self.to_tier_id or '—'}"


class RewardKind(models.TextChoices):
    PERCENT = "percent", _("Percentage off")
    AMOUNT = "amount", _("Amount off")


class RewardCodeQuerySet(OwnedQuerySet):
    """A reward code is visible with the contact it was issued to."""

    owner_field = "contact__owner"


class RewardCode(models.Model):
    """A single-use discount code of one contact, redeemed on one of their orders before it expires.

    Codes "issued to a tier" are one code per holder of the tier, each of them a code of its contact
    (`tier` remembers why). The code is random (60 bits, see sales.loyalty.code_generate) so that
    it cannot be guessed; redeeming claims it with a conditional UPDATE, so it is used once only."""

    code = models.CharField(_("code"), max_length=20, unique=True, editable=False)
    contact = models.ForeignKey(
        "contacts.Contact", verbose_name=_("contact"), on_delete=models.CASCADE, related_name="reward_codes"
    )
    kind = models.CharField(_("kind"), max_length=7, choices=RewardKind.choices, default=RewardKind.PERCENT)
    # A percentage (0-100] for percent codes; an amount in `currency` for amount codes.
    value = models.DecimalField(
        _("value"), max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    currency = models.CharField(_("currency"), max_length=3, default=default_currency, validators=[currency_code])
    expires_at = models.DateTimeField(_("expires"))
    tier = models.ForeignKey(
        LoyaltyTier,
        verbose_name=_("issued to the tier"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    reason = models.CharField(_("what for"), max_length=200, blank=True)
    # The request that issued the codes of a tier, so that a second delivery of its job issues none twice.
    batch = models.CharField(_("batch"), max_length=36, blank=True, editable=False)
    issued_at = models.DateTimeField(_("issued"), default=timezone.now)
    issued_by = models.ForeignKey(
        User, verbose_name=_("issued by"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    redeemed_at = models.DateTimeField(_("redeemed"), null=True, blank=True)
    redeemed_order = models.OneToOneField(
        Order,
        verbose_name=_("redeemed on"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reward_code",
    )
    redeemed_by = models.ForeignKey(
        User, verbose_name=_("redeemed by"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The amount taken off the order, computed when the code was redeemed.
    discount_amount = models.DecimalField(_("discount"), max_digits=14, decimal_places=2, null=True, blank=True)

    objects = RewardCodeQuerySet.as_manager()

    class Meta:
        verbose_name = _("reward code")
        verbose_name_plural = _("reward codes")
        ordering = ["-issued_at", "-id"]
        indexes = [
            # a contact's codes, newest first (the contact page's loyalty panel)
            models.Index(fields=["contact", "-issued_at", "-id"], name="rewardcode_contact_idx"),
            # the contacts a batch already gave a code to (codes_issue_to_tier run again)
            models.Index(fields=["batch", "contact"], name="rewardcode_batch_idx", condition=~Q(batch="")),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(value__gt=0), name="rewardcode_value_positive"),
            models.CheckConstraint(
                condition=~Q(kind="percent") | Q(value__lte=100), name="rewardcode_percent_at_most_100"
            ),
            models.CheckConstraint(condition=Q(currency__regex=r"^[A-Z]{3}$"), name="rewardcode_currency_code"),
            models.CheckConstraint(
                condition=Q(redeemed_at__isnull=True, redeemed_order__isnull=True, discount_amount__isnull=True)
                | Q(redeemed_at__isnull=False, redeemed_order__isnull=False, discount_amount__gte=0),
                name="rewardcode_redeemed_on_an_order",
            ),
        ]

    def __str__(self):
        return self.code

    @property
    def ref(self) -> str:
        """What the timeline stores to point at this code (Activity.ref)."""
        return f"sales.rewardcode:{self.pk}"

    @property
    def is_redeemed(self) -> bool:
        return self.redeemed_at is not None

    def is_expired(self, now=None) -> bool:
        return self.expires_at <= (now or timezone.now())
