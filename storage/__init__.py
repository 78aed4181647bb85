"""The SQLite archive: posts, versions, photos, analyses, sources' state.

Import the module you need (`storage.database`, `storage.errors`, …): this file imports nothing,
so a command that needs only `storage.errors` does not load aiosqlite.
"""
