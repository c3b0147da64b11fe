"""The finance officers' area: decisions, letters, exports and payouts."""
