from django.urls import path

from community.views import directory, groups, importing

app_name = "community"

urlpatterns = [
    path("", directory.directory, name="directory"),
    path("services/<uuid:service_id>/", directory.service_detail, name="service"),
    path("services/<uuid:service_id>/edit/", directory.service_edit, name="service_edit"),
    path("services/<uuid:service_id>/quality-check/", directory.qa, name="qa"),
    path("organisations/new/", directory.provider_new, name="provider_new"),
    path("organisations/<uuid:provider_id>/", directory.provider_detail, name="provider"),
    path("organisations/<uuid:provider_id>/services/new/", directory.service_new, name="service_new"),
    path("organisations/<uuid:provider_id>/needs/", directory.need_add, name="need_add"),
    path("organisations/<uuid:provider_id>/needs/<uuid:need_id>/", directory.need_update, name="need_update"),
    path("organisations/<uuid:provider_id>/feedback/", directory.feedback_add, name="feedback_add"),
    path("import/", importing.import_services, name="import"),
    path("import/template/", importing.import_template, name="import_template"),
    path("opportunities/", groups.opportunities, name="opportunities"),
]
