from django.contrib import admin

from referrals.models import Referral


@admin.register(Referral)
class ReferralAdmin(admin.ModelAdmin):
    list_display = ["reference", "service", "source_organisation", "status", "received_at"]
    list_filter = ["status", "service"]
    search_fields = ["reference"]
    raw_id_fields = ["case"]
