"""Campaign pages."""

from django.views.generic import TemplateView

from contacts.selectors import contact_list


class CampaignIndexView(TemplateView):
    """The campaigns home: for now, the audience a campaign could reach."""

    template_name = "campaigns/index.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["reachable_by_email"] = contact_list(user=self.request.user).exclude(email="").count()
        return context
