"""Stories and alert planning for one stored post, inside the transaction that stored it."""

from __future__ import annotations

from datetime import datetime, timedelta

import aiosqlite

from analysis.model import Analysis
from analysis.reach import regions_covering
from analysis.stories import StoryIndex, features_of
from storage.outbox import LATE_AFTER, plan_alerts
from storage.posts import Change
from storage.stories import (
    Story,
    get_story,
    merge_into_story,
    open_story,
    record_revision,
    stories_between,
    story_of_post,
)
from storage.subscriptions import chats_watching
from storage.timeutil import from_db, to_db, utcnow

__all__ = ["StoryPlanner"]


class StoryPlanner:
    """Puts each stored post in its story and queues alerts for the chats watching it."""

    def __init__(self, *, window: timedelta, alert_max_age: float, late_after: float = LATE_AFTER) -> None:
        self.index = StoryIndex(window)
        self.alert_max_age = alert_max_age
        # a new post this long after a chat's last alert of the story notifies it again
        self.late_after = late_after

    async def attach_and_plan(self, conn: aiosqlite.Connection, change: Change, analysis: Analysis) -> tuple[Story, int]:
        """Returns the post's story and how many alerts were queued.

        A post published longer than `alert_max_age` seconds ago (first run, backfill,
        catch-up) is archived and clustered but alerts nobody.
        """
        post = change.post
        at = post.published_at or utcnow()
        # A new row has no story yet; an edited one keeps the story it is in.
        story = await story_of_post(conn, post.id) if change.kind != "new" else None
        features = features_of(analysis, at)
        if story is None:
            await self._load(conn, at)
            match = self.index.match(at, features)
            if match is None:
                story = await open_story(conn, post.id, analysis, to_db(at), features)
                changed = True
            else:
                story, changed = await merge_into_story(conn, await get_story(conn, match), post.id, analysis, features)
        else:
            story, changed = await merge_into_story(conn, story, post.id, analysis, features)
        # The story's features are those of all its posts: a follow-up's date stays on the story.
        self.index.add(story.id, from_db(story.event_at) or at, story.features)
        if changed:
            await record_revision(conn, story, post.id)
        if not story.is_strike:
            return story, 0
        if utcnow() - at > timedelta(seconds=self.alert_max_age):
            return story, 0
        chats = await chats_watching(conn, regions_covering(story))
        return story, await plan_alerts(conn, chats, story.id, post.id, story.revision, late_after=self.late_after)

    def forget(self) -> None:
        """Drop the in-memory index (after a rolled-back transaction it may name stories that never were)."""
        self.index = StoryIndex(self.index.window)

    async def _load(self, conn: aiosqlite.Connection, at: datetime) -> None:
        if self.index.covers(at):
            return
        start, end = self.index.reset(at)
        for story_id, event_at, features in await stories_between(conn, start, end):
            self.index.add(story_id, event_at or at, features)
