"""Outcomes tasks arrive with the outcomes issue."""
