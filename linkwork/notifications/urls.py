from django.urls import path

from linkwork.notifications import views

app_name = "notifications"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("<int:notification_id>/open/", views.open_notification, name="open"),
    path("reminders/<int:reminder_id>/done/", views.reminder_done, name="done"),
    path("reminders/<int:reminder_id>/snooze/", views.reminder_snooze, name="snooze"),
    path("email/", views.preferences, name="preferences"),
    path("services/<uuid:service_id>/reminders/", views.reminder_settings, name="settings"),
]
