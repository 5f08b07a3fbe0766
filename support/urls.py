from django.urls import path

from support import views

app_name = "support"
urlpatterns = [
    path("", views.queue, name="ticket_list"),
    path("new/", views.create, name="ticket_create"),
    path("<int:pk>/", views.detail, name="ticket_detail"),
    path("<int:pk>/edit/", views.edit, name="ticket_edit"),
    path("<int:pk>/reply/", views.reply, name="ticket_reply"),
    path("<int:pk>/status/", views.status, name="ticket_status"),
    path("<int:pk>/assign/", views.assign, name="ticket_assign"),
    path("<int:pk>/time/", views.time_add, name="time_entry_add"),
    path("contacts/<int:pk>/", views.record_tickets, {"subject": "contact"}, name="contact_tickets"),
    path("companies/<int:pk>/", views.record_tickets, {"subject": "company"}, name="company_tickets"),
    path("cost-to-serve/", views.cost, name="cost_to_serve"),
    # Public: opened from the email by the customer, who has no login.
    path("satisfaction/<str:token>/", views.satisfaction, name="satisfaction"),
]
