"""HTML handed to lexbor, in time linear in its size whatever a hostile page holds.

lexbor's tree builder is linear for flat markup but quadratic in nesting depth (each block
start tag such as ``<div>`` walks the stack of open elements: 100,000 nested ``<div>`` take
minutes). Browsers stop nesting at a fixed depth (Chrome at 512) and so do we: `shallow()` drops
the tags that would open an element deeper than `MAX_DEPTH` (and their end tags) before the page
is parsed. Real pages nest a few dozen levels, so it changes nothing for them. Its count is of
start tags less end tags, so hundreds of unclosed ``<p>`` in one fragment may lose some
paragraph breaks (never text). It is a Python loop over every tag, so `parse_html` runs it only
when a bound computed in C (block start tags × start tags) says lexbor's walks could add up.
"""

from __future__ import annotations

import re

from selectolax.lexbor import LexborHTMLParser, LexborNode

__all__ = ["MAX_DEPTH", "shallow", "parse_html", "html_to_text"]

MAX_DEPTH = 256

# Only the tag's name is matched (no `[^>]*` that could rescan the rest of the page from every
# `<`); the tag's end is found with str.find once per tag, so each character is looked at a
# bounded number of times.
_TAG_START = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)")
_VOID = frozenset(
    "area base br col embed hr img input link meta param source track wbr keygen frame basefont".split()
)
# Their content is text, not markup: a `<b` inside a script is no tag.
_RAW_TEXT = frozenset(("script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes"))
_BLOCK_BREAKS = frozenset(("br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote"))
_SKIPPED = frozenset(("script", "style", "template", "head"))
# Prefixes of the start tags whose tree-building step walks the stack of open elements ("close
# a p element": div, p, li, ul, h1, section…). Counted with str.count, a fast search in C; a
# prefix also counts some other tags (<dfn, <param), which only errs towards running shallow().
_BLOCK_PREFIXES = (
    "<ad", "<ar", "<as", "<bl", "<center", "<d", "<fi", "<fo", "<h1", "<h2", "<h3", "<h4", "<h5", "<h6",
    "<he", "<hg", "<hr", "<li", "<ma", "<me", "<nav", "<ol", "<p", "<se", "<su", "<table", "<ul", "<xmp",
)
# Stack steps lexbor may take before `shallow()` is worth its cost (tens of milliseconds).
_WALK_BUDGET = 20_000_000
_SPACES = re.compile(r"[ \t\u00a0]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")


def shallow(html: str, max_depth: int = MAX_DEPTH) -> str:
    """`html` with the tags beyond `max_depth` levels of nesting removed (their text kept)."""
    if html.count("<") <= max_depth:
        return html  # too few tags to nest that deep: the common case costs one count
    depth = 0
    foreign = 0  # depth of the open <svg>/<math>, where "/>" really closes a tag (0: none)
    pieces: list[str] = []
    kept_from = 0
    pos = 0  # where the last tag (or raw text) ended: matches before it are inside it
    for match in _TAG_START.finditer(html):
        start = match.start()
        if start < pos:
            continue
        gt = html.find(">", match.end())
        if gt < 0:
            break  # an unterminated tag at the end: lexbor reads it as text
        end = pos = gt + 1
        closing, name = match.group(1) == "/", match.group(2).lower()
        if closing:
            drop = depth > max_depth
            depth = max(depth - 1, 0)
            if depth < foreign:
                foreign = 0
        elif name in _VOID or (foreign and html[gt - 1] == "/"):
            drop = False
        else:
            depth += 1
            drop = depth > max_depth
            if name in ("svg", "math") and not foreign:
                foreign = depth
            elif name in _RAW_TEXT and not foreign:
                close = html.find(f"</{name}", end)
                pos = len(html) if close < 0 else close
        if drop:
            pieces.append(html[kept_from:start])
            kept_from = end
    if not pieces:
        return html
    pieces.append(html[kept_from:])
    return "".join(pieces)


def parse_html(html: str) -> LexborHTMLParser:
    """The document tree of `html`, nesting capped by `shallow()` where it could matter."""
    tags = html.count("<")
    opened = tags - html.count("</")  # at least the deepest nesting
    # Each block start is a "<", so `tags` bounds them: a real page (a few thousand tags) stops
    # at the first product, without the lower-casing and the counts of `_block_starts`.
    if opened > MAX_DEPTH and opened * tags > _WALK_BUDGET and opened * _block_starts(html) > _WALK_BUDGET:
        html = shallow(html)
    return LexborHTMLParser(html)


def _block_starts(html: str) -> int:
    lowered = html.lower()
    return sum(lowered.count(prefix) for prefix in _BLOCK_PREFIXES)


def html_to_text(html: str) -> str:
    """The visible text of an HTML fragment: entities decoded, blocks on lines of their own,
    ``<br>`` a line break, runs of blanks collapsed, at most one empty line in a row."""
    if "<" not in html and "&" not in html:
        text = html
    else:
        root = parse_html(html).body
        text = "".join(_pieces(root)) if root is not None else ""
    text = _SPACES.sub(" ", text)
    return _BLANK_LINES.sub("\n\n", "\n".join(line.strip() for line in text.splitlines())).strip()


def _pieces(root: LexborNode) -> list[str]:
    """Text nodes in document order, with "\\n" where a block element starts or ends and at <br>.

    Walked by hand (first child, next sibling, parent) rather than recursively, so a deep
    tree costs no Python stack, and end-of-element is seen (traverse() shows only starts).
    """
    out: list[str] = []
    node = root.child
    while node is not None:
        tag = node.tag
        if tag == "-text":
            out.append(node.text_content or "")
        elif tag in _BLOCK_BREAKS and tag != "br" and out and out[-1] != "\n":
            out.append("\n")  # a block starts on its own line
        descend = node.child if tag not in _SKIPPED and tag != "-text" else None
        if descend is not None:
            node = descend
            continue
        while node is not None and node.mem_id != root.mem_id:
            if node.tag in _BLOCK_BREAKS:
                out.append("\n")
            following = node.next
            if following is not None:
                node = following
                break
            node = node.parent
        else:
            break
    return out
