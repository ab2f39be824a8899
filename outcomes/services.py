"""Outcomes services arrive with the outcomes issue."""
