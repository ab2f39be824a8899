from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "linkwork.audit"
    label = "audit"
    verbose_name = "Audit trail"

    def ready(self) -> None:
        from linkwork.audit import signals  # noqa: F401
