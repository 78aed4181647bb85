"""Imported by the analysis pool's fork server only (`AnalysisPool`), never by a command: every
worker forked from the server starts with the analyser's data loaded (`analysis.workers.load`)."""

from analysis.workers import load

load()
