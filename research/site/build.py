"""Render the public site: every strike story's page, the pages and feeds that list stories, and
the open data, into one folder any static host serves.

A `Site` keeps the stories it rendered, so that after a poll `render_changes()` reads and
redoes only the stories a post joined since (and the lists, feeds and data files, which are
cheap from memory). Reading is async (the archive); making pages and thumbnails is CPU work and
runs in a thread, off the event loop.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from analysis.gazetteer import get_gazetteer
from dsns.timezone import KYIV
from research.commands import csv_line
from research.events import EVENT_KEYS
from research.site.model import (
    LANGS,
    StoryView,
    chart,
    day_counts,
    oblast_name,
    place_name,
    story_view,
    top_hromadas,
    with_history,
)
from research.site.output import Output, thumbnail
from research.site.render import LABELS, render, story_summary
from storage.database import Database
from storage.media import photo_data
from storage.research import STORY_KEYS, iter_stories
from storage.site import SitePost, figure_history, last_change, story_posts
from storage.sources import list_sources, silences
from storage.timeutil import to_db, utcnow

__all__ = ["Site", "RenderReport"]

_BATCH = 500  # stories whose pages are made per read of their posts
LATEST = 50  # stories in a page's or feed's list
MAP_DAYS = 7
CHART_DAYS = 30


@dataclass(frozen=True, slots=True)
class RenderReport:
    stories: int  # story pages rendered (each in both languages)
    written: int  # files replaced
    unchanged: int  # files rendered the same as before, left alone
    seconds: float
    without_coordinates: int  # events left out of events.geojson


class SiteSection(Protocol):
    """What the site reads of the `[site]` settings."""

    @property
    def language(self) -> str: ...
    @property
    def base_url(self) -> str: ...
    @property
    def licence(self) -> str: ...
    @property
    def tile_url(self) -> str: ...
    @property
    def attribution(self) -> str: ...


class HealthSection(Protocol):
    """What the site reads of the `[health]` settings: when a silent source counts as stale."""

    @property
    def stale_floor_hours(self) -> float: ...


class SiteSettings(Protocol):
    """The settings the site renders with (monitor.config.Config meets it), as the bot takes its
    channels: the site knows nothing of how they are configured."""

    @property
    def site(self) -> SiteSection: ...
    @property
    def health(self) -> HealthSection: ...


class Site:
    """The site in `out`, rendered from `db` with `config`'s `[site]` and `[health]` settings."""

    def __init__(self, db: Database, config: SiteSettings, out: Path) -> None:
        self.db = db
        self.config = config
        self.output = Output(Path(out))
        self.stories: dict[int, StoryView] = {}
        self.rows: dict[int, dict[str, Any]] = {}  # STORY_KEYS rows, for stories.json
        # Each story's line of events.csv and feature of events.geojson (None: not there), made
        # when the story is read, so the files are joined, not remade, after a poll.
        self.data_lines: dict[int, tuple[str | None, str | None]] = {}
        self.day = ""  # the Kyiv date of the last render: oblast charts move with it
        self.watermark: str | None = None  # the newest story change already rendered
        self.photos: set[str] = set()  # SHA-256 of thumbnails in the folder
        self.unreadable: set[str] = set()  # stored photos that are not images
        self.without_coordinates = 0

    async def render_all(self) -> RenderReport:
        """Every page and file, from the whole archive."""
        started, before = time.perf_counter(), (self.output.written, self.output.unchanged)
        watermark = await last_change(self.db)  # read first: a change during the render is redone next time
        await asyncio.to_thread(self.output.copy_static)
        self.stories.clear()
        self.rows.clear()
        self.data_lines.clear()
        ids = await self._load(iter_stories(self.db, strikes_only=True))
        await self._story_pages(ids)
        await self._lists()
        self.watermark = watermark
        return self._report(len(ids), started, before)

    async def render_changes(self) -> RenderReport:
        """The pages of the stories changed since the last render, and the lists, feeds and data
        files (those of the oblasts with changed stories); the first time, everything."""
        if self.watermark is None:
            return await self.render_all()
        started, before = time.perf_counter(), (self.output.written, self.output.unchanged)
        watermark = await last_change(self.db)
        # At or after: a change in the same second as the last render's newest is read again
        # (and skipped when it is what was rendered). With no story changed, the lists are still
        # redone: the sources' states (and, past midnight, the charts) may have moved.
        ids = await self._load(iter_stories(self.db, strikes_only=True, changed_since=self.watermark), only_changed=True)
        await self._story_pages(ids)
        await self._lists({iso for i in ids for iso in self.stories[i].oblasts})
        self.watermark = watermark
        return self._report(len(ids), started, before)

    def _report(self, stories: int, started: float, before: tuple[int, int]) -> RenderReport:
        return RenderReport(
            stories=stories, written=self.output.written - before[0], unchanged=self.output.unchanged - before[1],
            seconds=time.perf_counter() - started, without_coordinates=self.without_coordinates,
        )

    async def _load(self, rows: AsyncIterator[dict[str, Any]], *, only_changed: bool = False) -> list[int]:
        """Read stories into memory with their figures' history; returns their ids. With
        `only_changed`, a story read exactly as last time (read again because it changed in the
        same second as the last render's newest change) is skipped."""
        found = [row async for row in rows]
        if only_changed:
            found = [row for row in found if self.rows.get(row["id"]) != {key: row[key] for key in STORY_KEYS}]
        views = await asyncio.to_thread(lambda: [(view, _data_lines(view)) for view in map(story_view, found)])
        ids = [view.id for view, _ in views]
        history = await figure_history(self.db, ids)
        for row, (view, lines) in zip(found, views):
            self.stories[view.id] = with_history(view, history.get(view.id, []))
            self.rows[view.id] = {key: row[key] for key in STORY_KEYS}
            self.data_lines[view.id] = lines
        return ids

    async def _story_pages(self, ids: list[int]) -> None:
        for start in range(0, len(ids), _BATCH):
            batch = ids[start:start + _BATCH]
            posts = await story_posts(self.db, batch)
            blobs: dict[str, bytes] = {}
            for sha in {sha for story in posts.values() for post in story for sha in post.photos}:
                if sha in self.photos or sha in self.unreadable:
                    continue
                if self.output.exists(f"photos/{sha}.jpg"):
                    self.photos.add(sha)
                elif (stored := await photo_data(self.db, sha)) is not None:
                    blobs[sha] = stored[1]
            await asyncio.to_thread(self._write_story_pages, batch, posts, blobs)

    def _write_story_pages(self, ids: list[int], posts: dict[int, list[SitePost]], blobs: dict[str, bytes]) -> None:
        for sha, data in blobs.items():
            small = thumbnail(data)
            if small is None:
                self.unreadable.add(sha)
                continue
            self.output.write(f"photos/{sha}.jpg", small)
            self.photos.add(sha)
        for story_id in ids:
            story = self.stories[story_id]
            for lang in LANGS:
                markers = [[*p["point"], 7, story.colour, None, place_name(p, lang), None, None]
                           for p in story.precise_places if p["point"]]
                path = f"story/{story_id}.html"
                self.output.write(f"{lang}/{path}", self._page(
                    "story.html", lang, path, depth=2, s=story, title=story.title(lang), posts=posts.get(story_id, []),
                    photos=self.photos, markers=markers, maps=bool(markers),
                ))

    def _page(self, template: str, lang: str, path: str, *, depth: int, **context: Any) -> bytes:
        site = self.config.site
        return render(
            template, lang, root="../" * depth, other=LANGS[1 - LANGS.index(lang)], path=path,
            licence=site.licence, tile_url=site.tile_url, attribution=site.attribution,
            **{"maps": False, **context},
        )

    async def _lists(self, oblasts: set[str] | None = None) -> None:
        """The front, sources and oblast pages, the feeds and the data files; only the pages and
        feeds of `oblasts` among the oblasts' (all of them on a new day, or when None)."""
        sources = await list_sources(self.db)
        quiet = await silences(self.db)
        await asyncio.to_thread(self._write_lists, sources, quiet, oblasts)

    def _write_lists(self, sources: list[Any], quiet: dict[str, Any], only: set[str] | None) -> None:
        now = utcnow()
        today = now.astimezone(KYIV).date()
        if today.isoformat() != self.day:
            only, self.day = None, today.isoformat()
        newest = sorted(self.stories.values(), key=lambda s: (s.event_at or "", s.id), reverse=True)
        week = to_db(now - timedelta(days=MAP_DAYS)) or ""
        first_day = (today - timedelta(days=CHART_DAYS - 1)).isoformat()
        recent = [s for s in newest if (s.day or "") >= first_day]
        by_oblast: dict[str, list[StoryView]] = {}
        for story in newest:
            for iso in story.oblasts:
                by_oblast.setdefault(iso, []).append(story)
        oblasts = [u.oblast for u in get_gazetteer().oblasts()]
        for lang in LANGS:
            counts = [(iso, sum(1 for s in by_oblast.get(iso, []) if (s.day or "") >= first_day)) for iso in oblasts]
            markers = [s.marker(lang) for s in newest if (s.event_at or "") >= week and s.point]
            self.output.write(f"{lang}/index.html", self._page(
                "index.html", lang, "index.html", depth=1, markers=markers, latest=newest[:LATEST],
                oblasts=counts, maps=True,
            ))
            self._feed(lang, "feed.atom", LABELS[lang]["all_ukraine"], "all", newest, depth=0)
            for iso in oblasts if only is None else [iso for iso in oblasts if iso in only]:
                stories = by_oblast.get(iso, [])
                month = [s for s in stories if (s.day or "") >= first_day]
                path = f"oblast/{iso}.html"
                self.output.write(f"{lang}/{path}", self._page(
                    "oblast.html", lang, path, depth=2, iso=iso, stories=stories[:LATEST],
                    chart=chart(day_counts(month, today, CHART_DAYS)), hromadas=top_hromadas(month, iso),
                ))
                self._feed(lang, f"oblast/{iso}.atom", oblast_name(iso, lang), iso, stories, depth=1)
            self.output.write(f"{lang}/coverage.html", self._page(
                "coverage.html", lang, "coverage.html", depth=1, sources=_coverage(self.config, sources, quiet, now),
            ))
        self._open_data(recent)
        target = f"{self.config.site.language}/index.html"
        self.output.write("index.html", (
            f'<!doctype html><meta charset="utf-8"><meta http-equiv="refresh" content="0; url={target}">'
            f'<title>{LABELS["uk"]["site"]}</title><a href="{target}">{LABELS["uk"]["site"]}</a> · '
            f'<a href="en/index.html">{LABELS["en"]["site"]}</a>\n'
        ).encode("utf-8"))

    def _feed(self, lang: str, path: str, title: str, key: str, stories: list[StoryView], *, depth: int) -> None:
        """An Atom feed of the newest strike stories (all of Ukraine, or one oblast)."""
        entries = stories[:LATEST]
        base = self.config.site.base_url
        html = path.removesuffix(".atom") + ".html" if key != "all" else "index.html"
        self.output.write(f"{lang}/{path}", render(
            "feed.atom", lang, feed_id=f"urn:dsns-monitor:feed:{lang}:{key}",
            title=title,
            # An empty feed never changed: a fixed time keeps its file (and readers) still.
            updated=max((s.updated for s in entries), default="2022-02-24T00:00:00Z"),
            self_href=f"{base}/{lang}/{path}" if base else path.rsplit("/", 1)[-1],
            html_href=f"{base}/{lang}/{html}" if base else html.rsplit("/", 1)[-1],
            story_base=f"{base}/{lang}/story/" if base else "../" * depth + "story/",
            stories=entries, licence=self.config.site.licence, summary=story_summary,
        ))

    def _open_data(self, recent: list[StoryView]) -> None:
        site = self.config.site
        attribution = LABELS["en"]["attribution"]
        lines = [self.data_lines[i] for i in sorted(self.data_lines)]
        features = [feature for _, feature in lines if feature is not None]
        self.without_coordinates = sum(1 for row, feature in lines if row is not None and feature is None)
        head = json.dumps({
            "type": "FeatureCollection", "licence": site.licence, "attribution": attribution,
            "events_without_coordinates": self.without_coordinates,
        }, ensure_ascii=False, separators=(",", ":"))
        self.output.write("events.geojson", f'{head[:-1]},"features":[{",".join(features)}]}}\n'.encode("utf-8"))
        self.output.write("events.csv", (_CSV_HEADER + "".join(row for row, _ in lines if row is not None)).encode("utf-8"))
        self.output.write("stories.json", _json({
            "licence": site.licence, "attribution": attribution,
            "stories": [{**self.rows[s.id], "page": f"uk/story/{s.id}.html"} for s in sorted(recent, key=lambda s: s.id)],
        }))
        self.output.write("DATA-LICENSE.txt", (
            f"The data in this folder (events.csv, events.geojson, stories.json, the Atom feeds and the\n"
            f"pages) is offered under {site.licence}.\n\n{LABELS['en']['attribution']}\n\n{LABELS['uk']['attribution']}\n\n"
            "The map script ships Leaflet (BSD 2-Clause License): static/LEAFLET-LICENSE.txt.\n"
        ).encode("utf-8"))


