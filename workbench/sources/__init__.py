"""Readers of recorded files and in-memory data, and the replay clock that drives them."""

from workbench.sources.access_log_reader import AccessLogReader
from workbench.sources.csv_reader import CsvOptions, CsvReader
from workbench.sources.flows import packet_flows
from workbench.sources.frame_reader import DataFrameReader
from workbench.sources.json_reader import JsonLinesReader
from workbench.sources.parquet_reader import ParquetReader
from workbench.sources.paths import resolve_paths
from workbench.sources.pcap_reader import PcapReader
from workbench.sources.reader import DEFAULT_CHUNK_ROWS, Reader, ReaderCounters
from workbench.sources.registry import (
    FormatSpec,
    known_connectors,
    open_reader,
    register_format,
    validate_source_options,
)
from workbench.sources.replay import Feed, ReplayClock, ReplayStatus
from workbench.sources.syslog_reader import SyslogReader
from workbench.sources.zeek_reader import ZeekReader

__all__ = [
    "DEFAULT_CHUNK_ROWS",
    "AccessLogReader",
    "CsvOptions",
    "CsvReader",
    "DataFrameReader",
    "Feed",
    "FormatSpec",
    "JsonLinesReader",
    "ParquetReader",
    "PcapReader",
    "Reader",
    "ReaderCounters",
    "ReplayClock",
    "ReplayStatus",
    "SyslogReader",
    "ZeekReader",
    "known_connectors",
    "open_reader",
    "packet_flows",
    "register_format",
    "resolve_paths",
    "validate_source_options",
]
