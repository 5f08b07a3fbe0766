from contacts.views import duplicates, imports, records, work

app_name = "contacts"
urlpatterns = [*records.urlpatterns, *work.urlpatterns, *imports.urlpatterns, *duplicates.urlpatterns]
