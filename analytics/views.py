"""Report pages for managers (and reps, for their own records)."""

from django.utils.formats import date_format
from django.views.generic import TemplateView

from analytics.selectors import overview


class ReportsView(TemplateView):
    template_name = "analytics/reports.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        data = overview(user=self.request.user)
        context.update(data)
        context["charts"] = {
            "new_contacts": {
                "labels": [date_format(row["month"], "M Y") for row in data["new_contacts"]],
                "values": [row["count"] for row in data["new_contacts"]],
            },
            "phases": {
                "labels": [str(row["label"]) for row in data["phases"]],
                "values": [row["count"] for row in data["phases"]],
            },
        }
        return context
