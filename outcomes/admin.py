"""Outcomes admin arrive with the outcomes issue."""
