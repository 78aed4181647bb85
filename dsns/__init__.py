"""What every part of the project shares, and nothing else: the root of our errors
(`dsns.errors`), the redaction of secrets in text (`dsns.redact`), the Kyiv time zone
(`dsns.timezone`), the restart delay that doubles (`dsns.backoff`), the kind of an image's bytes
(`dsns.images`), the import of an extra's library (`dsns.extras`). It imports nothing of ours
but itself, so collectors, analysis, storage, bot, research and monitor may all import it."""
