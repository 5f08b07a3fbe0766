"""Forms of the sales app: products and their relations, orders with their lines, status changes."""

import datetime
from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from contacts.forms_work import LocalDateTimeInput
from sales.models import ZERO, OrderChannel, Product, RelationKind

MAX_LINES = 50
EXTRA_LINES = 3


def _now_to_the_minute() -> datetime.datetime:
    return timezone.localtime().replace(second=0, microsecond=0)


class ProductForm(forms.Form):
    """The catalogue's fields; validated again (SKU unique, price) by the product services."""

    FIELDS = ["sku", "name", "category", "unit_price", "currency", "active", "description"]

    sku = forms.CharField(label=_("SKU"), max_length=64)
    name = forms.CharField(label=_("Name"), max_length=200)
    category = forms.CharField(label=_("Category"), max_length=100, required=False)
    unit_price = forms.DecimalField(label=_("Unit price"), min_value=ZERO, max_digits=12, decimal_places=2)
    currency = forms.CharField(label=_("Currency"), max_length=3, min_length=3)
    active = forms.BooleanField(label=_("On sale"), required=False, initial=True)
    description = forms.CharField(label=_("Description"), widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def __init__(self, *args, product: Product | None = None, **kwargs):
        from sales.models import default_currency

        if product is not None:
            kwargs.setdefault("initial", {name: getattr(product, name) for name in self.FIELDS})
        super().__init__(*args, **kwargs)
        self.fields["currency"].initial = product.currency if product else default_currency()

    def clean_currency(self):
        return _clean_currency(self.cleaned_data["currency"])


def _clean_currency(value: str) -> str:
    currency = value.strip().upper()
    if not currency.isascii() or not currency.isalpha() or len(currency) != 3:
        raise forms.ValidationError(_("A currency is a three-letter ISO code, e.g. INR."))
    return currency


class RelationForm(forms.Form):
    """Set by hand: who buys this product should be offered another one."""

    to_product = forms.ModelChoiceField(label=_("Offer"), queryset=Product.objects.none())
    kind = forms.ChoiceField(label=_("As"), choices=RelationKind.choices)

    def __init__(self, *args, product: Product, **kwargs):
        kwargs.setdefault("auto_id", "id_relation_%s")
        super().__init__(*args, **kwargs)
        self.fields["to_product"].queryset = Product.objects.filter(active=True).exclude(pk=product.pk)


class AcceptForm(forms.Form):
    kind = forms.ChoiceField(label=_("As"), choices=RelationKind.choices, initial=RelationKind.CROSS_SELL)


class ContactPickForm(forms.Form):
    q = forms.CharField(label=_("Whose order is it? Search a contact"), max_length=100, required=False)


class OrderForm(forms.Form):
    placed_at = forms.DateTimeField(label=_("Placed"), widget=LocalDateTimeInput(), initial=_now_to_the_minute)
    channel = forms.ChoiceField(label=_("Channel"), choices=OrderChannel.choices, initial=OrderChannel.STORE)
    currency = forms.CharField(label=_("Currency"), max_length=3, min_length=3)
    reference = forms.CharField(label=_("Reference"), max_length=64, required=False)
    note = forms.CharField(label=_("Note"), max_length=500, required=False)
    paid = forms.BooleanField(label=_("Paid already (a shop sale)"), required=False)

    def __init__(self, *args, **kwargs):
        from sales.models import default_currency

        super().__init__(*args, **kwargs)
        self.fields["currency"].initial = default_currency()

    def clean_currency(self):
        return _clean_currency(self.cleaned_data["currency"])


class OrderLineForm(forms.Form):
    product = forms.TypedChoiceField(label=_("Product"), coerce=int, required=False, empty_value=None)
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1, max_value=1_000_000, required=False)
    unit_price = forms.DecimalField(
        label=_("Unit price"),
        min_value=ZERO,
        max_digits=12,
        decimal_places=2,
        required=False,
        help_text=_("Empty: the product's price."),
    )
    discount = forms.DecimalField(label=_("Discount"), min_value=ZERO, max_digits=12, decimal_places=2, required=False)

    def __init__(self, *args, product_choices=(), products=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.products = products or {}
        self.fields["product"].choices = [("", "—"), *product_choices]
        # The lines are a table rendered field by field (not by crispy), so they carry Bootstrap's classes.
        for name, field in self.fields.items():
            field.widget.attrs["class"] = "form-select" if name == "product" else "form-control"
            field.widget.attrs["aria-label"] = field.label

    def clean(self):
        data = super().clean()
        if data.get("product") is None:
            if any(data.get(name) not in (None, "") for name in ("quantity", "unit_price", "discount")):
                self.add_error("product", _("Choose the product of this line."))
            return data
        data["product"] = self.products[data["product"]]
        data["quantity"] = data.get("quantity") or 1
        data["discount"] = data.get("discount") or Decimal("0")
        return data

    @property
    def line(self) -> dict | None:
        data = getattr(self, "cleaned_data", {})
        if not data or data.get("product") is None:
            return None
        return {name: data[name] for name in ("product", "quantity", "unit_price", "discount")}


class BaseOrderLineFormSet(forms.BaseFormSet):
    def __init__(self, *args, **kwargs):
        # The catalogue's choices are read once for all the lines, not once per line.
        products = {product.pk: product for product in Product.objects.filter(active=True).order_by("name", "id")}
        choices = [(pk, f"{product.name} · {product.sku}") for pk, product in products.items()]
        kwargs["form_kwargs"] = {"product_choices": choices, "products": products}
        super().__init__(*args, **kwargs)

    def clean(self):
        if any(self.errors):
            return
        if not self.lines:
            raise forms.ValidationError(_("An order needs at least one line: choose a product."))

    @property
    def lines(self) -> list[dict]:
        return [form.line for form in self.forms if form.line is not None]


OrderLineFormSet = forms.formset_factory(
    OrderLineForm,
    formset=BaseOrderLineFormSet,
    extra=EXTRA_LINES,
    max_num=MAX_LINES,
    validate_max=True,
    absolute_max=MAX_LINES,
)


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500, required=False)


class OrderImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file of orders"),
        help_text=_(
            "One line per order line. Columns: contact_email, placed_at, sku (required); quantity, unit_price, "
            "discount, reference, channel, status, currency, paid_at (optional)."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,.tsv,text/csv"}),
    )
