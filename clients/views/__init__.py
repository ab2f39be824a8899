"""Client views, split by sub-area: caseload, record (the person), case (the episode), plan, visits."""
