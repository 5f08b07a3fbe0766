"""Admin of the sales app. Status changes of orders go through the services (and so through the
lifecycle rules); the total is always recomputed from the lines."""

from django import forms
from django.contrib import admin, messages
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from sales import models, services


class RelationInline(admin.TabularInline):
    model = models.ProductRelation
    fk_name = "from_product"
    extra = 0
    fields = ["to_product", "kind", "source", "accepted", "support", "confidence", "lift", "dismissed_at"]
    readonly_fields = ["source", "support", "confidence", "lift", "dismissed_at"]
    autocomplete_fields = ["to_product"]


@admin.register(models.Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["name", "sku", "category", "unit_price", "currency", "active"]
    list_filter = ["active", "category", "currency"]
    search_fields = ["name", "sku"]
    inlines = [RelationInline]


@admin.register(models.ProductRelation)
class ProductRelationAdmin(admin.ModelAdmin):
    list_display = ["from_product", "to_product", "kind", "source", "accepted", "lift", "confidence", "support"]
    list_filter = ["kind", "source", "accepted"]
    search_fields = ["from_product__name", "to_product__name", "from_product__sku", "to_product__sku"]
    autocomplete_fields = ["from_product", "to_product"]
    readonly_fields = ["support", "confidence", "lift", "together_count", "computed_at", "accepted_by", "accepted_at"]
    list_select_related = ["from_product", "to_product"]


class OrderLineInline(admin.TabularInline):
    model = models.OrderLine
    extra = 0
    fields = ["product", "quantity", "unit_price", "discount", "position"]
    autocomplete_fields = ["product"]

    def _editable(self, obj) -> bool:
        # Only a placed order's lines may change: a paid one is a purchase on the books.
        return obj is None or obj.status == models.OrderStatus.PLACED

    def has_add_permission(self, request, obj=None):
        return self._editable(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._editable(obj) and super().has_delete_permission(request, obj)


@admin.register(models.Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["number", "placed_at", "contact", "company", "channel", "status", "total", "currency"]
    list_filter = ["status", "channel", "currency"]
    search_fields = ["reference", "contact__display_name", "company__name"]
    date_hierarchy = "placed_at"
    autocomplete_fields = ["contact", "company"]
    readonly_fields = ["status", "total", "paid_at", "refunded_at", "cancelled_at", "created_by", "created_at"]
    list_select_related = ["contact", "company"]
    show_full_result_count = False
    inlines = [OrderLineInline]
    actions = ["mark_paid", "refund", "cancel"]

    def get_search_results(self, request, queryset, search_term):
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        number = search_term.strip().upper().removeprefix("SO-").lstrip("0")
        if number.isdigit():
            queryset |= self.model.objects.filter(pk=int(number))
        return queryset, may_have_duplicates

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        services.order_totals_refresh(order=form.instance, by=request.user)
        if not change:
            services.order_recorded(order=form.instance, by=request.user)

    def _apply(self, request, queryset, service) -> int:
        return sum(bool(service(order=order, by=request.user)) for order in queryset.select_related("contact"))

    @admin.action(description=_("Mark as paid (applies the lifecycle rules)"))
    def mark_paid(self, request, queryset):
        count = self._apply(request, queryset, services.order_mark_paid)
        text = ngettext("%(count)d order marked paid.", "%(count)d orders marked paid.", count)
        self.message_user(request, text % {"count": count}, messages.INFO)

    @admin.action(description=_("Refund (applies the lifecycle rules)"))
    def refund(self, request, queryset):
        count = self._apply(request, queryset, services.order_refund)
        text = ngettext("%(count)d order refunded.", "%(count)d orders refunded.", count)
        self.message_user(request, text % {"count": count}, messages.INFO)

    @admin.action(description=_("Cancel"))
    def cancel(self, request, queryset):
        count = self._apply(request, queryset, services.order_cancel)
        text = ngettext("%(count)d order cancelled.", "%(count)d orders cancelled.", count)
        self.message_user(request, text % {"count": count}, messages.INFO)


# Pipeline and deals ---------------------------------------------------------------------


@admin.register(models.OrderImport)
class OrderImportAdmin(admin.ModelAdmin):
    """Order imports, to look into; they are made and resumed from the order list (Import)."""

    list_display = ["file_name", "owner", "status", "total_rows", "created_count", "error_count", "created_at"]
    list_filter = ["status"]
    search_fields = ["file_name", "owner__username"]
    list_select_related = ["owner"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class StageFormSet(forms.BaseInlineFormSet):
    """A pipeline needs an open, a won and a lost stage (the board and deal_win/deal_lose use them);
    a stage that holds deals keeps its kind and is not deleted (move its deals first)."""

    def clean(self):
        super().clean()
        kinds = set()
        for form in self.forms:
            if not hasattr(form, "cleaned_data") or not form.cleaned_data:
                continue
            stage = form.instance
            in_use = stage.pk is not None and models.Deal.objects.filter(stage_id=stage.pk).exists()
            if form.cleaned_data.get("DELETE"):
                if in_use:
                    raise forms.ValidationError(
                        _("The stage “%(name)s” holds deals; move them to another stage first."),
                        params={"name": stage.name},
                    )
                continue
            if in_use and "kind" in form.changed_data:
                raise forms.ValidationError(
                    _("The stage “%(name)s” holds deals; its kind (open, won, lost) cannot change."),
                    params={"name": stage.name},
                )
            kinds.add(form.cleaned_data.get("kind"))
        missing = {models.StageKind.OPEN, models.StageKind.WON, models.StageKind.LOST} - kinds
        if missing:
            raise forms.ValidationError(_("A pipeline needs at least one open, one won and one lost stage."))


class StageInline(admin.TabularInline):
    model = models.Stage
    formset = StageFormSet
    extra = 0
    fields = ["position", "name", "kind", "probability"]
    ordering = ["position", "id"]


@admin.register(models.Pipeline)
class PipelineAdmin(admin.ModelAdmin):
    list_display = ["name", "active", "position"]
    list_editable = ["active", "position"]
    inlines = [StageInline]


class StageChangeInline(admin.TabularInline):
    model = models.DealStageChange
    extra = 0
    fields = ["at", "from_stage", "to_stage", "by"]
    readonly_fields = fields
    can_delete = False
    ordering = ["at", "id"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(models.Deal)
class DealAdmin(admin.ModelAdmin):
    """Data fixes of deals. Deals are opened from a contact's page and moved on the board, so that
    each has its stage history and timeline; here the stage and the outcome are read-only."""

    list_display = ["name", "contact", "owner", "pipeline", "stage", "status", "amount", "currency", "updated_at"]
    list_filter = ["pipeline", "status", "stage", "currency"]
    search_fields = ["name", "contact__display_name", "company__name"]
    date_hierarchy = "updated_at"
    autocomplete_fields = ["contact", "company", "owner", "products"]
    list_select_related = ["contact", "owner", "pipeline", "stage"]
    readonly_fields = [
        "pipeline",
        "stage",
        "stage_entered_at",
        "status",
        "lost_reason",
        "won_at",
        "lost_at",
        "order",
        "created_by",
        "created_at",
        "updated_at",
    ]
    show_full_result_count = False
    inlines = [StageChangeInline]

    def has_add_permission(self, request):
        return False

    def save_model(self, request, obj, form, change):
        obj.updated_at = timezone.now()
        super().save_model(request, obj, form, change)


# Loyalty --------------------------------------------------------------------------------


@admin.register(models.LoyaltyTier)
class LoyaltyTierAdmin(admin.ModelAdmin):
    """The tier rules. A contact gets the tier in use of highest rank whose minimum spend AND
    minimum purchase count (both over the last 12 months) they reach; recomputed nightly."""

    list_display = ["name", "rank", "min_spend", "min_purchase_count", "active", "holder_count"]
    list_editable = ["active"]
    fields = ["name", "rank", "min_spend", "min_purchase_count", "active"]
    actions = ["recompute"]

    def get_queryset(self, request):
        from django.db.models import Count

        return super().get_queryset(request).annotate(holder_count=Count("holders"))

    @admin.display(description=_("contacts holding it"), ordering="holder_count")
    def holder_count(self, obj):
        return obj.holder_count

    def save_model(self, request, obj, form, change):
        obj.updated_at = timezone.now()
        super().save_model(request, obj, form, change)

    @admin.action(description=_("Recompute every contact's tier now"))
    def recompute(self, request, queryset):
        from django.db import transaction

        from sales.tasks import tiers_recompute_task

        transaction.on_commit(tiers_recompute_task.delay)
        self.message_user(request, _("The tiers are being recomputed."), messages.INFO)


@admin.register(models.ContactTier)
class ContactTierAdmin(admin.ModelAdmin):
    """Who holds which tier: written by the nightly recompute only."""

    list_display = ["contact", "tier", "since"]
    list_filter = ["tier"]
    search_fields = ["contact__display_name"]
    list_select_related = ["contact", "tier"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(models.TierChange)
class TierChangeAdmin(admin.ModelAdmin):
    list_display = ["at", "contact", "from_tier", "to_tier", "spend", "purchase_count"]
    list_filter = ["to_tier", "from_tier"]
    search_fields = ["contact__display_name"]
    date_hierarchy = "at"
    list_select_related = ["contact", "from_tier", "to_tier"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class RewardCodeAddForm(forms.ModelForm):
    class Meta:
        model = models.RewardCode
        fields = ["contact", "kind", "value", "currency", "expires_at", "reason"]

    def clean_expires_at(self):
        expires_at = self.cleaned_data["expires_at"]
        if expires_at <= timezone.now():
            raise forms.ValidationError(_("A code must expire in the future."))
        return expires_at


@admin.register(models.RewardCode)
class RewardCodeAdmin(admin.ModelAdmin):
    """Reward codes. A new one is issued through sales.loyalty.code_issue (random code, timeline
    item); afterwards a code does not change: it is redeemed on its order's page."""

    list_display = ["code", "contact", "kind", "value", "currency", "expires_at", "redeemed_at", "redeemed_order"]
    list_filter = ["kind", "tier", ("redeemed_at", admin.EmptyFieldListFilter)]
    search_fields = ["code", "contact__display_name"]
    date_hierarchy = "issued_at"
    autocomplete_fields = ["contact"]
    list_select_related = ["contact", "redeemed_order"]
    show_full_result_count = False
    readonly_fields = [
        "code",
        "contact",
        "kind",
        "value",
        "currency",
        "expires_at",
        "tier",
        "reason",
        "issued_at",
        "issued_by",
        "redeemed_at",
        "redeemed_order",
        "redeemed_by",
        "discount_amount",
    ]

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = RewardCodeAddForm
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else []

    def get_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else RewardCodeAddForm._meta.fields

    def has_change_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        from sales.loyalty import code_issue

        issued = code_issue(
            contact=obj.contact,
            by=request.user,
            kind=obj.kind,
            value=obj.value,
            currency=obj.currency,
            expires_at=obj.expires_at,
            reason=obj.reason,
        )
        obj.pk, obj.code = issued.pk, issued.code
