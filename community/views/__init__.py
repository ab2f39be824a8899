"""Directory views: search, services and their quality checks, bulk import, and support for groups."""
