from django.contrib import admin
from django.urls import include, path
from django.views.generic import TemplateView

from linkwork import views
from linkwork.api import views as api_views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accessibility/", TemplateView.as_view(template_name="accessibility.html"), name="accessibility"),
    path("privacy/", TemplateView.as_view(template_name="privacy.html"), name="privacy"),
    path("accounts/", include("linkwork.accounts.urls")),
    path("notifications/", include("linkwork.notifications.urls")),
    path("caseload/", include("clients.urls")),
    path("referrals/api-keys/", include("referrals.api_client_urls")),
    path("referrals/", include("referrals.urls")),
    path("refer/", include("referrals.public_urls")),
    path("community/", include("community.urls")),
    path("api/openreferral/", include("community.api_urls")),
    path("api/schema/", api_views.schema, name="api_schema"),
    path("api/docs/", api_views.page, name="api_docs"),
    path("api/fhir/", include("referrals.api_urls")),
    path("outcomes/", include("outcomes.urls")),
    path("supervision/", include("outcomes.supervision_urls")),
    path("measures/", include("outcomes.measure_urls")),
    path("privacy-requests/", include("outcomes.privacy_urls")),
    path("audit/people/", include("outcomes.audit_urls")),
    path("audit/", include("linkwork.audit.urls")),
    path("django-admin/", admin.site.urls),
]

handler403 = "linkwork.views.permission_denied"
handler404 = "linkwork.views.page_not_found"
handler500 = "linkwork.views.server_error"
