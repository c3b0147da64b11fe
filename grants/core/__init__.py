"""Cross-cutting pieces: access rules, audit, outbox, time, i18n."""
