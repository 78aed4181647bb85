"""Per source per day: what the archive holds and what it may have missed (`dsns-monitor coverage`).

Counts (posts, edits, deletions, missing ids, fetches, polls) come from SQL per UTC day; the
figures about time (minutes without a good poll, stale hours) are stretches of time computed
from the poll log and the posts' dates, then cut at midnight UTC.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from storage.database import Database
from storage.polls import good_poll_gaps, ids_seen, poll_spans
from storage.sources import silences
from storage.timeutil import from_db, to_db, utcnow

__all__ = ["CoverageDay", "Unmatched", "coverage_days", "unmatched_posts"]

# A good poll vouches for the source until two of its intervals have passed: one late or
# failed poll is tolerated (it shows as a failed poll), a longer hole counts as time uncovered.
GRACE_INTERVALS = 2
_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class CoverageDay:
    """`missing_ids`: Telegram message ids between the day's lowest and highest post that no
    stored post has (an album's photos take one id each and are not counted missing);
    None for feeds. `fetches`: pages and feed bodies kept that day. `polls`, `failed_polls`:
    polls logged that day. `minutes_without_good_poll`: time more than two poll intervals
    after the last good poll (the daemon stopped, the source failing or backing off); None
    before the source's first logged poll (or the log's retention) and for sources not polled
    by the configuration. `stale_hours`: time the source was stale by /healthz's rule (silent
    for longer than 4 usual gaps and the floor), its usual gap being today's."""

    source: str
    day: str
    posts: int
    edits: int
    deletions: int
    missing_ids: int | None
    fetches: int
    polls: int = 0
    failed_polls: int = 0
    minutes_without_good_poll: int | None = None
    stale_hours: float = 0.0


async def coverage_days(
    db: Database, *, since: datetime | None = None, intervals: dict[str, float] | None = None,
    stale_floor: float = 6 * 3600.0, now: datetime | None = None,
) -> list[CoverageDay]:
    """Days (UTC) with anything to say, per source, oldest first. `intervals` are the poll
    intervals (seconds) of the sources the configuration polls."""
    now = now or utcnow()
    counts = await _archive_days(db, since)
    polls = await _poll_days(db, since)
    uncovered, observed = await _uncovered(db, since, intervals or {}, now)
    stale = await _stale(db, since, stale_floor, now)
    keys = set(counts) | set(polls) | {k for k, v in uncovered.items() if v} | {k for k, v in stale.items() if v}
    days: list[CoverageDay] = []
    for source, day in sorted(keys, key=lambda k: (k[1], k[0])):
        if since is not None and day < since.date().isoformat():
            continue
        base = counts.get((source, day)) or (0, 0, 0, None, 0)
        total, failed = polls.get((source, day), (0, 0))
        minutes = None
        if (source, day) in observed:
            minutes = round(uncovered.get((source, day), 0.0) / 60)
        days.append(CoverageDay(
            source, day, *base, polls=total, failed_polls=failed, minutes_without_good_poll=minutes,
            stale_hours=round(stale.get((source, day), 0.0) / 3600, 1),
        ))
    return days


def _per_day(spans: Iterable[tuple[datetime, datetime]]) -> dict[str, float]:
    """Seconds of the spans falling on each UTC day."""
    seconds: dict[str, float] = defaultdict(float)
    for start, end in spans:
        while start < end:
            midnight = start.replace(hour=0, minute=0, second=0, microsecond=0) + _DAY
            cut = min(end, midnight)
            seconds[start.date().isoformat()] += (cut - start).total_seconds()
            start = cut
    return seconds


