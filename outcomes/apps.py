from django.apps import AppConfig


class OutcomesConfig(AppConfig):
    name = "outcomes"
    verbose_name = "Outcomes and reports"

    def ready(self) -> None:
        # The reminder rules live here; the reminders page (a lower layer) asks them to re-check on read.
        from linkwork.notifications import services
        from outcomes import reminders

        services.reminder_recheck_register(reminders.reminders_recheck_for_user)
