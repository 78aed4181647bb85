"""Imported by the analysis pool's fork server only (`AnalysisPool`), never by a command.

The gazetteer and the morphology are loaded once, in the server, so every worker forked from it
starts with them (shared copy-on-write) instead of each spending most of a second of CPU loading
its own copy while the command waits for its first analyses.
"""

from analysis.gazetteer import get_gazetteer
from analysis.morph import morph

get_gazetteer()
morph()
