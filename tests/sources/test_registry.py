from pathlib import Path

import pandas as pd
import pytest

from workbench.errors import SourceError
from workbench.events import types as t
from workbench.events.schema import Schema
from workbench.sources.csv_reader import CsvReader
from workbench.sources.json_reader import JsonLinesReader
from workbench.sources.parquet_reader import ParquetReader
from workbench.sources.registry import known_connectors, open_reader, validate_source_options

SCHEMA = Schema.of([("id", t.BIGINT), ("ts", t.timestamp_ltz(3))])


def test_known_connectors() -> None:
    connectors = known_connectors()
    assert connectors == sorted(connectors)
    assert {"csv", "filesystem", "json", "parquet"} <= set(connectors)
    assert {"zeek", "syslog", "syslog-auth", "access-log"} <= set(connectors)


@pytest.mark.parametrize(
    ("options", "kind"),
    [
        ({"connector": "filesystem", "format": "csv", "path": "a.csv"}, CsvReader),
        ({"connector": "csv", "path": "a.csv"}, CsvReader),
        ({"connector": "json", "path": "a.csv"}, JsonLinesReader),
        ({"connector": "filesystem", "format": "parquet", "path": "a.csv"}, ParquetReader),
    ],
)
def test_open_reader_kind(tmp_path: Path, options: dict[str, str], kind: type) -> None:
    (tmp_path / "a.csv").write_text("id\n1\n")
    reader = open_reader("t", options, SCHEMA, base_dir=tmp_path, chunk_rows=7)
    assert isinstance(reader, kind)
    assert reader.chunk_rows == 7


def test_open_reader_applies_options(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("1|2020-01-01 10:00:00\n")
    options = {
        "connector": "csv",
        "path": "a.csv",
        "csv.header": "false",
        "csv.field-delimiter": "|",
        "timezone": "Europe/Berlin",
    }
    reader = open_reader("t", options, SCHEMA, base_dir=tmp_path)
    frame = pd.concat(list(reader.chunks()))
    assert frame["ts"][0] == pd.Timestamp("2020-01-01 09:00:00", tz="UTC")


def test_open_reader_epoch_unit(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_text('{"id": 1, "ts": 1600000000}\n')
    options = {"connector": "json", "path": "a.jsonl", "timestamp.epoch-unit": "s"}
    frame = pd.concat(list(open_reader("t", options, SCHEMA, base_dir=tmp_path).chunks()))
    assert frame["ts"][0] == pd.Timestamp("2020-09-13 12:26:40", tz="UTC")


def test_missing_file_names_path(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"file not found: 'missing\.csv'"):
        open_reader("t", {"connector": "csv", "path": "missing.csv"}, SCHEMA, base_dir=tmp_path)


def test_unknown_connector_lists_known() -> None:
    with pytest.raises(SourceError) as info:
        validate_source_options({"connector": "cvs", "path": "x"}, SCHEMA)
    assert str(info.value) == (
        "unknown connector 'cvs' (did you mean 'csv'?); "
        f"known connectors: {', '.join(known_connectors())}"
    )


def test_missing_connector() -> None:
    with pytest.raises(SourceError, match="missing option 'connector'"):
        validate_source_options({"path": "x"}, SCHEMA)


def test_unknown_option_suggests() -> None:
    with pytest.raises(SourceError) as info:
        validate_source_options(
            {"connector": "csv", "path": "x", "csv.field-delimter": ";"}, SCHEMA
        )
    message = str(info.value)
    assert message.startswith(
        "unknown option 'csv.field-delimter' for connector 'csv' "
        "(did you mean 'csv.field-delimiter'?); valid options: "
    )
    assert "csv.null-literal" in message


def test_csv_option_invalid_for_json() -> None:
    options = {"connector": "filesystem", "format": "json", "path": "x", "csv.header": "true"}
    with pytest.raises(SourceError, match="for connector 'filesystem' with format 'json'"):
        validate_source_options(options, SCHEMA)


def test_missing_path() -> None:
    with pytest.raises(SourceError, match="missing option 'path' for connector 'json'"):
        validate_source_options({"connector": "json"}, SCHEMA)


def test_missing_format() -> None:
    with pytest.raises(SourceError, match="missing option 'format'"):
        validate_source_options({"connector": "filesystem", "path": "x"}, SCHEMA)


def test_unknown_format() -> None:
    with pytest.raises(SourceError, match="unknown format 'jsn' \\(did you mean 'json'\\?\\)"):
        validate_source_options({"connector": "filesystem", "format": "jsn", "path": "x"}, SCHEMA)


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("csv.header", "yes", "use 'true' or 'false'"),
        ("csv.field-delimiter", ";;", "use one character"),
        ("timestamp.epoch-unit", "min", "use one of s, ms, us, ns"),
        ("timezone", "Nowhere/City", "use an IANA time zone"),
        ("timestamp.format", "yyyy-MM-dd", "use a strftime pattern"),
    ],
)
def test_invalid_option_values(key: str, value: str, expected: str) -> None:
    with pytest.raises(SourceError, match=expected):
        validate_source_options({"connector": "csv", "path": "x", key: value}, SCHEMA)


