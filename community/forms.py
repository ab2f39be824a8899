"""Directory forms arrive with the community issue."""
