"""Everything an alert shows, read back from the archive for one outbox row."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.database import Database
from storage.stories import Story, get_story
from storage.timeutil import from_db

__all__ = ["AlertMaterial", "StoryChange", "load_alert_material", "figures_post", "story_change"]


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


async def figures_post(db: Database, story_id: int) -> int | None:
    """The post that brought the story's current figures: that of the earliest revision with them
    (the quote of an updated alert must say what its header says)."""
    row = await db.fetchone(
        """SELECT r.post_id FROM story_revisions r JOIN stories s ON s.id = r.story_id
           WHERE r.story_id = ? AND r.killed IS s.killed AND r.injured IS s.injured
           ORDER BY r.revision LIMIT 1""",
        (story_id,),
    )
    return int(row[0]) if row else None


@dataclass(frozen=True, slots=True)
class StoryChange:
    """What a chat saw (the figures of the revision it was sent) and when the story last changed."""

    seen_known: bool
    killed_before: int | None
    injured_before: int | None
    changed_at: datetime | None


async def story_change(db: Database, story_id: int, seen: int | None, current: int) -> StoryChange:
    rows = await db.fetchall(
        "SELECT revision, killed, injured, recorded_at FROM story_revisions WHERE story_id = ? AND revision IN (?, ?)",
        (story_id, seen if seen is not None else -1, current),
    )
    by_revision = {r[0]: r for r in rows}
    before = by_revision.get(seen) if seen is not None else None
    now = by_revision.get(current)
    return StoryChange(
        seen_known=before is not None, killed_before=before[1] if before else None,
        injured_before=before[2] if before else None, changed_at=from_db(now[3]) if now else None,
    )
