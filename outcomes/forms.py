"""Outcomes forms arrive with the outcomes issue."""