async def _archive_days(db: Database, since: datetime | None) -> dict[tuple[str, str], tuple]:
    start = to_db(since) if since else ""
    rows = await db.fetchall(
        """WITH p AS (
               SELECT po.source_id, substr(po.published_at, 1, 10) AS day, po.kind, po.external_id,
                      (SELECT count(*) FROM post_media m WHERE m.post_id = po.id) AS photos
               FROM posts po WHERE po.source_id IS NOT NULL AND po.published_at >= ?
           ),
           posts_day AS (
               SELECT source_id, day, count(*) AS posts,
                      CASE WHEN sum(kind = 'article') > 0 THEN NULL ELSE
                          max(CAST(external_id AS INTEGER)) - min(CAST(external_id AS INTEGER)) + 1
                          - count(*) - sum(max(photos - 1, 0)) END AS missing
               FROM p GROUP BY source_id, day
           ),
           edits AS (
               SELECT po.source_id, substr(v.seen_at, 1, 10) AS day, count(*) AS edits
               FROM post_versions v JOIN posts po ON po.id = v.post_id
               WHERE v.version > 1 AND v.seen_at >= ? GROUP BY 1, 2
           ),
           deletions AS (
               SELECT source_id, substr(deleted_at, 1, 10) AS day, count(*) AS deletions
               FROM posts WHERE deleted_at >= ? GROUP BY 1, 2
           ),
           fetches AS (
               SELECT source_id, substr(fetched_at, 1, 10) AS day, count(*) AS fetches
               FROM payloads WHERE fetched_at >= ? GROUP BY 1, 2
           ),
           days AS (
               SELECT source_id, day FROM posts_day UNION SELECT source_id, day FROM edits
               UNION SELECT source_id, day FROM deletions UNION SELECT source_id, day FROM fetches
           )
           SELECT s.name, d.day, coalesce(pd.posts, 0), coalesce(e.edits, 0), coalesce(x.deletions, 0),
                  CASE WHEN s.type = 'rss' THEN NULL ELSE max(coalesce(pd.missing, 0), 0) END,
                  coalesce(f.fetches, 0)
           FROM days d JOIN sources s ON s.id = d.source_id
           LEFT JOIN posts_day pd ON pd.source_id = d.source_id AND pd.day = d.day
           LEFT JOIN edits e ON e.source_id = d.source_id AND e.day = d.day
           LEFT JOIN deletions x ON x.source_id = d.source_id AND x.day = d.day
           LEFT JOIN fetches f ON f.source_id = d.source_id AND f.day = d.day""",
        (start, start, start, start),
    )
    return {(row[0], row[1]): tuple(row[2:]) for row in rows}


async def _poll_days(db: Database, since: datetime | None) -> dict[tuple[str, str], tuple[int, int]]:
    rows = await db.fetchall(
        """SELECT s.name, substr(p.finished_at, 1, 10), count(*), sum(p.ok = 0)
           FROM polls p JOIN sources s ON s.id = p.source_id WHERE p.finished_at >= ? GROUP BY 1, 2""",
        (to_db(since) if since else "",),
    )
    return {(name, day): (total, failed) for name, day, total, failed in rows}


async def _uncovered(
    db: Database, since: datetime | None, intervals: dict[str, float], now: datetime
) -> tuple[dict[tuple[str, str], float], set[tuple[str, str]]]:
    """Seconds per (source, day) without a good poll vouching for the source, and the
    (source, day) pairs the poll log observed at all (from the source's first logged poll)."""
    spans = await poll_spans(db)
    grace = {name: GRACE_INTERVALS * interval for name, interval in intervals.items() if name in spans}
    # From one grace before `since`: a good poll just before it still vouches for its first minutes.
    lookback = since - timedelta(seconds=max(grace.values(), default=0)) if since else None
    gaps: dict[str, list[tuple[datetime | None, datetime]]] = defaultdict(list)
    for name, prev, end in await good_poll_gaps(db, grace, since=lookback):
        gaps[name].append((prev, end))
    uncovered: dict[tuple[str, str], float] = {}
    observed: set[tuple[str, str]] = set()
    for name, seconds in grace.items():
        first, last_good = spans[name]
        begin = max(first, since) if since else first
        observed.update((name, day) for day in _per_day([(begin, now)]))
        vouch = timedelta(seconds=seconds)
        # What came before the first logged poll is not known: it counts as covered.
        holes = [(first + vouch if prev is None else prev + vouch, end) for prev, end in gaps[name]]
        holes.append((max(first, last_good or first) + vouch, now))
        for day, hole in _per_day((max(a, begin), b) for a, b in holes if max(a, begin) < b).items():
            uncovered[(name, day)] = hole
    return uncovered, observed


