"""What the pages of every import job share, contacts' and orders' alike: the job's state, the progress
fragment its page polls, the rejected lines as CSV, and resuming a failed job."""

import csv

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from contacts import export


def running(job) -> bool:
    return job.status in (job.Status.QUEUED, job.Status.RUNNING)


def job_state(job) -> dict:
    """The job, how far it is, and whether it runs or may be resumed: what its page and fragment show."""
    return {
        "job": job,
        "percent": round(100 * job.processed_rows / job.total_rows) if job.total_rows else 0,
        "running": running(job),
        "can_resume": job.status == job.Status.FAILED,
    }


def progress_fragment(request, template: str, job, context: dict):
    """The state of a job, polled by its page every second while it runs (htmx); when it finished while
    the page watched, the page reloads so that what only a finished job shows appears."""
    response = render(request, template, context)
    if request.htmx and not running(job) and request.GET.get("was") == "running":
        response["HX-Refresh"] = "true"
    return response


class _Echo:
    """A file for csv.writer that hands each line back instead of storing it."""

    def write(self, value):
        return value


def rejected_lines_csv(rows, *, filename: str) -> StreamingHttpResponse:
    """`rows` (a queryset of the job's rejected row results) as a CSV of line number and reason, streamed;
    cells a spreadsheet would run as a formula are neutralised as in every export."""
    writer = csv.writer(_Echo())

    def line(cells) -> str:
        return writer.writerow([export.neutralise(str(cell)) for cell in cells])

    def lines():
        yield "\ufeff" + line([_("Line"), _("Reason")])
        for number, message in rows.order_by("line").values_list("line", "message").iterator(chunk_size=2000):
            yield line([number, message])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def act_and_return(request, job, action, done: str):
    """Run `action(job=…, by=…)` (resume, revert) and go back to the job's page saying what happened:
    `done`, or why the action was refused."""
    try:
        action(job=job, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, done)
    return redirect(job)


def resume_and_return(request, job, resume):
    """Resume a failed job and go back to its page."""
    return act_and_return(request, job, resume, _("The import continues where it stopped."))
