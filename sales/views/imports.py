"""Pages of importing orders from CSV: the upload, the job and its progress, the rejected lines, resuming."""

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from contacts.importers import decoding, pages
from sales.forms import OrderImportForm
from sales.importer import COLUMNS, REQUIRED, order_import_prepare, order_import_resume
from sales.models import OrderImport, OrderImportRow

ERRORS_SHOWN = 20
RECENT_JOBS = 20


def _job_of(request, pk: int) -> OrderImport:
    return get_object_or_404(OrderImport.objects.visible_to(request.user).select_related("owner"), pk=pk)


@require_http_methods(["GET", "POST"])
def order_import_new(request):
    form = OrderImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = order_import_prepare(owner=request.user, upload=form.cleaned_data["file"])
        except ValidationError as error:
            form.add_error("file", error)
        else:
            return redirect(job)
    jobs = OrderImport.objects.visible_to(request.user).select_related("owner")[:RECENT_JOBS]
    context = {"form": form, "jobs": jobs, "columns": list(COLUMNS), "required": REQUIRED}
    return render(request, "sales/imports/new.html", context)


@require_GET
def order_import_detail(request, pk: int):
    job = _job_of(request, pk)
    rejected = list(job.rows.filter(action=OrderImportRow.Action.REJECTED).order_by("line")[:ERRORS_SHOWN])
    context = {**pages.job_state(job), "rejected": rejected, "encoding_notice": decoding.fallback_notice(job.encoding)}
    return render(request, "sales/imports/detail.html", context)


@require_GET
def order_import_progress(request, pk: int):
    job = _job_of(request, pk)
    return pages.progress_fragment(request, "sales/imports/progress.html", job, pages.job_state(job))


@require_GET
def order_import_errors(request, pk: int):
    """The rejected lines of a job as CSV: line number in the file and the reason."""
    job = _job_of(request, pk)
    rows = job.rows.filter(action=OrderImportRow.Action.REJECTED)
    return pages.rejected_lines_csv(rows, filename=f"order-import-{job.pk}-errors.csv")


@require_POST
def order_import_resume_view(request, pk: int):
    return pages.resume_and_return(request, _job_of(request, pk), order_import_resume)


urlpatterns = [
    path("orders/import/", order_import_new, name="order_import_new"),
    path("orders/import/<int:pk>/", order_import_detail, name="order_import_detail"),
    path("orders/import/<int:pk>/progress/", order_import_progress, name="order_import_progress"),
    path("orders/import/<int:pk>/errors.csv", order_import_errors, name="order_import_errors"),
    path("orders/import/<int:pk>/resume/", order_import_resume_view, name="order_import_resume"),
]
