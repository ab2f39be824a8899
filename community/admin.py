from django.contrib import admin

from community.models import CommunityService, Provider


@admin.register(Provider)
class ProviderAdmin(admin.ModelAdmin):
    list_display = ["name", "service"]
    search_fields = ["name"]


@admin.register(CommunityService)
class CommunityServiceAdmin(admin.ModelAdmin):
    list_display = ["name", "provider", "status"]
    list_filter = ["status"]
    search_fields = ["name"]
