"""The public static site: pages per story and oblast, a map, Atom feeds and open data."""

from research.site.build import RenderReport, Site

__all__ = ["Site", "RenderReport"]