def test_tab_delimiter_escape(tmp_path: Path) -> None:
    (tmp_path / "a.tsv").write_text("id\tts\n1\t2020-01-01\n")
    options = {"connector": "csv", "path": "a.tsv", "csv.field-delimiter": "\\t"}
    frame = pd.concat(list(open_reader("t", options, SCHEMA, base_dir=tmp_path).chunks()))
    assert frame["id"].tolist() == [1]


def test_format_contradicting_connector() -> None:
    with pytest.raises(SourceError, match="contradicts"):
        validate_source_options({"connector": "csv", "format": "json", "path": "x"}, SCHEMA)


@pytest.mark.parametrize(
    ("connector", "format_name", "choices"),
    [
        ("pcap", "json", "use one of pcap, pcapng"),
        ("syslog", "rfc9999", "use one of auth, rfc3164, rfc5424, syslog"),
        ("access-log", "apache", "use one of access-log, combined, common"),
    ],
)
def test_unknown_format_lists_connector(connector: str, format_name: str, choices: str) -> None:
    options = {"connector": connector, "format": format_name, "path": "x"}
    with pytest.raises(SourceError) as info:
        validate_source_options(options, SCHEMA)
    message = str(info.value)
    assert message.startswith(f"unknown format {format_name!r}")
    assert message.endswith(choices)


@pytest.mark.parametrize(
    ("connector", "key"),
    [
        ("pcap", "timezone"),
        ("pcap", "timestamp.format"),
        ("pcap", "timestamp.epoch-unit"),
        ("zeek", "timezone"),
        ("access-log", "timezone"),
        ("syslog", "timestamp.format"),
        ("syslog-auth", "timestamp.epoch-unit"),
    ],
)
def test_conversion_option_rejected(connector: str, key: str) -> None:
    options = {"connector": connector, "path": "x", key: "s"}
    with pytest.raises(SourceError) as info:
        validate_source_options(options, SCHEMA)
    message = str(info.value)
    assert message.startswith(f"unknown option {key!r} for connector {connector!r}")
    valid = message.split("valid options: ")[1].split(", ")
    assert "path" in valid
    assert "timestamp.format" not in valid
    assert "timestamp.epoch-unit" not in valid
    assert ("timezone" in valid) == connector.startswith("syslog")


def test_syslog_takes_timezone() -> None:
    options = {"connector": "syslog", "path": "x", "timezone": "Europe/Berlin"}
    validate_source_options(options, SCHEMA)
    with pytest.raises(SourceError, match="use an IANA time zone"):
        validate_source_options({**options, "timezone": "Nowhere/City"}, SCHEMA)
