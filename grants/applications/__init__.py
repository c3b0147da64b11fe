"""The funding application: sections, cost and financing plans, attachments, submission."""
