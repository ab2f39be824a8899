from django.contrib import admin

from referrals.models import GPRecording, Referral, ReferrerNotice


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records the application writes and nobody edits by hand: listed, never added, changed or deleted here."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Referral)
class ReferralAdmin(admin.ModelAdmin):
    list_display = ["reference", "service", "source_organisation", "status", "received_at"]
    list_filter = ["status", "service"]
    search_fields = ["reference"]
    raw_id_fields = ["case"]


@admin.register(ReferrerNotice)
class ReferrerNoticeAdmin(ReadOnlyAdmin):
    """Read-only: shows what the referrers have been told, and any notice that keeps failing to send."""

    list_display = ["referral", "kind", "created_at", "sent_at", "failed_attempts"]
    list_filter = ["kind", ("sent_at", admin.EmptyFieldListFilter)]
    raw_id_fields = ["referral"]


@admin.register(GPRecording)
class GPRecordingAdmin(ReadOnlyAdmin):
    """Read-only: which coded events practices have marked as recorded in the GP record, by whom and when."""

    list_display = ["referral", "code", "recorded_at", "recorded_by"]
    list_filter = ["code"]
    raw_id_fields = ["referral", "recorded_by"]
