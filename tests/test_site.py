"""The public site rendered from a real archive (posts stored and clustered by the storage and
story code), read back as files, as feeds and data, and in a real headless Chromium."""

from __future__ import annotations

import asyncio
import csv
import fcntl
import functools
import io
import json
import os
import queue
import shutil
import subprocess
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import feedparser
import pytest
from PIL import Image

from analysis.analyze import analyze
from collectors.base import RawPost
from monitor.cli.main import main
from monitor.config import Config, ConfigError, SiteConfig, load_config
from monitor.ops import faults
from monitor.planner import StoryPlanner
from research.events import EVENT_KEYS
from research.site import RenderReport, Site
from research.site.worker import SiteWorker
from storage.database import Database
from storage.media import pending_media, store_media
from storage.posts import upsert_posts
from storage.sources import ensure_source, record_success
from storage.timeutil import utcnow

NOW = utcnow()
# (message id, hours ago, text, photos): story 1 Balakliia (its figures rise with message 102),
# 2 Odesa oblast, 3 Kyiv, 4 Izium (ten days ago: not on the week's map), and a non-strike post.
POSTS = [
    (101, 3, "Харківщина: внаслідок ракетного удару по Балаклії зруйновано приватний будинок. "
             "Загинула 1 людина, ще 3 травмовані.", 1),
    (103, 48, "Одещина: вночі ворог атакував ударними БпЛА портову інфраструктуру. Виникла пожежа.", 0),
    (104, 30, "Київ: уламки збитого дрона впали на територію Дарницького району. Загинули 2 людини, "
              "ще 11 — травмовані.", 0),
    (105, 240, "Ізюм: обстріл з артилерії, пошкоджено будинок. Постраждалих немає.", 0),
    (106, 5, "Пожежно-рятувальні підрозділи провели навчання з сапером у Полтаві.", 0),
]
UPDATE = (102, 1, "Балаклія: кількість загиблих внаслідок ракетного удару зросла до 3, травмовані — 8 людей.", 0)
WEEK = {1, 2, 3}  # the stories of the last 7 days
PAGE_LIMIT = 200_000


async def _store(db: Database, planner: StoryPlanner, posts: list[tuple[int, int, str, int]]) -> None:
    source = await ensure_source(db, "dsns_telegram", "telegram_web", "https://t.me/s/dsns_telegram")
    for ext, hours, text, photos in posts:
        post = RawPost(
            stream="dsns_telegram", external_id=str(ext), url=f"https://t.me/dsns_telegram/{ext}",
            published_at=NOW - timedelta(hours=hours), text=text,
            photos=tuple(f"https://cdn.invalid/{ext}-{n}.jpg" for n in range(photos)),
        )
        async with db.write() as conn:
            (change,) = await upsert_posts(conn, source.id, [post])
            await planner.attach_and_plan(conn, change, analyze(text))
    async with db.write() as conn:
        await record_success(conn, source.id, cursor=None, etag=None, last_modified=None)
    image = io.BytesIO()
    Image.new("RGB", (900, 600), (190, 70, 40)).save(image, "PNG")
    for item in await pending_media(db):
        await store_media(db, item, image.getvalue(), "image/png")


@dataclass
class Rendered:
    out: Path
    db: Path
    full: RenderReport
    update: RenderReport
    untouched_mtime: float  # story 2's page before the update
    untouched_mtime_after: float


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    """An archive rendered whole, then again after a post raised story 1's figures."""
    folder = tmp_path_factory.mktemp("site")
    out, path = folder / "out", folder / "archive.db"
    config = Config(site=SiteConfig(tile_url="http://127.0.0.1:9/tiles/{z}/{x}/{y}.png", base_url=""))

    async def build() -> Rendered:
        db = await Database.open(path)
        try:
            planner = StoryPlanner(window=timedelta(hours=12), alert_max_age=0)
            await _store(db, planner, POSTS)
            site = Site(db, config, out)
            full = await site.render_all()
            before = (out / "uk/story/2.html").stat().st_mtime
            await asyncio.sleep(0.01)
            await _store(db, planner, [UPDATE])
            update = await site.render_changes()
            after = (out / "uk/story/2.html").stat().st_mtime
        finally:
            await db.close()
        return Rendered(out, path, full, update, before, after)

    return asyncio.run(build())


