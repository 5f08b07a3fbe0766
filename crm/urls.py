from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from crm import views
from crm.forms import QueuedPasswordResetForm

urlpatterns = [
    path("", views.DashboardView.as_view(), name="dashboard"),
    path("healthz", views.healthz, name="healthz"),
    path("preferences/", views.PreferencesView.as_view(), name="preferences"),
    path("language/", views.set_language, name="set_language"),
    path(
        "accounts/password_reset/",
        auth_views.PasswordResetView.as_view(form_class=QueuedPasswordResetForm),
        name="password_reset",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("", include("contacts.urls")),
    path("sales/", include("sales.urls")),
    path("support/", include("support.urls")),
    path("campaigns/", include("campaigns.urls")),
    path("reports/", include("analytics.urls")),
]
