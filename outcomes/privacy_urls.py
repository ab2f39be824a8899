from django.urls import path

from outcomes import privacy_views as views

app_name = "privacy"

urlpatterns = [
    path("people/<uuid:client_id>/", views.person, name="person"),
    path("people/<uuid:client_id>/export/", views.export, name="export"),
    path("people/<uuid:client_id>/erase/", views.erase, name="erase"),
]
