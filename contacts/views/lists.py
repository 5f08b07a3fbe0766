"""The contact and company lists: filters, search, sortable columns, keyset paging, saved views and
bulk actions on the selected rows."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST
from django.views.generic import View

from contacts import selectors, services
from contacts.filters import CompanyFilter, ContactFilter, clean_query
from contacts.forms_lists import VIEW_PARAMETERS, BulkAction, BulkActionForm, ListOptionsForm, SavedViewForm
from contacts.models import Company, Contact, SavedView
from contacts.paging import Cursor, keyset_page


class KeysetListView(View):
    """A filtered list sorted by one column and paged by key; htmx asks for the rows part only."""

    model = None
    filterset_class = None
    list_name = ""
    url_name = ""
    template_name = ""
    rows_template = ""
    rows_id = ""  # the element htmx swaps
    sorts: dict = {}
    default_sort = "name"
    # The direction a column's first click sorts in: newest first for dates.
    first_click = {}

    def get_queryset(self):
        raise NotImplementedError

    def filterset(self, data):
        return self.filterset_class(data, queryset=self.get_queryset(), request=self.request)

    def columns(self, current: str) -> dict:
        columns = {}
        for key in self.sorts:
            if key.startswith("-"):
                continue
            if current == key:
                columns[key] = {"next": f"-{key}", "state": "ascending"}
            elif current == f"-{key}":
                columns[key] = {"next": key, "state": "descending"}
            else:
                columns[key] = {"next": self.first_click.get(key, key), "state": ""}
        return columns

    def get(self, request):
        filterset = self.filterset(request.GET or None)
        options = ListOptionsForm(request.GET, sorts=self.sorts, default_sort=self.default_sort)
        sort, size = options.chosen()
        after = Cursor.decode(request.GET.get("after", ""), sort=sort, model=self.model)
        before = None if after else Cursor.decode(request.GET.get("before", ""), sort=sort, model=self.model)
        page = keyset_page(filterset.qs, sort=sort, size=size, after=after, before=before)
        view_query = clean_query(filterset, request.GET, extra=VIEW_PARAMETERS)
        view_query.pop("ids", None)
        context = {
            "filter": filterset,
            "options": options,
            "page": page,
            "object_list": page.rows,
            "sort": sort.key,
            "columns": self.columns(sort.key),
            "list_name": self.list_name,
            "list_url": reverse(self.url_name),
            "rows_id": self.rows_id,
            "export_query": clean_query(filterset, request.GET),
            "view_query": view_query.urlencode(),
            "saved_views": selectors.saved_views_of(user=request.user, list_name=self.list_name),
            **self.extra_context(),
        }
        template = self.rows_template if request.htmx else self.template_name
        return render(request, template, context)

    def extra_context(self) -> dict:
        return {}


class ContactListView(KeysetListView):
    model = Contact
    filterset_class = ContactFilter
    list_name = SavedView.ListName.CONTACTS
    url_name = "contacts:contact_list"
    template_name = "contacts/contact_list.html"
    rows_template = "contacts/partials/contact_rows.html"
    rows_id = "contact-rows"
    sorts = selectors.CONTACT_SORTS
    first_click = {"activity": "-activity", "created": "-created"}

    def get_queryset(self):
        return selectors.contact_list_rows(user=self.request.user)

    def extra_context(self) -> dict:
        return {"bulk_form": BulkActionForm(user=self.request.user, initial={"query": self.request.GET.urlencode()})}


class CompanyListView(KeysetListView):
    model = Company
    filterset_class = CompanyFilter
    list_name = SavedView.ListName.COMPANIES
    url_name = "contacts:company_list"
    template_name = "contacts/company_list.html"
    rows_template = "contacts/partials/company_rows.html"
    rows_id = "company-rows"
    sorts = selectors.COMPANY_SORTS
    first_click = {"activity": "-activity"}

    def get_queryset(self):
        return selectors.company_list_rows(user=self.request.user)


LISTS = {view.list_name: view for view in (ContactListView, CompanyListView)}


def _list_of(request, list_name: str) -> KeysetListView:
    if list_name not in LISTS:
        raise Http404
    view = LISTS[list_name]()
    view.request = request
    return view


def _back_to(list_view: KeysetListView, query: str) -> str:
    """The list page of `query`, keeping only what the list reads (and where the user was in it)."""
    data = QueryDict(query)
    kept = clean_query(list_view.filterset(data), data, extra=(*VIEW_PARAMETERS, "after", "before"))
    url = reverse(list_view.url_name)
    return f"{url}?{kept.urlencode()}" if kept else url


# Bulk actions --------------------------------------------------------------------------


@require_POST
def contact_bulk(request):
    """One action on the contacts ticked on the list; ids of contacts the user may not see are ignored."""
    form = BulkActionForm(request.POST, user=request.user)
    back = _back_to(_list_of(request, SavedView.ListName.CONTACTS), request.POST.get("bulk-query", ""))
    if not form.is_valid():
        messages.error(request, form.error_text())
        return redirect(back)
    action, ids = form.cleaned_data["action"], form.cleaned_data["ids"]
    if action in (BulkAction.EXPORT_CSV, BulkAction.EXPORT_VCARD):
        kind = "csv" if action == BulkAction.EXPORT_CSV else "vcard"
        query = urlencode({"ids": ",".join(map(str, ids)), "format": kind})
        return redirect(f"{reverse('contacts:contact_export')}?{query}")
    try:
        if action == BulkAction.ASSIGN_OWNER:
            changed = services.contact_bulk_assign(by=request.user, ids=ids, owner=form.cleaned_data["owner"])
        elif action == BulkAction.CHANGE_PHASE:
            changed = services.contact_bulk_phase(
                by=request.user, ids=ids, phase=form.cleaned_data["phase"], reason=form.cleaned_data["reason"]
            )
        else:
            changed = services.contact_bulk_tag(
                by=request.user, ids=ids, tag=form.cleaned_data["tag"], add=action == BulkAction.ADD_TAG
            )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(back)
    messages.success(
        request,
        ngettext(
            "%(changed)d of the %(selected)d selected contact changed.",
            "%(changed)d of the %(selected)d selected contacts changed.",
            len(ids),
        )
        % {"changed": changed, "selected": len(ids)},
    )
    return redirect(back)


# Saved views ---------------------------------------------------------------------------


@require_POST
def saved_view_create(request, list_name: str):
    """Save the list's current filters under a name; only the list's own parameters are kept."""
    list_view = _list_of(request, list_name)
    form = SavedViewForm(request.POST)
    raw = QueryDict(request.POST.get("query", ""))
    query = clean_query(list_view.filterset(raw), raw, extra=VIEW_PARAMETERS)
    query.pop("ids", None)
    filterset = list_view.filterset(query)
    options = ListOptionsForm(query, sorts=list_view.sorts, default_sort=list_view.default_sort)
    back = f"{reverse(list_view.url_name)}?{query.urlencode()}" if query else reverse(list_view.url_name)
    if not form.is_valid():
        messages.error(request, " ".join(" ".join(errors) for errors in form.errors.values()))
        return redirect(back)
    if not filterset.is_valid() or not options.is_valid():
        messages.error(request, _("This view has filters that are not valid; correct them before saving it."))
        return redirect(back)
    try:
        view, created = services.saved_view_save(
            user=request.user, list_name=list_name, name=form.cleaned_data["name"], query=query.urlencode()
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(back)
    if created:
        messages.success(request, _("View “%(name)s” saved.") % {"name": view.name})
    else:
        messages.success(request, _("View “%(name)s” replaced with these filters.") % {"name": view.name})
    return redirect(back)


def _saved_view_of(request, pk: int) -> SavedView:
    return get_object_or_404(SavedView.objects.filter(user=request.user), pk=pk)


@require_GET
def saved_view_detail(request, pk: int):
    view = _saved_view_of(request, pk)
    list_url = reverse(LISTS[view.list_name].url_name)
    return render(request, "contacts/saved_view.html", {"view": view, "list_url": list_url})


@require_POST
def saved_view_delete(request, pk: int):
    view = _saved_view_of(request, pk)
    list_url = reverse(LISTS[view.list_name].url_name)
    services.saved_view_delete(view=view)
    messages.success(request, _("View “%(name)s” deleted.") % {"name": view.name})
    return redirect(list_url)


urlpatterns = [
    path("contacts/", ContactListView.as_view(), name="contact_list"),
    path("contacts/bulk/", contact_bulk, name="contact_bulk"),
    path("companies/", CompanyListView.as_view(), name="company_list"),
    path("lists/<str:list_name>/saved-views/", saved_view_create, name="saved_view_create"),
    path("saved-views/<int:pk>/", saved_view_detail, name="saved_view_detail"),
    path("saved-views/<int:pk>/delete/", saved_view_delete, name="saved_view_delete"),
]
