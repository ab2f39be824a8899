"""Site admins add instruments (as data: items, options, bands, conversion) and choose each service's."""

from django.contrib import admin

from outcomes.models import Instrument, InstrumentItem, ServiceInstrument


class InstrumentItemInline(admin.TabularInline):
    model = InstrumentItem
    extra = 0


@admin.register(Instrument)
class InstrumentAdmin(admin.ModelAdmin):
    list_display = ["short_name", "version", "scoring", "is_active"]
    list_filter = ["scoring", "is_active"]
    inlines = [InstrumentItemInline]


@admin.register(ServiceInstrument)
class ServiceInstrumentAdmin(admin.ModelAdmin):
    list_display = ["service", "instrument"]
    list_filter = ["instrument"]
