from sales.views import deals, imports, loyalty, orders, products

app_name = "sales"
urlpatterns = [
    *products.urlpatterns,
    *orders.urlpatterns,
    *imports.urlpatterns,
    *deals.urlpatterns,
    *loyalty.urlpatterns,
]
