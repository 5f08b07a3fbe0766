"""Pages of importing and exporting contacts: upload, mapping, the job and its progress, errors, revert, export."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.generic import ListView

from contacts import export, selectors
from contacts.filters import ContactFilter
from contacts.forms_imports import ImportMappingForm, ImportRevertForm, ImportUploadForm
from contacts.importers import decoding, pages
from contacts.importers.job import (
    import_prepare,
    import_resume,
    import_revert,
    import_start,
    job_fields,
    job_headers,
    job_preview,
)
from contacts.importers.mapping import active_custom_fields
from contacts.models import ImportJob, ImportRowResult

ERRORS_SHOWN = 20


def _job_of(request, pk: int) -> ImportJob:
    return get_object_or_404(ImportJob.objects.visible_to(request.user).select_related("owner"), pk=pk)


class ImportListView(ListView):
    template_name = "contacts/imports/list.html"
    context_object_name = "jobs"
    paginate_by = 50

    def get_queryset(self):
        return ImportJob.objects.visible_to(self.request.user).select_related("owner").order_by("-created_at", "-id")


@require_http_methods(["GET", "POST"])
def import_new(request):
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = import_prepare(
                owner=request.user, upload=form.cleaned_data["file"], on_duplicate=form.cleaned_data["on_duplicate"]
            )
        except ValidationError as error:
            form.add_error("file", error)
        else:
            return redirect("contacts:import_mapping", pk=job.pk)
    limits = {"max_mb": round(settings.IMPORT_MAX_BYTES / 2**20), "max_rows": settings.IMPORT_MAX_ROWS}
    return render(request, "contacts/imports/new.html", {"form": form, **limits})


@require_http_methods(["GET", "POST"])
def import_mapping(request, pk: int):
    job = _job_of(request, pk)
    if job.status != ImportJob.Status.MAPPING:
        return redirect(job)
    custom_fields = active_custom_fields()
    headers = job_headers(job)
    form = ImportMappingForm(
        request.POST or None, headers=headers, initial_fields=job_fields(job), custom_fields=custom_fields
    )
    if request.method == "POST" and form.is_valid():
        try:
            import_start(job=job, fields=form.chosen_fields(), by=request.user)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("The import has started."))
            return redirect(job)
    preview = job_preview(job)
    columns = [
        {"field": bound, "header": header, "samples": [record.cells[n] for record in preview[:3] if record.cells[n]]}
        for n, (bound, header) in enumerate(form.columns())
    ]
    context = {
        "job": job,
        "form": form,
        "columns": columns,
        "headers": headers,
        "preview": preview,
        "encoding_notice": decoding.fallback_notice(job.encoding),
    }
    return render(request, "contacts/imports/mapping.html", context)


def _job_context(job: ImportJob) -> dict:
    return {**pages.job_state(job), "can_revert": job.status in (ImportJob.Status.DONE, ImportJob.Status.FAILED)}


@require_GET
def import_detail(request, pk: int):
    job = _job_of(request, pk)
    rejected = list(job.rows.filter(action=ImportRowResult.Action.REJECTED).order_by("line")[:ERRORS_SHOWN])
    context = {
        **_job_context(job),
        "rejected": rejected,
        "encoding_notice": decoding.fallback_notice(job.encoding),
    }
    return render(request, "contacts/imports/detail.html", context)


@require_GET
def import_progress(request, pk: int):
    job = _job_of(request, pk)
    return pages.progress_fragment(request, "contacts/imports/_progress.html", job, _job_context(job))


@require_GET
def import_errors(request, pk: int):
    """The rejected lines of a job as CSV: line number in the file and the reason."""
    job = _job_of(request, pk)
    rows = job.rows.filter(action=ImportRowResult.Action.REJECTED)
    return pages.rejected_lines_csv(rows, filename=f"import-{job.pk}-errors.csv")


@require_http_methods(["GET", "POST"])
def import_revert_view(request, pk: int):
    job = _job_of(request, pk)
    form = ImportRevertForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        return pages.act_and_return(request, job, import_revert, _("The import was reverted."))
    return render(request, "contacts/imports/revert.html", {**_job_context(job), "form": form})


@require_POST
def import_resume_view(request, pk: int):
    return pages.resume_and_return(request, _job_of(request, pk), import_resume)


@require_GET
def contact_export(request):
    """The contact list as the user filtered it (same query string), as CSV or vCard 3.0, streamed."""
    kind = request.GET.get("format", "csv")
    if kind not in ("csv", "vcard"):
        return HttpResponseBadRequest(_("Unknown export format: use csv or vcard."))
    filterset = ContactFilter(request.GET, queryset=selectors.contact_list(user=request.user), request=request)
    contacts = filterset.qs
    stamp = timezone.localdate().isoformat()
    if kind == "vcard":
        response = StreamingHttpResponse(export.vcard_chunks(contacts), content_type="text/vcard; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="contacts-{stamp}.vcf"'
    else:
        response = StreamingHttpResponse(export.csv_chunks(contacts), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="contacts-{stamp}.csv"'
    return response


urlpatterns = [
    path("imports/", ImportListView.as_view(), name="import_list"),
    path("imports/new/", import_new, name="import_new"),
    path("imports/<int:pk>/", import_detail, name="import_detail"),
    path("imports/<int:pk>/mapping/", import_mapping, name="import_mapping"),
    path("imports/<int:pk>/progress/", import_progress, name="import_progress"),
    path("imports/<int:pk>/errors.csv", import_errors, name="import_errors"),
    path("imports/<int:pk>/revert/", import_revert_view, name="import_revert"),
    path("imports/<int:pk>/resume/", import_resume_view, name="import_resume"),
    path("contacts/export/", contact_export, name="contact_export"),
]
