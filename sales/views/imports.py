"""Pages of importing orders from CSV: the upload, the job and its progress, the rejected lines, resuming."""

import csv

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from contacts import export
from contacts.importers import decoding
from sales.forms import OrderImportForm
from sales.importer import COLUMNS, REQUIRED, order_import_prepare, order_import_resume
from sales.models import OrderImport, OrderImportRow

ERRORS_SHOWN = 20
RECENT_JOBS = 20
RUNNING = (OrderImport.Status.QUEUED, OrderImport.Status.RUNNING)


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


def _job_context(job: OrderImport) -> dict:
    percent = round(100 * job.processed_rows / job.total_rows) if job.total_rows else 0
    return {
        "job": job,
        "percent": percent,
        "running": job.status in RUNNING,
        "can_resume": job.status == OrderImport.Status.FAILED,
    }


@require_GET
def order_import_detail(request, pk: int):
    job = _job_of(request, pk)
    rejected = list(job.rows.filter(action=OrderImportRow.Action.REJECTED).order_by("line")[:ERRORS_SHOWN])
    context = {**_job_context(job), "rejected": rejected, "encoding_notice": decoding.fallback_notice(job.encoding)}
    return render(request, "sales/imports/detail.html", context)


@require_GET
def order_import_progress(request, pk: int):
    """The state of a job, polled by its page every second while it runs (htmx)."""
    job = _job_of(request, pk)
    response = render(request, "sales/imports/progress.html", _job_context(job))
    if request.htmx and job.status not in RUNNING and request.GET.get("was") == "running":
        # Finished while the page watched: reload it, so the rejected lines show.
        response["HX-Refresh"] = "true"
    return response


class _Echo:
    def write(self, value):
        return value


def _csv_line(writer, row) -> str:
    return writer.writerow([export.neutralise(str(cell)) for cell in row])


@require_GET
def order_import_errors(request, pk: int):
    """The rejected lines of a job as CSV: line number in the file and the reason."""
    job = _job_of(request, pk)
    rows = job.rows.filter(action=OrderImportRow.Action.REJECTED).order_by("line").values_list("line", "message")
    writer = csv.writer(_Echo())

    def lines():
        yield "\ufeff" + _csv_line(writer, [_("Line"), _("Reason")])
        for line, message in rows.iterator(chunk_size=2000):
            yield _csv_line(writer, [line, message])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="order-import-{job.pk}-errors.csv"'
    return response


@require_POST
def order_import_resume_view(request, pk: int):
    job = _job_of(request, pk)
    try:
        order_import_resume(job=job, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The import continues where it stopped."))
    return redirect(job)


urlpatterns = [
    path("orders/import/", order_import_new, name="order_import_new"),
    path("orders/import/<int:pk>/", order_import_detail, name="order_import_detail"),
    path("orders/import/<int:pk>/progress/", order_import_progress, name="order_import_progress"),
    path("orders/import/<int:pk>/errors.csv", order_import_errors, name="order_import_errors"),
    path("orders/import/<int:pk>/resume/", order_import_resume_view, name="order_import_resume"),
]
