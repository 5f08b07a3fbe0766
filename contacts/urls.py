from contacts.views import records

app_name = "contacts"
urlpatterns = [*records.urlpatterns]
