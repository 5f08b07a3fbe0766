from django.contrib import admin

from contacts.models import Company, Contact


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):
    list_display = ["name", "industry", "city", "state", "country", "owner", "updated_at"]
    list_filter = ["industry", "country", "state"]
    search_fields = ["name", "domain", "city"]
    autocomplete_fields = ["owner"]
    list_select_related = ["owner"]
    show_full_result_count = False


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["display_name", "email", "phone", "company", "city", "phase", "customer_type", "owner"]
    list_filter = ["phase", "customer_type", "country", "state"]
    search_fields = ["display_name", "email", "phone", "company__name"]
    autocomplete_fields = ["owner", "company"]
    list_select_related = ["owner", "company"]
    show_full_result_count = False
