"""Wellbeing measures and reports live here (the outcomes issue). Dashboards read from every other app."""
