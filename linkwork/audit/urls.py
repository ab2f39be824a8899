from django.urls import path

from linkwork.audit import views

app_name = "audit"

urlpatterns = [
    path("", views.users, name="users"),
    path("users/<uuid:user_id>/", views.user_events, name="user"),
    path("users/<uuid:user_id>/download/", views.user_export, name="user_export"),
]
