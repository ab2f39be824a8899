"""Referral forms arrive with the referrals issue."""
