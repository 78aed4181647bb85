"""The layout canary: a body that answered 200 but parsed unlike the source's earlier ones.

Every scraper of t.me/s has at some point broken silently: the page still answers 200, the
parser finds nothing (or messages without their date or text), and the archive just stops
growing. Such a poll is a failure of its own kind ("layout changed?"), not "nothing new".
"""

from __future__ import annotations

from collectors.base import FetchResult
from storage.sources import PostProfile

__all__ = ["layout_change"]

# A source's posts "had" something when nearly all of them did (a sticker has no text, an
# odd old post no link), and a poll lacks it when most of its posts do.
_HAD = 0.9
_LACKS = 0.5


def layout_change(result: FetchResult, profile: PostProfile) -> str | None:
    """Why `result` looks like a changed layout, or None; a 304 and a source without stored
    posts are never judged."""
    if result.not_modified or profile.posts == 0:
        return None
    posts = result.posts
    if not posts and not result.rejected:
        return f"the answer parsed to no posts, where the source's last {profile.posts} posts were read"
    if not posts:
        return None

    def had(count: int) -> bool:
        return count >= _HAD * profile.posts

    undated = sum(p.published_at is None for p in posts)
    if undated and had(profile.dated):
        return f"{undated} of {len(posts)} posts parsed without a date, where the source's posts had one"
    empty = sum(not p.text.strip() and not p.photos for p in posts)
    if empty > _LACKS * len(posts) and had(profile.with_content):
        return f"{empty} of {len(posts)} posts parsed with neither text nor media"
    unlinked = sum(not p.url for p in posts)
    if unlinked and had(profile.linked):
        return f"{unlinked} of {len(posts)} entries parsed without a link, where the source's entries had one"
    return None
