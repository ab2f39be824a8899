"""Referral views, split by who uses them: intake (every way in), triage (the service), loop (referrers),
links (service managers)."""
