from django import forms
from django.contrib import admin
from django.utils.text import format_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from contacts import models
from contacts.services import source_code


class ContactEmailInline(admin.TabularInline):
    model = models.ContactEmail
    extra = 0


class ContactPhoneInline(admin.TabularInline):
    model = models.ContactPhone
    extra = 0


class SocialAccountInline(admin.TabularInline):
    model = models.SocialAccount
    extra = 0


class ConsentInline(admin.TabularInline):
    model = models.Consent
    extra = 0


@admin.register(models.Industry, models.Tag)
class NamedListAdmin(admin.ModelAdmin):
    list_display = ["name"]
    search_fields = ["name"]


@admin.register(models.Company)
class CompanyAdmin(admin.ModelAdmin):
    list_display = ["name", "industry", "city", "state", "country", "owner", "updated_at"]
    list_filter = ["industry", "size_band", "country", "state"]
    search_fields = ["name", "domain", "city", "gstin"]
    autocomplete_fields = ["owner", "industry", "tags"]
    list_select_related = ["owner", "industry"]
    show_full_result_count = False


@admin.register(models.Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["display_name", "email", "phone", "company", "city", "phase", "customer_type", "owner"]
    list_filter = ["phase", "customer_type", "source", "is_influencer", "country", "state"]
    search_fields = ["display_name", "email", "phone", "company__name"]
    autocomplete_fields = ["owner", "company", "tags"]
    list_select_related = ["owner", "company"]
    show_full_result_count = False
    inlines = [ContactEmailInline, ContactPhoneInline, SocialAccountInline, ConsentInline]


@admin.register(models.Referral)
class ReferralAdmin(admin.ModelAdmin):
    list_display = ["referrer", "referred_contact", "referred_company", "created_at"]
    search_fields = ["referrer__display_name", "referred_contact__display_name", "referred_company__name"]
    autocomplete_fields = ["referrer", "referred_contact", "referred_company"]
    list_select_related = ["referrer", "referred_contact", "referred_company"]


@admin.register(models.ConsentEvent)
class ConsentEventAdmin(admin.ModelAdmin):
    list_display = ["contact", "channel", "status", "at", "method", "recorded_by"]
    list_filter = ["channel", "status"]
    search_fields = ["contact__display_name", "method"]
    raw_id_fields = ["contact"]
    list_select_related = ["contact", "recorded_by"]


@admin.register(models.PhaseChange)
class PhaseChangeAdmin(admin.ModelAdmin):
    list_display = ["contact", "from_phase", "to_phase", "at", "by", "rule"]
    list_filter = ["to_phase", "from_phase", "rule"]
    search_fields = ["contact__display_name", "reason"]
    raw_id_fields = ["contact"]
    list_select_related = ["contact", "by"]
    show_full_result_count = False


@admin.register(models.Activity)
class ActivityAdmin(admin.ModelAdmin):
    list_display = ["summary", "kind", "contact", "company", "at", "by"]
    list_filter = ["kind", "direction"]
    search_fields = ["summary", "contact__display_name", "company__name"]
    raw_id_fields = ["contact", "company"]
    list_select_related = ["contact", "company", "by"]
    show_full_result_count = False


@admin.register(models.Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = ["title", "assignee", "due_at", "status", "contact", "reminder_sent_at"]
    list_filter = ["status"]
    search_fields = ["title", "contact__display_name"]
    raw_id_fields = ["contact", "company"]
    autocomplete_fields = ["assignee"]
    list_select_related = ["assignee", "contact"]


@admin.register(models.Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["text", "user", "created_at", "read_at"]
    search_fields = ["text", "user__username"]
    list_select_related = ["user"]


@admin.register(models.FieldChange)
class FieldChangeAdmin(admin.ModelAdmin):
    list_display = ["record_type", "record_id", "field", "old_value", "new_value", "changed_by", "changed_at", "via"]
    list_filter = ["record_type", "via"]
    search_fields = ["field", "old_value", "new_value"]
    list_select_related = ["changed_by"]
    show_full_result_count = False


@admin.register(models.CustomField)
class CustomFieldAdmin(admin.ModelAdmin):
    list_display = ["label", "key", "kind", "position", "active"]
    list_editable = ["position", "active"]
    list_filter = ["kind", "active"]
    search_fields = ["label", "key"]


class AssignmentRuleForm(forms.ModelForm):
    """A "source" rule keeps the source's code, whether the admin typed its name or its code."""

    class Meta:
        model = models.AssignmentRule
        fields = ["name", "position", "match", "value", "strategy", "user", "team", "active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        sources = ", ".join(f"{label} ({code})" for code, label in models.Source.choices)
        self.fields["value"].help_text = format_lazy(
            "{} {} {}",
            self.fields["value"].help_text,
            _("For “Source is”, the name or the code of a source:"),
            sources,
        )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("match") == models.AssignmentRule.Match.SOURCE:
            code = source_code(cleaned.get("value", ""))
            if code is None:
                self.add_error(
                    "value",
                    gettext("“%(value)s” is not a source. Choose one of: %(sources)s.")
                    % {"value": cleaned.get("value", ""), "sources": ", ".join(map(str, models.Source.labels))},
                )
            else:
                cleaned["value"] = code
        return cleaned


@admin.register(models.AssignmentRule)
class AssignmentRuleAdmin(admin.ModelAdmin):
    form = AssignmentRuleForm
    list_display = ["name", "position", "match", "value_shown", "strategy", "user", "team", "active"]
    list_editable = ["position", "active"]
    list_filter = ["match", "strategy", "active"]
    search_fields = ["name", "value"]
    autocomplete_fields = ["user", "team"]

    @admin.display(description=_("value"), ordering="value")
    def value_shown(self, rule):
        if rule.match == models.AssignmentRule.Match.SOURCE and rule.value in models.Source.values:
            return models.Source(rule.value).label
        return rule.value


@admin.register(models.SavedView)
class SavedViewAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "list_name", "query"]
    list_filter = ["list_name"]
    search_fields = ["name", "user__username"]


@admin.register(models.DuplicateCandidate)
class DuplicateCandidateAdmin(admin.ModelAdmin):
    list_display = ["first", "second", "reason", "score", "status", "found_at"]
    list_filter = ["status", "reason"]
    raw_id_fields = ["first", "second"]
    list_select_related = ["first", "second"]


@admin.register(models.MergeRecord)
class MergeRecordAdmin(admin.ModelAdmin):
    list_display = ["kept_id_value", "merged_ids", "merged_by", "merged_at"]
    search_fields = ["kept_id_value"]


class ImportRowResultInline(admin.TabularInline):
    model = models.ImportRowResult
    extra = 0
    raw_id_fields = ["contact"]
    max_num = 0
    can_delete = False


@admin.register(models.ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = [
        "file_name",
        "owner",
        "format",
        "status",
        "total_rows",
        "created_count",
        "error_count",
        "created_at",
    ]
    list_filter = ["status", "format"]
    search_fields = ["file_name", "owner__username"]
    list_select_related = ["owner"]
    inlines = [ImportRowResultInline]
