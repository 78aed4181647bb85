"""Stories and alert planning for one stored post, inside the transaction that stored it."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

import aiosqlite

from analysis.model import Analysis
from analysis.reach import regions_covering
from analysis.stories import StoryIndex, features_of
from storage.database import write_batch
from storage.outbox import LATE_AFTER, AlertPlan, alert_statements
from storage.posts import Change
from storage.stories import (
    Story,
    get_stories,
    merged,
    new_story,
    revision_statements,
    stories_and_next_id,
    stories_between,
    stories_of_posts,
    story_statements,
)
from storage.subscriptions import WatcherCache, nearest_ranks
from storage.timeutil import from_db, to_db, utcnow

__all__ = ["StoryPlanner"]


class StoryPlanner:
    """Puts each stored post in its story and queues alerts for the chats watching it."""

    def __init__(self, *, window: timedelta, alert_max_age: float, late_after: float = LATE_AFTER) -> None:
        self.index = StoryIndex(window)
        self.alert_max_age = alert_max_age
        # a new post this long after a chat's last alert of the story notifies it again
        self.late_after = late_after
        self.watchers = WatcherCache()

    async def attach_and_plan(self, conn: aiosqlite.Connection, change: Change, analysis: Analysis) -> tuple[Story, int]:
        """Returns the post's story and how many alerts were queued (see `attach_all`)."""
        (story,), queued = await self.attach_all(conn, [(change, analysis)])
        return story, queued

    async def attach_all(
        self, conn: aiosqlite.Connection, items: list[tuple[Change, Analysis]]
    ) -> tuple[list[Story], int]:
        """Put each stored post in its story, in order; returns each post's story as it left it
        and how many alerts were queued.

        A post published longer than `alert_max_age` seconds ago (first run, backfill,
        catch-up) is archived and clustered but alerts nobody. Matching runs on the in-memory
        index and the stories read for the batch; the batch's stories, revisions and alerts are
        then written by a few executemany sent in one trip to the writer's thread, so a page costs
        a few statements and three trips whatever its size.
        """
        now = utcnow()
        posts = [(change, analysis, change.post.published_at or now) for change, analysis in items]
        features = [features_of(analysis, at) for _, analysis, at in posts]
        probes = [self.index.probe(at, feats) for (_, _, at), feats in zip(posts, features, strict=True)]
        # A new row has no story yet; an edited one keeps the story it is in.
        of_post = await stories_of_posts(conn, [c.post.id for c, _, _ in posts if c.kind != "new"])
        current = {story.id: story for story in of_post.values()}
        # The stories the posts match before the batch changes anything, read at once; one the
        # batch's own merges make matching is read when met. The probes keep what this first
        # match found, so that matching in turn redoes only what the batch changed.
        likely: set[int] = set()
        for (change, _, at), probe in zip(posts, probes, strict=True):
            if change.post.id not in of_post:
                await self._load(conn, at, current)
                likely.add(self.index.find(probe) or 0)
        found, next_id = await stories_and_next_id(conn, sorted(likely - set(current) - {0}))
        current.update(found)
        opened: list[int] = []
        members: list[tuple[int, int]] = []
        revisions: list[tuple[Story, int]] = []
        alerts: list[tuple[Story, int, datetime]] = []
        result: list[Story] = []
        for (change, analysis, at), feats, probe in zip(posts, features, probes, strict=True):
            post = change.post
            story = of_post.get(post.id)
            if story is not None:
                story, changed = merged(current[story.id], analysis, feats)
            else:
                await self._load(conn, at, current)
                match = self.index.find(probe)
                if match is None:
                    story, changed = new_story(next_id, post.id, analysis, to_db(at), feats), True
                    opened.append(next_id)
                    next_id += 1
                else:
                    if match not in current:
                        current.update(await get_stories(conn, [match]))
                    story, changed = merged(current[match], analysis, feats)
            current[story.id] = story
            # The story's features are those of all its posts: a follow-up's date stays on the story.
            self.index.add(story.id, from_db(story.event_at) or at, story.features)
            members.append((story.id, post.id))
            if changed:
                revisions.append((story, post.id))
            if story.is_strike and now - at <= timedelta(seconds=self.alert_max_age):
                alerts.append((story, post.id, at))
            result.append(story)
        writes = story_statements(
            opened=[current[i] for i in opened], members=members,
            updated=[current[i] for i in {story_id for story_id, _ in members} - set(opened)],
        )
        writes += revision_statements(revisions)
        # A story's revision fixes its places: its posts of one revision alert the same chats.
        covering: dict[tuple[int, int], set[str]] = {}
        for story, _, _ in alerts:
            if (story.id, story.revision) not in covering:
                covering[story.id, story.revision] = regions_covering(story)
        watchers = await self.watchers.watchers_by_region(conn, set().union(*covering.values()))
        ranks = {key: nearest_ranks(watchers, regions) for key, regions in covering.items()}
        plans = [
            AlertPlan(ranks[story.id, story.revision], story.id, post_id, story.revision, at)
            for story, post_id, at in alerts
        ]
        # Each change bumped its story's revision by one: what is left is the revision the story
        # had when the batch read it (0 for one it opened), which no outbox row of it is above.
        bumps = Counter(story.id for story, _ in revisions)
        settled = {story.id: current[story.id].revision - bumps[story.id] for story, _, _ in alerts}
        statements, folded = alert_statements(
            [plan for plan in plans if plan.chats], late_after=self.late_after, settled=settled
        )
        changed = await write_batch(conn, writes + statements)
        return result, sum(changed[len(writes):]) + folded

    def forget(self) -> None:
        """Drop the in-memory index (after a rolled-back transaction it may name stories that never were)."""
        self.index = StoryIndex(self.index.window)

    async def _load(self, conn: aiosqlite.Connection, at: datetime, batch: dict[int, Story]) -> None:
        """Make the index cover `at`: on moving it, read the stories of the new span, and add
        back the `batch`'s own stories, which are not written yet."""
        if self.index.covers(at):
            return
        start, end = self.index.reset(at)
        for story_id, event_at, features in await stories_between(conn, start, end):
            self.index.add(story_id, event_at or at, features)
        for story in batch.values():
            self.index.add(story.id, from_db(story.event_at) or at, story.features)