def test_render_after_a_poll_redoes_only_the_changed_story(site: Rendered) -> None:
    assert site.full.stories == 4  # strike stories only: the training post has no page
    assert not (site.out / "uk/story/5.html").exists()
    assert site.update.stories == 1
    assert site.untouched_mtime_after == site.untouched_mtime
    # Story 1's pages in both languages, the front pages, its oblast's pages and feeds, the
    # country feeds and the data files; the other 30-odd pages and feeds per language stay.
    assert site.update.written <= 20 < site.full.written
    assert "3 → 8" in (site.out / "en/story/1.html").read_text()


def test_story_page_shows_figures_history_posts_and_photos(site: Rendered) -> None:
    page = (site.out / "uk/story/1.html").read_text()
    assert '<span class="value">3</span>' in page and "1 → 3 о" in page
    assert page.count('<article class="post') == 2
    assert 'href="https://t.me/dsns_telegram/101"' in page and 'href="https://t.me/dsns_telegram/102"' in page
    (photo,) = sorted((site.out / "photos").iterdir())
    assert f"../../photos/{photo.name}" in page
    with Image.open(photo) as image:
        assert image.format == "JPEG" and max(image.size) == 480  # a thumbnail, not the 900 px original


def test_pages_are_small_and_every_file_is_published_readable(site: Rendered) -> None:
    pages = list(site.out.rglob("*.html"))
    assert len(pages) == 1 + 2 * (27 + 4 + 2)  # root; per language 27 oblasts, 4 stories, front, sources
    for page in pages:
        assert page.stat().st_size < PAGE_LIMIT, page
        assert page.stat().st_mode & 0o044 == 0o044
    assert not list(site.out.rglob("*.tmp"))
    # Without JavaScript the list is the page: every story is in the HTML as served.
    front = (site.out / "en/index.html").read_text()
    assert front.count('<li class="story"') == 4 and 'href="../uk/index.html"' in front


def _atom(path: Path) -> feedparser.FeedParserDict:
    root = ET.parse(path).getroot()
    ns = {"a": "http://www.w3.org/2005/Atom"}
    assert root.tag == "{http://www.w3.org/2005/Atom}feed"
    for name in ("id", "title", "updated", "author", "rights"):
        assert root.find(f"a:{name}", ns) is not None, name
    for entry in root.findall("a:entry", ns):
        for name in ("id", "title", "updated", "link", "summary"):
            assert entry.find(f"a:{name}", ns) is not None, name
    parsed = feedparser.parse(path.read_bytes())
    assert not parsed.bozo, parsed.get("bozo_exception")
    return parsed


def test_atom_feeds_parse_and_an_entry_is_updated_when_figures_change(site: Rendered) -> None:
    country = _atom(site.out / "uk/feed.atom")
    assert [e.id for e in country.entries] == [f"urn:dsns-monitor:story:{n}" for n in (1, 3, 2, 4)]
    kharkiv = _atom(site.out / "en/oblast/UA-63.atom")
    assert [e.id for e in kharkiv.entries] == ["urn:dsns-monitor:story:1", "urn:dsns-monitor:story:4"]
    balakliia = kharkiv.entries[0]
    assert balakliia.updated_parsed > balakliia.published_parsed
    assert "Killed: 3" in balakliia.summary
    assert "CC BY 4.0" in kharkiv.feed.rights
    assert _atom(site.out / "uk/oblast/UA-07.atom").entries == []


