"""Review: queue, checks, change requests, decisions and the four-eyes sign-off."""
