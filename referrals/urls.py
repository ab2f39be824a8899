from django.urls import path

from referrals.views import coded_events, intake, links, loop, triage

app_name = "referrals"

urlpatterns = [
    path("new/", intake.new, name="new"),
    path("record/", intake.record, name="record"),
    path("mine/", loop.mine, name="mine"),
    path("sent/<uuid:referral_id>/", loop.sent, name="sent"),
    path("gp-record/", coded_events.events, name="coded_events"),
    path("gp-record/download/", coded_events.events_csv, name="coded_events_csv"),
    path("queue/", triage.queue, name="queue"),
    path("links/", links.links, name="links"),
    path("links/<uuid:link_id>/revoke/", links.revoke, name="revoke_link"),
    path("<uuid:referral_id>/", triage.detail, name="detail"),
    path("<uuid:referral_id>/accept/", triage.accept, name="accept"),
    path("<uuid:referral_id>/decline/", triage.decline, name="decline"),
    path("<uuid:referral_id>/redirect/", triage.redirect_referral, name="redirect"),
    path("<uuid:referral_id>/close/", triage.close, name="close"),
]
