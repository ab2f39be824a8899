from django.contrib import admin

from clients.models import Case, Client, Contact


@admin.register(Client)
class ClientAdmin(admin.ModelAdmin):
    list_display = ["family_name", "given_name", "service"]
    list_filter = ["service"]
    search_fields = ["family_name", "nhs_number"]


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    list_display = ["client", "service", "link_worker", "status", "start_date", "window_end"]
    list_filter = ["status", "service"]
    raw_id_fields = ["client"]


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["case", "at", "method", "attempted_only"]
    raw_id_fields = ["case"]
