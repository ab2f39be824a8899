from django.urls import path

from outcomes import measure_views

app_name = "measures"

urlpatterns = [
    path("cases/<uuid:case_id>/", measure_views.choose, name="choose"),
    path("cases/<uuid:case_id>/<uuid:instrument_id>/<slug:timepoint>/", measure_views.record, name="record"),
    path("cases/<uuid:case_id>/gp-appointments/", measure_views.system_use, name="system_use"),
]
