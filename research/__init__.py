"""The archive's second reader, beside the bot: search, events, stats, export, serve, the public site."""