def test_events_geojson_csv_and_stories_json(site: Rendered) -> None:
    with (site.out / "events.csv").open(encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    assert list(rows[0]) == list(EVENT_KEYS)
    geo = json.loads((site.out / "events.geojson").read_text())
    assert geo["type"] == "FeatureCollection" and geo["licence"] == "CC BY 4.0" and geo["attribution"]
    for feature in geo["features"]:
        lon, lat = feature["geometry"]["coordinates"]
        assert 44 < lat < 53 and 22 < lon < 41
    assert len(geo["features"]) + geo["events_without_coordinates"] == len(rows) == 4
    balakliia = next(r for r in rows if r["story_id"] == "1")
    assert (balakliia["location"], balakliia["fatalities"], balakliia["injured"]) == ("Balakliia", "3", "8")
    stories = json.loads((site.out / "stories.json").read_text())
    assert stories["licence"] == "CC BY 4.0"
    assert [s["id"] for s in stories["stories"]] == [1, 2, 3, 4]
    assert "CC BY 4.0" in (site.out / "DATA-LICENSE.txt").read_text()


def test_oblast_page_lists_its_stories_with_a_30_day_chart(site: Rendered) -> None:
    page = (site.out / "uk/oblast/UA-63.html").read_text()
    assert page.count('<li class="story"') == 2
    assert page.count("<rect ") == 30
    assert page.count('data-count="1"') == 2  # Balakliia today, Izium ten days ago
    assert "Балаклійська" in page  # the hromada with strikes


def test_events_csv_is_what_export_writes(site: Rendered, tmp_path: Path) -> None:
    assert main(["export", "--what", "events", "--format", "csv", "--db", str(site.db), "-o", str(tmp_path / "e.csv")]) == 0
    assert (site.out / "events.csv").read_bytes() == (tmp_path / "e.csv").read_bytes()


def test_coverage_page_shows_each_source_with_its_state_and_last_post(site: Rendered) -> None:
    page = (site.out / "en/coverage.html").read_text()
    row = page[page.index('<tr class="ok">'):]
    row = row[:row.index("</tr>")]
    assert 'href="https://t.me/s/dsns_telegram"' in row and "<td>working</td>" in row
    assert row.count(f"{NOW.year}") == 2  # the last post and the last check, in Kyiv time


def test_cli_renders_into_out_and_names_the_missing_folder(site: Rendered, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["site", "--db", str(site.db)]) == 2
    assert "--out DIR" in capsys.readouterr().err
    assert main(["site", "--db", str(site.db), "--out", str(tmp_path / "www")]) == 0
    assert "4 strike stories" in capsys.readouterr().err
    assert (tmp_path / "www/en/story/3.html").exists() and (tmp_path / "www/static/leaflet.js").exists()


def test_site_config_out_is_relative_to_the_config_file(tmp_path: Path) -> None:
    (tmp_path / "c.toml").write_text('[site]\nout = "public"\nbase_url = "https://example.org/strikes/"\n')
    config = load_config(tmp_path / "c.toml")
    assert config.site.out == tmp_path / "public" and config.site.base_url == "https://example.org/strikes"
    (tmp_path / "bad.toml").write_text('[site]\nbase_url = "example.org"\n')
    with pytest.raises(ConfigError, match="site.base_url"):
        load_config(tmp_path / "bad.toml")


async def test_daemon_worker_renders_at_start_and_after_a_burst_of_polls(site: Rendered, tmp_path: Path) -> None:
    shutil.copy(site.db, tmp_path / "archive.db")
    db = await Database.open(tmp_path / "archive.db")
    out = tmp_path / "www"
    results: list[str | None] = []
    worker = SiteWorker(Site(db, Config(), out), debounce=0.05, sweep=60, on_result=results.append)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        await _appears(out / "uk/index.html")
        planner = StoryPlanner(window=timedelta(hours=12), alert_max_age=0)
        await _store(db, planner, [(107, 0, "Запоріжжя: ворог завдав удару КАБами, поранено 4 людей.", 0)])
        worker.poke()
        worker.poke()  # polls of several sources end together: one render
        await _appears(out / "uk/index.html", "Запоріж")  # the lists are written after the story pages
        assert (out / "uk/story/6.html").exists()
        assert not faults.active()
        assert results and set(results) == {None}  # every render succeeded, and said so
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
        await db.close()


async def test_site_worker_reports_a_failed_render_to_its_callback(site: Rendered, tmp_path: Path) -> None:
    out = tmp_path / "www"
    out.write_text("a file where the folder should be")
    results: list[str | None] = []
    db = await Database.open(site.db, read_only=True)
    try:
        worker = SiteWorker(Site(db, Config(), out), debounce=0.05, sweep=60, on_result=results.append)
        stop = asyncio.Event()
        stop.set()  # render once at start, then stop
        await worker.run(stop)
    finally:
        await db.close()
    assert len(results) == 1 and (results[0] or "").startswith("site render failed"), results


async def _appears(path: Path, text: str = "", timeout: float = 10) -> None:
    """Wait until `path` is there (and says `text`)."""
    for _ in range(int(timeout / 0.02)):
        if path.exists() and text in path.read_text():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{path} was not rendered (with {text!r})")


# --- In a real browser -------------------------------------------------------------------------

class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def served(site: Rendered) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(site.out)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


class Chromium:
    """Headless Chromium driven over the DevTools protocol on a pipe (fds 3 and 4 of the child):
    one process for every page; nothing but 127.0.0.1 resolves."""

    def __init__(self, binary: str, profile: Path) -> None:
        to_child, self._out = os.pipe()
        self._in, from_child = os.pipe()
        # Above the fds the shell is told to fill (bash: dash takes only single digits), so no
        # redirection overwrites the source of another.
        high_in = fcntl.fcntl(to_child, fcntl.F_DUPFD_CLOEXEC, 10)
        high_out = fcntl.fcntl(from_child, fcntl.F_DUPFD_CLOEXEC, 10)
        for fd in (to_child, from_child):
            os.close(fd)
        flags = [
            "--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe", f"--user-data-dir={profile}",
            "--no-first-run", "--no-default-browser-check", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--disable-extensions", "--window-size=1200,900",
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1", "about:blank",
        ]
        self.proc = subprocess.Popen(
            ["bash", "-c", f'exec "$0" "$@" 3<&{high_in} 4>&{high_out} {high_in}<&- {high_out}>&-', binary, *flags],
            pass_fds=(high_in, high_out), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        os.close(high_in)
        os.close(high_out)
        self._messages: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._events: list[dict[str, Any]] = []
        self._next = 0
        threading.Thread(target=self._read, daemon=True).start()
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        self.call("Page.enable", session=self.session)

    def _read(self) -> None:
        buffer = b""
        with os.fdopen(self._in, "rb", buffering=0) as pipe:
            while chunk := pipe.read(65536):
                buffer += chunk
                *messages, buffer = buffer.split(b"\0")
                for message in messages:
                    self._messages.put(json.loads(message))
        self._messages.put(None)

    def call(self, method: str, params: dict[str, Any] | None = None, *, session: str | None = None) -> dict[str, Any]:
        self._next += 1
        message: dict[str, Any] = {"id": self._next, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._out, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._messages.get(timeout=10)
            assert reply is not None, "chromium exited"
            if reply.get("id") == self._next:
                assert "error" not in reply, reply["error"]
                return reply["result"]
            self._events.append(reply)

    def open(self, url: str, check: str, screenshot: Path) -> Any:
        """Load `url`, run the async JS expression `check` and return its value; save a screenshot."""
        self._events.clear()
        self.call("Page.navigate", {"url": url}, session=self.session)
        while not any(e.get("method") == "Page.loadEventFired" for e in self._events):
            reply = self._messages.get(timeout=10)
            assert reply is not None, "chromium exited"
            self._events.append(reply)
        result = self.call("Runtime.evaluate", {"expression": check, "awaitPromise": True, "returnByValue": True},
                           session=self.session)
        assert "exceptionDetails" not in result, result["exceptionDetails"]
        import base64

        shot = self.call("Page.captureScreenshot", {"format": "png"}, session=self.session)
        screenshot.write_bytes(base64.b64decode(shot["data"]))
        return result["result"]["value"]

    def close(self) -> None:
        os.close(self._out)  # chromium exits when its pipe closes
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


_READ_PAGE = """(async () => {
  const images = [...document.images];
  images.forEach(i => { i.loading = "eager"; });
  await Promise.all(images.map(i => i.complete ? null : new Promise(r => { i.onload = i.onerror = r; })));
  const text = s => { const e = document.querySelector(s); return e ? e.textContent.trim() : null; };
  return {
    markers: document.querySelectorAll(".map path.leaflet-interactive").length,
    drawn: [...document.querySelectorAll(".map")].map(m => m.dataset.drawn),
    items: [...document.querySelectorAll("ol.stories li.story")].map(li => Number(li.dataset.id)),
    killed: text("dd.killed .value"), history: text("dd.killed .history"),
    photos: images.filter(i => i.classList.contains("photo")).map(i => i.naturalWidth),
    bars: document.querySelectorAll("svg.chart rect").length,
    tiles_out: [...document.querySelectorAll(".leaflet-tile")].filter(t => !t.src.startsWith("http://127.0.0.1")).length,
  };
})()"""


def test_pages_in_a_real_browser(site: Rendered, served: str, tmp_path: Path) -> None:
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        pytest.skip("chromium is not installed (Debian: apt-get install chromium; .ci/run installs it in CI)")
    geo = json.loads((site.out / "events.geojson").read_text())
    on_map = {f["properties"]["story_id"] for f in geo["features"]} & WEEK
    browser = Chromium(binary, tmp_path / "profile")
    try:
        front = browser.open(f"{served}/uk/index.html", _READ_PAGE, tmp_path / "front.png")
        oblast = browser.open(f"{served}/en/oblast/UA-63.html", _READ_PAGE, tmp_path / "oblast.png")
        story = browser.open(f"{served}/uk/story/1.html", _READ_PAGE, tmp_path / "story.png")
    finally:
        browser.close()
    assert front["markers"] == len(on_map) >= 2 and front["drawn"] == [str(len(on_map))]
    assert front["items"] == [1, 3, 2, 4]
    assert front["tiles_out"] == 0
    assert oblast["items"] == [1, 4] and oblast["bars"] == 30 and oblast["markers"] == 0
    assert story["killed"] == "3" and story["history"].startswith("1 → 3 о ")
    assert story["photos"] and all(width > 0 for width in story["photos"])
    assert story["markers"] == 1  # Balakliia; the oblast is listed, not drawn
    for name in ("front", "oblast", "story"):
        with Image.open(tmp_path / f"{name}.png") as shot:
            assert shot.size[0] > 0


async def test_hostile_post_text_and_a_stored_non_image_do_not_stop_a_render(tmp_path: Path) -> None:
    # Markup, a right-to-left override, zero-width and mathematical digits in a long post, and a
    # "photo" whose bytes are no image: the page escapes the text and leaves the photo out.
    hostile = ("Харківщина: ракетний удар по Балаклії, загинула 1 людина. <script>alert(1)</script> "
               "\u202e\u200b𝟗𝟗 м ² " + "ж" * 60_000)
    db = await Database.open(tmp_path / "archive.db")
    try:
        source = await ensure_source(db, "dsns_telegram", "telegram_web", "https://t.me/s/dsns_telegram")
        post = RawPost(stream="dsns_telegram", external_id="7", url="https://t.me/dsns_telegram/7",
                       published_at=NOW - timedelta(hours=1), text=hostile, photos=("https://cdn.invalid/7.jpg",))
        planner = StoryPlanner(window=timedelta(hours=12), alert_max_age=0)
        async with db.write() as conn:
            (change,) = await upsert_posts(conn, source.id, [post])
            await planner.attach_and_plan(conn, change, analyze(hostile))
        for item in await pending_media(db):
            await store_media(db, item, b"\xff\xd8\xff not really a jpeg", "image/jpeg")
        out = tmp_path / "out"
        report = await Site(db, Config(site=SiteConfig(base_url="")), out).render_all()
    finally:
        await db.close()
    assert report.stories == 1
    page = (out / "uk/story/1.html").read_text()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    photos = out / "photos"
    assert not photos.exists() or not any(photos.iterdir())