_CSV_HEADER = csv_line(dict(zip(EVENT_KEYS, EVENT_KEYS)), EVENT_KEYS)


def _data_lines(story: StoryView) -> tuple[str | None, str | None]:
    """The story's events.csv line (the ACLED row of `export --what events`) and, when it has
    coordinates, its events.geojson feature."""
    event = story.event
    if event is None:
        return None, None
    row = csv_line(event, EVENT_KEYS)
    if event["latitude"] is None or event["longitude"] is None:
        return row, None
    feature = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [event["longitude"], event["latitude"]]},
               "properties": {k: event[k] for k in EVENT_KEYS}}
    return row, json.dumps(feature, ensure_ascii=False, separators=(",", ":"))


def _json(value: Any) -> bytes:
    return (json.dumps(value, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


def _coverage(config: SiteSettings, sources: list[Any], quiet: dict[str, Any], now: datetime) -> list[dict[str, Any]]:
    """Each source's state as a reader needs it: working, failing, silent for longer than usual."""
    floor = config.health.stale_floor_hours * 3600
    out = []
    for source in sources:
        silence = quiet.get(source.name)
        if source.checked_at is None:
            state = "unchecked"
        elif source.error_count:
            state = "failing"
        elif silence is not None and silence.is_stale(now, floor):
            state = "stale"
        else:
            state = "ok"
        out.append({
            "name": source.name, "url": source.url, "state": state, "checked": to_db(source.checked_at),
            "last_post": to_db(silence.last_post_at) if silence else None,
        })
    return out
