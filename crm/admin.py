from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from crm.models import Team, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "email", "first_name", "last_name", "role", "language", "is_active", "is_staff"]
    list_filter = ["role", "language", "is_active", "is_staff", "teams"]
    search_fields = ["username", "email", "first_name", "last_name"]
    fieldsets = [
        *BaseUserAdmin.fieldsets,
        (_("CRM"), {"fields": ["role", "language", "time_zone"]}),
    ]
    add_fieldsets = [
        *BaseUserAdmin.add_fieldsets,
        (_("CRM"), {"fields": ["email", "first_name", "last_name", "role", "language", "time_zone"]}),
    ]
    actions = ["deactivate_and_hand_over"]

    @admin.action(description=_("Deactivate and hand over records"), permissions=["change"])
    def deactivate_and_hand_over(self, request, queryset):
        return self._hand_over(request, list(queryset), from_action=True)

    def get_urls(self):
        hand_over = path(
            "<int:pk>/hand-over/", self.admin_site.admin_view(self.hand_over_view), name="crm_user_hand_over"
        )
        return [hand_over, *super().get_urls()]

    def hand_over_view(self, request, pk):
        """The same hand-over for one user, linked from the warning on the change form."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        return self._hand_over(request, [get_object_or_404(User, pk=pk)], from_action=False)

    def _hand_over(self, request, leaving, *, from_action):
        from contacts.forms_work import HandOverForm
        from contacts.services import records_hand_over

        done = None if from_action else HttpResponseRedirect(reverse("admin:crm_user_changelist"))
        if any(user.pk == request.user.pk for user in leaving):
            self.message_user(request, _("You cannot deactivate yourself."), messages.ERROR)
            return done
        form = HandOverForm(request.POST if "apply" in request.POST else None, leaving=leaving)
        if form.is_valid():
            to_user = form.cleaned_data["to_user"]
            try:
                with transaction.atomic():
                    lines = [
                        f"{user}: "
                        + records_hand_over(from_user=user, to_user=to_user, by=request.user, deactivate=True)
                        for user in leaving
                    ]
            except ValidationError as error:
                form.add_error(None, error)
            else:
                for line in lines:
                    self.message_user(request, line, messages.SUCCESS)
                return done
        context = {
            **self.admin_site.each_context(request),
            "title": _("Deactivate and hand over records"),
            "opts": self.model._meta,
            "form": form,
            "leaving": [(user, _records_of(user)) for user in leaving],
            "from_action": from_action,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/crm/user/hand_over.html", context)

    def response_change(self, request, obj):
        if not obj.is_active and any(_records_of(obj).values()):
            url = reverse("admin:crm_user_hand_over", args=[obj.pk])
            self.message_user(
                request,
                format_html(
                    '{} <a href="{}">{}</a>',
                    _("%(user)s is inactive but still owns records.") % {"user": obj},
                    url,
                    _("Hand them over to someone else"),
                ),
                messages.WARNING,
            )
        return super().response_change(request, obj)


def _records_of(user) -> dict[str, int]:
    from contacts.models import Company, Contact, Task, TaskStatus

    return {
        "contacts": Contact.objects.filter(owner=user).count(),
        "companies": Company.objects.filter(owner=user).count(),
        "tasks": Task.objects.filter(assignee=user, status=TaskStatus.OPEN).count(),
    }


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "manager", "shares_records", "member_count"]
    list_filter = ["shares_records"]
    search_fields = ["name", "manager__username", "members__username"]
    autocomplete_fields = ["manager"]
    filter_horizontal = ["members"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("manager").annotate(n_members=Count("members"))

    @admin.display(description=_("members"), ordering="n_members")
    def member_count(self, team):
        return team.n_members