async def _stale(db: Database, since: datetime | None, floor: float, now: datetime) -> dict[tuple[str, str], float]:
    """Seconds per (source, day) the source was stale: the stretch of each silence between
    two posts (or since the last) beyond the limit /healthz applies (`Silence.stale_after`)."""
    limits = {name: limit for name, s in (await silences(db)).items() if (limit := s.stale_after(floor)) is not None}
    if not limits:
        return {}
    start = to_db(since) if since else ""
    values = ", ".join("(?, ?)" for _ in limits)
    # Silences longer than the limit, found in SQL: the posts since `since` and each source's
    # last one before (a silence may span `since`), each with the post before it; and the
    # silence since each source's last post.
    rows = await db.fetchall(
        f"""WITH lim(name, seconds) AS (VALUES {values}),
               p AS (
                   SELECT source_id, published_at FROM posts WHERE source_id IS NOT NULL AND published_at >= ?
                   UNION ALL
                   SELECT id, (SELECT max(published_at) FROM posts WHERE source_id = sources.id AND published_at < ?)
                   FROM sources
               ),
               gaps AS (
                   SELECT source_id, lag(published_at) OVER (PARTITION BY source_id ORDER BY published_at) AS prev,
                          published_at AS next
                   FROM p WHERE published_at IS NOT NULL
                   UNION ALL
                   SELECT id, (SELECT max(published_at) FROM posts WHERE source_id = sources.id), NULL FROM sources
               )
            SELECT lim.name, lim.seconds, gaps.prev, gaps.next
            FROM gaps JOIN sources s ON s.id = gaps.source_id JOIN lim ON lim.name = s.name
            WHERE gaps.prev IS NOT NULL
              AND (julianday(coalesce(gaps.next, ?)) - julianday(gaps.prev)) * 86400 > lim.seconds""",
        (*(v for item in limits.items() for v in item), start, start, to_db(now)),
    )
    spans: dict[str, list[tuple[datetime, datetime]]] = defaultdict(list)
    for name, seconds, prev, following in rows:
        a = from_db(prev) + timedelta(seconds=seconds)  # type: ignore[operator]
        b = from_db(following) if following else now
        a = max(a, since) if since else a
        if b is not None and a < b:
            spans[name].append((a, b))
    return {(name, day): seconds for name, found in spans.items() for day, seconds in _per_day(found).items()}


@dataclass(frozen=True, slots=True)
class Unmatched:
    """A post of a channel read both over the web and MTProto that only one of them read."""

    day: str
    channel: str
    id: int
    published_at: str
    url: str | None
    seen_by: str
    missed_by: str


async def unmatched_posts(
    db: Database, pairs: list[tuple[str, str, str]], *, since: datetime | None = None
) -> list[Unmatched]:
    """For each (channel stream, web source, MTProto source): the channel's posts that one source
    read in a logged poll and the other never did, though it polled after the post appeared.
    Only posts published after both sources' first logged polls are judged (earlier ones one
    of them may never have been asked for)."""
    spans = await poll_spans(db)
    found: list[Unmatched] = []
    for stream, web, mtproto in pairs:
        if web not in spans or mtproto not in spans:
            continue
        (web_first, web_last), (mt_first, mt_last) = spans[web], spans[mtproto]
        if web_last is None or mt_last is None:
            continue
        start = max(web_first, mt_first, since) if since else max(web_first, mt_first)
        seen = {web: await ids_seen(db, web), mtproto: await ids_seen(db, mtproto)}
        rows = await db.fetchall(
            """SELECT external_id, published_at, url FROM posts
               WHERE stream = ? AND kind != 'article' AND published_at >= ? AND published_at <= ?
               ORDER BY published_at, CAST(external_id AS INTEGER)""",
            (stream, to_db(start), to_db(min(web_last, mt_last))),
        )
        for external_id, published, url in rows:
            if not external_id.isdecimal():
                continue
            number = int(external_id)
            by_web, by_mtproto = number in seen[web], number in seen[mtproto]
            if by_web != by_mtproto:
                seen_by, missed_by = (web, mtproto) if by_web else (mtproto, web)
                found.append(Unmatched(published[:10], stream, number, published, url, seen_by, missed_by))
    return found
