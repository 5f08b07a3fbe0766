"""Pages of the crm app: dashboard, preferences, language switch, health check."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponseRedirect, JsonResponse
from django.urls import reverse_lazy
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from django.views.generic import TemplateView, UpdateView

from contacts.selectors import contact_list, phase_counts
from contacts.selectors_work import my_due_tasks
from crm import health
from crm.forms import PreferencesForm
from crm.selectors import dashboard_counts, team_overview


class DashboardView(TemplateView):
    template_name = "crm/dashboard.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        context = super().get_context_data(**kwargs)
        context["counts"] = dashboard_counts(user=user)
        context["phases"] = phase_counts(user=user)
        context["recent_contacts"] = contact_list(user=user).filter(owner=user).order_by("-updated_at", "-id")[:10]
        context["due_tasks"] = my_due_tasks(user=user)
        if user.is_crm_admin or user.is_manager:
            context["team"] = team_overview(user=user)
        return context


class PreferencesView(UpdateView):
    form_class = PreferencesForm
    template_name = "crm/preferences.html"
    success_url = reverse_lazy("preferences")

    def get_object(self, queryset=None):
        return self.request.user

    def form_valid(self, form):
        response = super().form_valid(form)
        translation.activate(form.instance.language)
        messages.success(self.request, _("Your preferences are saved."))
        response.set_cookie(settings.LANGUAGE_COOKIE_NAME, form.instance.language, samesite="Lax")
        return response


@require_POST
@login_not_required
def set_language(request):
    """Switch the interface language; remembered on the user's profile when signed in."""
    language = request.POST.get("language", "")
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, require_https=request.is_secure()):
        next_url = "/"
    response = HttpResponseRedirect(next_url)
    if language in dict(settings.LANGUAGES):
        if request.user.is_authenticated:
            request.user.language = language
            request.user.save(update_fields=["language"])
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            language,
            max_age=settings.LANGUAGE_COOKIE_AGE,
            samesite=settings.LANGUAGE_COOKIE_SAMESITE,
            secure=settings.LANGUAGE_COOKIE_SECURE,
        )
    return response


@require_GET
@never_cache
@login_not_required
def healthz(request):
    state = health.health()
    return JsonResponse(
        {"status": "ok" if all(state.values()) else "fail", **state}, status=200 if all(state.values()) else 503
    )
