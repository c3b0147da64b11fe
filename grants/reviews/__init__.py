"""Review of submitted applications: queue, checks, change requests, decisions, four-eyes sign-off."""
