from django.contrib import admin

from linkwork.notifications.models import Digest, Notification, NotificationPreference, Reminder, ReminderSettings


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["user", "title", "created_at", "read_at"]


@admin.register(Reminder)
class ReminderAdmin(admin.ModelAdmin):
    list_display = ["title", "subject", "recipient", "due_on", "status", "urgent", "emailed_at"]
    list_filter = ["rule", "status", "urgent"]
    search_fields = ["subject", "recipient__email"]
    raw_id_fields = ["recipient"]
    readonly_fields = ["created_at", "status_changed_at", "emailed_at"]


@admin.register(ReminderSettings)
class ReminderSettingsAdmin(admin.ModelAdmin):
    list_display = ["service", "duty_contact", "updated_at"]
    raw_id_fields = ["duty_contact", "updated_by"]


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    list_display = ["user", "email_digest", "updated_at"]
    raw_id_fields = ["user"]


@admin.register(Digest)
class DigestAdmin(admin.ModelAdmin):
    list_display = ["user", "day", "items", "sent_at"]
    raw_id_fields = ["user"]
