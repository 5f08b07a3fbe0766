"""Pages of the catalogue: the product list, a product with its relations and suggestions, editing.

Everyone signed in reads the catalogue; managers and admins change it and decide on suggestions
(others get a 404 for those pages, as for any page they may not use)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_filters.views import FilterView

from sales import selectors, services
from sales.filters import ProductFilter
from sales.forms import AcceptForm, ProductForm, RelationForm
from sales.models import Product, ProductRelation


def can_edit_catalogue(user) -> bool:
    return user.is_authenticated and (user.is_crm_admin or user.is_manager)


def _require_editor(request) -> None:
    if not can_edit_catalogue(request.user):
        raise Http404


class ProductListView(FilterView):
    filterset_class = ProductFilter
    template_name = "sales/product_list.html"
    paginate_by = 50
    strict = False

    def get_queryset(self):
        return selectors.product_list().order_by("name", "id")

    def get_template_names(self):
        if self.request.htmx:
            return ["sales/partials/product_rows.html"]
        return [self.template_name]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["can_edit"] = can_edit_catalogue(self.request.user)
        return context


def _detail_context(request, product: Product, **forms) -> dict:
    editor = can_edit_catalogue(request.user)
    return {
        "product": product,
        "relations": selectors.product_relations(product=product),
        "can_edit": editor,
        "relation_form": forms.get("relation_form") or (RelationForm(product=product) if editor else None),
        "accept_form": AcceptForm(),
    }


@require_GET
def product_detail(request, pk: int):
    product = get_object_or_404(selectors.product_list(), pk=pk)
    return render(request, "sales/product_detail.html", _detail_context(request, product))


@require_http_methods(["GET", "POST"])
def product_edit(request, pk: int | None = None):
    _require_editor(request)
    product = get_object_or_404(selectors.product_list(), pk=pk) if pk else None
    form = ProductForm(request.POST or None, product=product)
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in form.FIELDS}
        try:
            if product is None:
                product = services.product_create(by=request.user, **data)
            else:
                services.product_update(product=product, by=request.user, **data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("The product is saved."))
            return redirect(product)
    return render(request, "sales/product_form.html", {"form": form, "product": product})


@require_POST
def relation_add(request, pk: int):
    _require_editor(request)
    product = get_object_or_404(selectors.product_list(), pk=pk)
    form = RelationForm(request.POST, product=product)
    if form.is_valid():
        try:
            services.product_relation_set(
                from_product=product,
                to_product=form.cleaned_data["to_product"],
                kind=form.cleaned_data["kind"],
                by=request.user,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("The relation is saved."))
            return redirect(product)
    return render(request, "sales/product_detail.html", _detail_context(request, product, relation_form=form))


def _relation_of(request, pk: int, relation_pk: int) -> ProductRelation:
    return get_object_or_404(
        ProductRelation.objects.select_related("from_product", "to_product"), pk=relation_pk, from_product_id=pk
    )


def _relation_answer(request, relation: ProductRelation, *, done: bool, text: str):
    """htmx swaps the suggestion's row for its new state; without JavaScript, back to the page."""
    if request.htmx:
        relation.refresh_from_db()
        return render(request, "sales/partials/suggestion_row.html", {"relation": relation, "can_edit": True})
    if done:
        messages.success(request, text)
    return redirect(relation.from_product)


@require_POST
def suggestion_accept(request, pk: int, relation_pk: int):
    _require_editor(request)
    relation = _relation_of(request, pk, relation_pk)
    form = AcceptForm(request.POST)
    kind = form.cleaned_data["kind"] if form.is_valid() else AcceptForm.base_fields["kind"].initial
    done = services.product_relation_accept(relation=relation, by=request.user, kind=kind)
    text = _("Accepted: buyers of %(from)s will be offered %(to)s.") % _names(relation)
    return _relation_answer(request, relation, done=done, text=text)


@require_POST
def suggestion_dismiss(request, pk: int, relation_pk: int):
    _require_editor(request)
    relation = _relation_of(request, pk, relation_pk)
    done = services.product_relation_dismiss(relation=relation, by=request.user)
    return _relation_answer(request, relation, done=done, text=_("Dismissed; it will not be suggested again."))


@require_POST
def relation_remove(request, pk: int, relation_pk: int):
    _require_editor(request)
    relation = _relation_of(request, pk, relation_pk)
    services.product_relation_remove(relation=relation, by=request.user)
    messages.info(request, _("Buyers of %(from)s will no longer be offered %(to)s.") % _names(relation))
    return redirect(relation.from_product)


def _names(relation: ProductRelation) -> dict:
    return {"from": relation.from_product.name, "to": relation.to_product.name}


urlpatterns = [
    path("products/", ProductListView.as_view(), name="product_list"),
    path("products/new/", product_edit, name="product_create"),
    path("products/<int:pk>/", product_detail, name="product_detail"),
    path("products/<int:pk>/edit/", product_edit, name="product_edit"),
    path("products/<int:pk>/relations/", relation_add, name="product_relation_add"),
    path("products/<int:pk>/relations/<int:relation_pk>/accept/", suggestion_accept, name="product_suggestion_accept"),
    path(
        "products/<int:pk>/relations/<int:relation_pk>/dismiss/", suggestion_dismiss, name="product_suggestion_dismiss"
    ),
    path("products/<int:pk>/relations/<int:relation_pk>/remove/", relation_remove, name="product_relation_remove"),
]
