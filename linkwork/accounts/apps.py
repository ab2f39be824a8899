from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "linkwork.accounts"
    label = "accounts"
    verbose_name = "People and organisations"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from linkwork.accounts.middleware import stamp_renewal_at_sign_in

        user_logged_in.connect(stamp_renewal_at_sign_in, dispatch_uid="linkwork-session-renewal")
