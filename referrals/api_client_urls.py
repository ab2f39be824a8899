"""Service managers' API keys for the FHIR API, mounted at /referrals/api-keys/."""

from django.urls import path

from referrals import api_client_views

app_name = "api_keys"

urlpatterns = [
    path("", api_client_views.api_keys, name="list"),
    path("<uuid:api_client_id>/revoke/", api_client_views.api_key_revoke, name="revoke"),
]
