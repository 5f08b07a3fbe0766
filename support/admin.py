from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from support import models


class SLAPolicyForm(forms.ModelForm):
    working_days = forms.TypedMultipleChoiceField(
        label=models.SLAPolicy._meta.get_field("working_days").verbose_name,
        choices=models.Weekday.choices,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=models.SLAPolicy._meta.get_field("business_hours_only").help_text,
    )

    class Meta:
        model = models.SLAPolicy
        fields = [
            "priority",
            "first_response_minutes",
            "resolution_minutes",
            "business_hours_only",
            "day_starts_at",
            "day_ends_at",
            "working_days",
        ]


@admin.register(models.SLAPolicy)
class SLAPolicyAdmin(admin.ModelAdmin):
    form = SLAPolicyForm
    list_display = ["priority", "first_response_minutes", "resolution_minutes", "business_hours_only"]
    list_editable = ["first_response_minutes", "resolution_minutes", "business_hours_only"]
    fieldsets = [
        (None, {"fields": ["priority", "first_response_minutes", "resolution_minutes"]}),
        (_("Business hours"), {"fields": ["business_hours_only", "day_starts_at", "day_ends_at", "working_days"]}),
    ]


class TicketEventInline(admin.TabularInline):
    model = models.TicketEvent
    extra = 0
    max_num = 0
    can_delete = False
    fields = ["at", "kind", "by", "body", "from_value", "to_value"]
    readonly_fields = fields


class TimeEntryInline(admin.TabularInline):
    model = models.TimeEntry
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(models.Ticket)
class TicketAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "contact",
        "status",
        "priority",
        "assignee",
        "first_response_due_at",
        "resolution_due_at",
        "first_response_breached_at",
        "resolution_breached_at",
        "satisfaction",
    ]
    list_filter = ["status", "priority", "channel"]
    search_fields = ["subject", "contact__display_name", "contact__email"]
    raw_id_fields = ["contact"]
    autocomplete_fields = ["assignee", "created_by"]
    list_select_related = ["contact", "assignee"]
    readonly_fields = ["satisfaction_requested_at"]
    show_full_result_count = False
    inlines = [TimeEntryInline, TicketEventInline]


@admin.register(models.TimeEntry)
class TimeEntryAdmin(admin.ModelAdmin):
    list_display = ["ticket", "user", "minutes", "at", "note"]
    search_fields = ["ticket__subject", "user__username", "note"]
    raw_id_fields = ["ticket"]
    autocomplete_fields = ["user"]
    list_select_related = ["ticket", "user"]
    date_hierarchy = "at"
