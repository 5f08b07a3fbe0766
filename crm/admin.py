from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import Count
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
