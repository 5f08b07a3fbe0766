from contacts.views import duplicates, imports, lists, records, work

app_name = "contacts"
urlpatterns = [
    *lists.urlpatterns,
    *records.urlpatterns,
    *work.urlpatterns,
    *imports.urlpatterns,
    *duplicates.urlpatterns,
]
