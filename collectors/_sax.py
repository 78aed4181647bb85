"""An expat SAX driver that hands character data over in large pieces.

feedparser's strict parser runs a few microseconds of Python per `characters()` call, and
plain expat calls it once per entity: a feed of `&lt;` repeated took a second per megabyte
that way (ten for the largest page we read) against under a tenth with the text buffered.
`xml.sax.make_parser` loads drivers by module name, which is how feedparser is pointed here.
"""

from __future__ import annotations

from xml.sax.expatreader import ExpatParser

__all__ = ["create_parser"]


class _BufferedExpatParser(ExpatParser):
    def reset(self) -> None:
        super().reset()
        self._parser.buffer_text = True
        self._parser.buffer_size = 1 << 20


def create_parser() -> ExpatParser:
    """The driver entry point `xml.sax.make_parser` calls."""
    return _BufferedExpatParser()
