"""Associations and providers that apply for funding, and their members."""
