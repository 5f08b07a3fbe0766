from contacts.views import duplicates, edit, imports, lists, records, work

app_name = "contacts"
urlpatterns = [
    *lists.urlpatterns,
    *records.urlpatterns,
    *edit.urlpatterns,
    *work.urlpatterns,
    *imports.urlpatterns,
    *duplicates.urlpatterns,
]
