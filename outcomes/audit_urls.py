"""Who has looked at a person's record (/audit/people/...). Beside ``linkwork.audit.urls`` rather than in it:
this part reads clients, referrals and outcomes, which the bottom layer must not import."""

from django.urls import path

from outcomes import audit_views

app_name = "person_audit"

urlpatterns = [
    path("<uuid:client_id>/", audit_views.person, name="events"),
    path("<uuid:client_id>/download/", audit_views.person_export, name="export"),
]
