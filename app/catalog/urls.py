from django.urls import path

from catalog import views

app_name = "catalog"

urlpatterns = [
    path("products/", views.product_list, name="product-list"),
    path("api/products/", views.product_api, name="product-api"),
    path("about/", views.about, name="about"),
]
