"""The SQLite archive: posts, versions, photos, analyses, sources' state."""

from storage.database import Database
from storage.errors import SchemaTooNewError, StorageError

__all__ = ["Database", "StorageError", "SchemaTooNewError"]
