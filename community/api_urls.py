"""Open Referral UK 3.0 API, mounted at /api/openreferral/ (paths as in the profile's OpenAPI file)."""

from django.urls import path

from community.oruk import views

app_name = "openreferral"

urlpatterns = [
    path("", views.index, name="index"),
    path("services", views.services, name="services"),
    path("services/<str:id>", views.service, name="service"),
    path("service_at_locations", views.service_at_locations, name="service_at_locations"),
    path("service_at_locations/<str:id>", views.service_at_location, name="service_at_location"),
    path("taxonomies", views.taxonomies, name="taxonomies"),
    path("taxonomies/<str:id>", views.taxonomy, name="taxonomy"),
    path("taxonomy_terms", views.taxonomy_terms, name="taxonomy_terms"),
    path("taxonomy_terms/<str:id>", views.taxonomy_term, name="taxonomy_term"),
]
