from django.urls import path

from outcomes import supervision_views as views

app_name = "supervision"

urlpatterns = [
    path("", views.mine, name="mine"),
    path("cases/", views.cases, name="cases"),
    path("workers/<uuid:worker_id>/", views.worker, name="worker"),
    path("workers/<uuid:worker_id>/sessions/new/", views.session_new, name="session_new"),
    path("sessions/<uuid:session_id>/", views.session, name="session"),
    path("actions/<uuid:action_id>/done/", views.action_done, name="action_done"),
    path("concerns/<uuid:concern_id>/", views.concern, name="concern"),
]
