"""Bokeh views of running queries (windows, matches, latency, operator graph)."""
