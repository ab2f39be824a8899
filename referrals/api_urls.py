"""The FHIR API, mounted at /api/fhir/ (see referrals/api_views.py; documented at /api/docs/)."""

from django.urls import path

from referrals import api_views

app_name = "fhir"

urlpatterns = [
    path("", api_views.submit, name="bundle"),
    path("ServiceRequest", api_views.submit, name="service_request"),
    path("Task/<str:pk>", api_views.task, name="task"),
    path("Procedure", api_views.procedures, name="procedures"),
    path("Observation", api_views.observations, name="observations"),
]
