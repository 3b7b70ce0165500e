"""Sinks: where query results go (files, DuckDB, SQLite, memory, callbacks, stdout)."""

from workbench.sinks.base import BaseSink, Sink
from workbench.sinks.duckdb_sink import DuckDBSink
from workbench.sinks.files import CsvSink, JsonLinesSink, ParquetSink
from workbench.sinks.memory import BlackholeSink, CallbackSink, MemorySink, PrintSink
from workbench.sinks.registry import known_sink_connectors, open_sink, validate_sink_options
from workbench.sinks.sqlite_sink import SQLiteSink

__all__ = [
    "BaseSink",
    "BlackholeSink",
    "CallbackSink",
    "CsvSink",
    "DuckDBSink",
    "JsonLinesSink",
    "MemorySink",
    "ParquetSink",
    "PrintSink",
    "SQLiteSink",
    "Sink",
    "known_sink_connectors",
    "open_sink",
    "validate_sink_options",
]
