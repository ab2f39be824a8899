"""Writes to the community directory arrive with the community issue."""
