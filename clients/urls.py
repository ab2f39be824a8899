from django.urls import path

from clients.views import case, caseload, connections, plan, record, supervision, visits

app_name = "clients"

urlpatterns = [
    path("", caseload.caseload, name="caseload"),
    path("search/", caseload.search, name="search"),
    path("clients/<uuid:client_id>/", record.client_detail, name="client"),
    path("clients/<uuid:client_id>/edit/", record.client_edit, name="client_edit"),
    path("clients/<uuid:client_id>/alerts/", record.alert_add, name="alert_add"),
    path("clients/<uuid:client_id>/alerts/<uuid:alert_id>/resolve/", record.alert_resolve, name="alert_resolve"),
    path("cases/<uuid:case_id>/", case.case_detail, name="case"),
    path("cases/<uuid:case_id>/contacts/new/", case.contact_new, name="contact_new"),
    path("cases/<uuid:case_id>/what-matters/", case.what_matters, name="what_matters"),
    path("cases/<uuid:case_id>/pause/", case.pause, name="pause"),
    path("cases/<uuid:case_id>/resume/", case.resume, name="resume"),
    path("cases/<uuid:case_id>/extend/", case.extend, name="extend"),
    path("cases/<uuid:case_id>/reassign/", case.reassign, name="reassign"),
    path("cases/<uuid:case_id>/plan/", plan.plan_edit, name="plan_edit"),
    path("cases/<uuid:case_id>/plan/history/", plan.plan_history, name="plan_history"),
    path("cases/<uuid:case_id>/plan/print/", plan.plan_print, name="plan_print"),
    path("cases/<uuid:case_id>/visits/new/", visits.visit_new, name="visit_new"),
    path("cases/<uuid:case_id>/find-service/", connections.find_service, name="find_service"),
    path("cases/<uuid:case_id>/connect/<uuid:service_id>/", connections.connect, name="connect"),
    path("connections/<uuid:connection_id>/", connections.move, name="connection"),
    path("visits/<uuid:visit_id>/", visits.visit, name="visit"),
    path("visits/<uuid:visit_id>/check-in/", visits.check_in, name="check_in"),
    path("visits/<uuid:visit_id>/check-out/", visits.check_out, name="check_out"),
    path("cases/<uuid:case_id>/supervision/", supervision.case_supervision, name="case_supervision"),
    path("cases/<uuid:case_id>/supervision/flag/", supervision.flag_raise, name="flag_raise"),
    path("cases/<uuid:case_id>/safeguarding/new/", supervision.concern_raise, name="concern_raise"),
]
