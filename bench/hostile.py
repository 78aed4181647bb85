"""Parsing time on hostile input as it grows: linear now, against the old quadratic paths.

For each size, in the same run:
  1. feed HTML to text: `collectors.html.html_to_text` vs the regex pair it replaced
     (`<[^>]+>` and the line-break pattern), on text of `<` (what a feed of `&lt;` becomes);
  2. a t.me page of nested <div>: `parse_page` (nesting capped before lexbor) vs lexbor on the
     raw page (the old parser's tree building);
  3. a whole 10 MB feed of `&lt;` through `parse_feed` (no baseline: the old code needed hours).
The figure to read is how time grows when the size doubles: x2 is linear, x4 quadratic.

    python bench/hostile.py
"""

from __future__ import annotations

import re
import sys
import time
from html import unescape
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from selectolax.lexbor import LexborHTMLParser  # noqa: E402

from collectors.html import html_to_text  # noqa: E402
from collectors.rss import parse_feed  # noqa: E402
from collectors.telegram_web import parse_page  # noqa: E402

_OLD_TAG = re.compile(r"<[^>]+>")
_OLD_BREAK = re.compile(r"<\s*(br|/p|/div|/li)\b[^>]*>", re.IGNORECASE)


def old_plain(html: str) -> str:
    return unescape(_OLD_TAG.sub("", _OLD_BREAK.sub("\n", html)))


def timed(function, *args) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    function(*args)
    return time.perf_counter() - started


def nested_page(depth: int) -> str:
    return (
        '<div class="tgme_widget_message" data-post="chan/5"><div class="tgme_widget_message_text">'
        + "<div>" * depth + "text" + "</div>" * depth
        + '</div><a class="tgme_widget_message_date"><time datetime="2024-05-01T10:00:00+00:00"></time></a></div>'
    )


def main() -> None:
    print("feed text of '<' (chars)   html_to_text s   old regexes s")
    for n in (10_000, 20_000, 40_000, 80_000):
        print(f"{n:>26,} {timed(html_to_text, '<' * n):15.3f} {timed(old_plain, '<' * n):15.3f}")
    print("t.me page, nested <div>    parse_page s     raw lexbor s")
    for depth in (5_000, 10_000, 20_000, 40_000):
        page = nested_page(depth)
        print(f"{depth:>26,} {timed(parse_page, page):15.3f} {timed(LexborHTMLParser, page):15.3f}")
    body = ("<rss version='2.0'><channel><item><guid>1</guid><description>" + "&lt;" * 2_500_000
            + "</description></item></channel></rss>").encode()
    print(f"parse_feed, 10 MB of &lt;: {timed(lambda: parse_feed(body, stream='bench')):.2f} s")


if __name__ == "__main__":
    main()
