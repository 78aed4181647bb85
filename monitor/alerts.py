"""Stories and alert planning for one stored post, inside the transaction that stored it."""

from __future__ import annotations

from datetime import timedelta

import aiosqlite

from analysis.gazetteer import get_gazetteer
from analysis.model import Analysis
from storage.outbox import plan_alerts
from storage.posts import Change
from storage.stories import Story, merge_into_story, open_story, story_of_post
from storage.subscriptions import chats_watching
from storage.timeutil import to_db, utcnow

__all__ = ["attach_and_plan", "regions_covering"]


def regions_covering(story: Story) -> set[str]:
    """Every subscription key that should hear of the story: oblast ISO codes and the
    KATOTTH codes of each place and of the units containing it."""
    gazetteer = get_gazetteer()
    regions = set(story.oblasts)
    for place in story.places:
        code = place["code"]
        regions.add(code)
        regions.add(place["oblast"])
        try:
            regions.update(gazetteer.ancestors(code))
        except KeyError:
            continue
    return regions


async def attach_and_plan(
    conn: aiosqlite.Connection, change: Change, analysis: Analysis, *, alert_max_age: float
) -> tuple[Story, int]:
    """Put the post in its story and queue alerts for the chats watching the story's places.

    A post published longer than `alert_max_age` seconds ago (first run, backfill, catch-up)
    is archived and clustered but alerts nobody. Returns the story and the rows queued.
    """
    post = change.post
    story = await story_of_post(conn, post.id)
    if story is None:
        story = await open_story(conn, post.id, analysis, to_db(post.published_at))
    else:
        story, _ = await merge_into_story(conn, story, post.id, analysis)
    if not story.is_strike:
        return story, 0
    if post.published_at is not None and utcnow() - post.published_at > timedelta(seconds=alert_max_age):
        return story, 0
    chats = await chats_watching(conn, regions_covering(story))
    return story, await plan_alerts(conn, chats, story.id, post.id, story.revision)
