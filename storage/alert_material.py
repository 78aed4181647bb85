"""Everything an alert shows, read back from the archive for one outbox row."""

from __future__ import annotations

from dataclasses import dataclass

from storage.database import Database
from storage.stories import Story, get_story
from storage.timeutil import from_db

__all__ = ["AlertMaterial", "load_alert_material"]


@dataclass(frozen=True, slots=True)
class AlertMaterial:
    story: Story
    stream: str
    url: str | None
    published_at: str | None
    text: str
    # The first stored photo: its bytes (None when over the caller's size limit) and size.
    photo: bytes | None
    photo_size: int | None
    # A photo slot not yet tried: the download usually lands within a second of the post.
    photo_pending: bool


async def load_alert_material(
    db: Database, story_id: int, post_id: int, *, photo_max_bytes: int | None = None
) -> AlertMaterial:
    """The story's current figures, the post's text and link, and its first stored photo, whose
    bytes are read only when at most `photo_max_bytes` (the alert cannot carry a larger one)."""
    story = await get_story(db.reader, story_id)
    row = await db.fetchone("SELECT stream, url, published_at, title, text FROM posts WHERE id = ?", (post_id,))
    if row is None:
        raise KeyError(post_id)
    # One query, so the photo and "still downloading" are read from the same snapshot.
    slots = await db.fetchall(
        """SELECT pm.sha256 IS NULL AND pm.attempts = 0, m.size,
                  CASE WHEN ? IS NULL OR m.size <= ? THEN m.data END
           FROM post_media pm LEFT JOIN media m ON m.sha256 = pm.sha256
           WHERE pm.post_id = ? ORDER BY pm.position""",
        (photo_max_bytes, photo_max_bytes, post_id),
    )
    first = next((slot for slot in slots if slot[1] is not None), None)
    pending = first is None and any(slot[0] for slot in slots)
    text = f"{row['title']}\n{row['text']}" if row["title"] else row["text"]
    published = from_db(row["published_at"])
    return AlertMaterial(
        story=story, stream=row["stream"], url=row["url"],
        published_at=published.isoformat() if published else None, text=text,
        photo=bytes(first[2]) if first and first[2] is not None else None,
        photo_size=first[1] if first else None, photo_pending=pending,
    )
