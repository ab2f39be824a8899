"""Public referral forms: no sign-in, nothing read back, rate-limited."""

from django.urls import path

from referrals.views import intake

app_name = "refer"

urlpatterns = [
    path("agency/<str:token>/", intake.agency, name="agency"),
    path("self/<uuid:service_id>/", intake.self_referral, name="self"),
    path("thanks/", intake.thanks, name="thanks"),
]
