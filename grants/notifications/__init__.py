"""Notifications: e-mails rendered from templates and delivered through the outbox."""
