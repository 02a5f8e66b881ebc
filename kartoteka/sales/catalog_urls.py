from django.urls import path

from kartoteka.sales import catalog_views as views

# Included at /deals/catalog/ inside the "sales" namespace.
urlpatterns = [
    path("products/", views.products, name="products"),
    path("products/<int:pk>/", views.product_edit, name="product_edit"),
    path("price-lists/", views.price_lists, name="price_lists"),
    path("price-lists/<int:pk>/", views.price_list_edit, name="price_list"),
    path("requisites/", views.requisites, name="requisites"),
    path("deals/<int:pk>/items/", views.deal_items, name="deal_items"),
    path("deals/<int:pk>/documents/", views.deal_documents, name="deal_documents"),
    path("deals/<int:pk>/documents/issue/", views.issue, name="issue_document"),
    path("deals/<int:pk>/documents/<int:doc_id>.pdf", views.document_pdf, name="document_pdf"),
]
