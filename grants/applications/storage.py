"""Attachment files: checked by content and size, stored outside the web root."""
