"""The Zeek reader: generated TSV and JSON edge cases, the real conn.log, and SQL over it."""

from __future__ import annotations

import collections
import gzip
import json
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.support.shared import require
from workbench import Session
from workbench.errors import SourceError
from workbench.events import types as t
from workbench.results import QueryResult, TableResult
from workbench.sources.read import FileContents, read_file
from workbench.sources.registry import reader_schema
from workbench.sources.zeek_reader import sql_type

HEADER = (
    "#separator \\x09\n"
    "#set_separator\t,\n"
    "#empty_field\t(empty)\n"
    "#unset_field\t-\n"
    "#path\tconn\n"
    "#open\t2013-09-15-23-44-27\n"
    "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tduration"
    "\torig_bytes\tlocal_orig\ttunnel_parents\tnote\n"
    "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tinterval\tcount\tbool"
    "\tset[string]\tstring\n"
)


def row(*fields: str) -> str:
    return "\t".join(fields) + "\n"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def read(path: Path, **options: str) -> FileContents:
    return read_file(path, "zeek", options)


def line_count(data: bytes) -> int:
    """Return the number of lines the readers see: a last line without a newline counts."""
    return data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)


# Types and schema -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zeek_type", "expected"),
    [
        ("time", t.timestamp(6)),
        ("interval", t.DOUBLE),
        ("count", t.BIGINT),
        ("int", t.BIGINT),
        ("double", t.DOUBLE),
        ("port", t.INT),
        ("addr", t.STRING),
        ("subnet", t.STRING),
        ("enum", t.STRING),
        ("bool", t.BOOLEAN),
        ("set[addr]", t.array(t.STRING)),
        ("vector[count]", t.array(t.BIGINT)),
        ("table[string]", t.array(t.STRING)),
        ("vector[interval]", t.array(t.DOUBLE)),
    ],
)
def test_zeek_type_mapping(zeek_type: str, expected: t.DataType) -> None:
    assert sql_type(zeek_type) == expected


def test_schema_nests_dotted_names(tmp_path: Path) -> None:
    path = write(tmp_path, "conn.log", HEADER)
    own = reader_schema({"connector": "zeek", "path": str(path)})
    assert own is not None
    schema = own.schema
    assert schema.names == [
        "ts",
        "uid",
        "id",
        "proto",
        "duration",
        "orig_bytes",
        "local_orig",
        "tunnel_parents",
        "note",
    ]
    by_name = {column.name: column for column in schema}
    assert by_name["id"].type == t.row(
        [("orig_h", t.STRING), ("orig_p", t.INT), ("resp_h", t.STRING), ("resp_p", t.INT)]
    )
    assert by_name["ts"].type == t.timestamp(6)
    assert by_name["tunnel_parents"].type == t.array(t.STRING)
    duration = by_name["duration"].comment
    assert duration is not None
    assert "seconds as DOUBLE" in duration
    assert own.time_column == "ts"
    assert own.watermark_delay_ns == 300 * 10**9


def test_schema_keeps_clashing_names_flat(tmp_path: Path) -> None:
    text = "#fields\tts\ta\ta.b\n#types\ttime\tstring\tcount\n1.0\tx\t2\n"
    path = write(tmp_path, "odd.log", text)
    contents = read(path)
    assert contents.schema.names == ["ts", "a", "a.b"]
    assert contents.rows["a.b"].tolist() == [2]


def test_deeper_dots_nest_twice(tmp_path: Path) -> None:
    text = "#fields\tts\ta.b.c\ta.b.d\ta.e\n#types\ttime\tcount\tstring\tbool\n1.0\t1\tx\tT\n"
    contents = read(write(tmp_path, "deep.log", text))
    assert contents.schema.names == ["ts", "a"]
    assert contents.rows["a"][0] == {"b": {"c": 1, "d": "x"}, "e": True}


# TSV values ---------------------------------------------------------------------


def test_tsv_values_unset_empty_and_escapes(tmp_path: Path) -> None:
    text = HEADER + row(
        "1379288667.706265",
        "C1",
        "192.168.33.10",
        "1032",
        "54.245.228.191",
        "80",
        "tcp",
        "0.447460",
        "601",
        "T",
        "(empty)",
        "tab\\x09here",
    )
    text += row(
        "1379288668.000001",
        "C2",
        "fe80::1",
        "3",
        "ff02::1",
        "4",
        "icmp",
        "-",
        "-",
        "F",
        "a,b\\x2cc",
        "\\x2d",
    )
    text += row("1379288669.5", "C3", "-", "-", "-", "-", "udp", "-", "-", "-", "-", "-")
    contents = read(write(tmp_path, "conn.log", text))
    rows = contents.rows
    assert len(contents.rejected) == 0
    assert rows["ts"].tolist() == [
        pd.Timestamp("2013-09-15 23:44:27.706265"),
        pd.Timestamp("2013-09-15 23:44:28.000001"),
        pd.Timestamp("2013-09-15 23:44:29.500000"),
    ]
    assert rows["id"][0] == {
        "orig_h": "192.168.33.10",
        "orig_p": 1032,
        "resp_h": "54.245.228.191",
        "resp_p": 80,
    }
    assert rows["id"][2] == {"orig_h": None, "orig_p": None, "resp_h": None, "resp_p": None}
    assert rows["duration"][0] == pytest.approx(0.44746)
    assert pd.isna(rows["duration"][1])
    assert pd.isna(rows["orig_bytes"][1])
    assert rows["local_orig"].tolist()[:2] == [True, False]
    assert pd.isna(rows["local_orig"][2])
    assert rows["tunnel_parents"][0] == []
    assert rows["tunnel_parents"][1] == ["a", "b,c"]
    assert rows["tunnel_parents"][2] is None
    assert rows["note"][0] == "tab\there"
    # Zeek escapes a string equal to the unset field, so '\x2d' is the text '-'.
    assert rows["note"][1] == "-"
    assert pd.isna(rows["note"][2])


def test_several_header_blocks_and_close(tmp_path: Path) -> None:
    first = row("1.0", "C1", "10.0.0.1", "1", "10.0.0.2", "2", "tcp", "1.0", "1", "T", "-", "x")
    second_header = (
        "#close\t2013-09-15-23-50-00\n"
        "#separator \\x09\n"
        "#set_separator\t;\n"
        "#empty_field\tEMPTY\n"
        "#unset_field\tNONE\n"
        "#path\tconn\n"
        "#fields\tts\tuid\tproto\ttunnel_parents\textra\n"
        "#types\ttime\tstring\tenum\tset[string]\tstring\n"
    )
    second = row("2.0", "C2", "udp", "p;q", "dropped") + row("3.0", "C3", "NONE", "EMPTY", "z")
    text = HEADER + first + second_header + second + "#close\t2013-09-15-23-55-00\n"
    path = write(tmp_path, "conn.log", text)
    contents = read(path)
    rows = contents.rows
    assert rows["uid"].tolist() == ["C1", "C2", "C3"]
    assert rows["tunnel_parents"].tolist() == [None, ["p", "q"], []]
    assert pd.isna(rows["proto"][2])
    # Fields that the second block lacks read as NULL; its extra field is dropped.
    assert rows["id"][1] is None
    assert "extra" not in rows.columns
    header_lines = sum(1 for line in text.splitlines() if line.startswith("#"))
    assert contents.counters.lines_skipped == header_lines
    assert contents.counters.rows_read + contents.counters.lines_skipped == line_count(
        path.read_bytes()
    )


def test_bad_lines_rejected_with_line_and_reason(tmp_path: Path) -> None:
    good = row("1.0", "C1", "10.0.0.1", "1", "10.0.0.2", "2", "tcp", "1.0", "1", "T", "-", "x")
    short = "1.0\tC2\ttcp\n"
    bad_count = row("2.0", "C3", "10.0.0.1", "1", "10.0.0.2", "2", "tcp", "1.0", "x", "T", "-", "")
    bad_time = row("zz", "C4", "10.0.0.1", "1", "10.0.0.2", "2", "tcp", "1.0", "1", "T", "-", "")
    bad_bool = row("3.0", "C5", "10.0.0.1", "1", "10.0.0.2", "2", "tcp", "1.0", "1", "X", "-", "")
    bad_port = row("4.0", "C6", "10.0.0.1", "99999999999", "h", "2", "tcp", "1", "1", "T", "-", "")
    text = HEADER + good + short + bad_count + bad_time + bad_bool + bad_port + good
    contents = read(write(tmp_path, "conn.log", text))
    assert contents.rows["uid"].tolist() == ["C1", "C1"]
    rejected = contents.rejected
    assert rejected["line"].tolist() == [10, 11, 12, 13, 14]
    reasons = rejected["reason"].tolist()
    assert reasons[0] == "expected 12 fields (as in the '#fields' header), found 3"
    assert reasons[1] == "column 'orig_bytes': invalid BIGINT value 'x'"
    assert reasons[2] == "field 'ts': invalid Zeek time value 'zz'"
    assert reasons[3] == "column 'local_orig': invalid BOOLEAN value 'X'"
    assert reasons[4].startswith("column 'id.orig_p': ")
    assert rejected["raw"][0] == short.rstrip("\n")
    assert contents.counters.rows_rejected == 5


def test_data_before_fields_rejected(tmp_path: Path) -> None:
    text = "1.0\tx\n#fields\tts\tuid\n#types\ttime\tstring\n2.0\ty\n"
    contents = read(write(tmp_path, "x.log", text))
    assert contents.rows["uid"].tolist() == ["y"]
    assert contents.rejected["reason"].tolist() == ["data line before the '#fields' header"]
    assert contents.rejected["line"].tolist() == [1]


def test_other_log_type_in_file_rejected(tmp_path: Path) -> None:
    text = (
        "#path\tconn\n#fields\tts\tuid\n#types\ttime\tstring\n1.0\ta\n"
        "#path\tdns\n#fields\tts\tuid\n#types\ttime\tstring\n2.0\tb\n"
    )
    contents = read(write(tmp_path, "conn.log", text))
    assert contents.rows["uid"].tolist() == ["a"]
    assert contents.rejected["line"].tolist() == [8]
    assert "'dns' log in a 'conn' log" in contents.rejected["reason"][0]


def test_different_log_types_under_one_path(tmp_path: Path) -> None:
    folder = tmp_path / "logs"
    folder.mkdir()
    write(folder, "conn.log", "#path\tconn\n#fields\tts\tuid\n#types\ttime\tstring\n")
    write(folder, "dns.log", "#path\tdns\n#fields\tts\tquery\n#types\ttime\tstring\n")
    with pytest.raises(SourceError) as info:
        reader_schema({"connector": "zeek", "path": str(folder)})
    message = str(info.value)
    assert "'conn' log" in message
    assert "'dns' log" in message
    assert "conn.log" in message
    assert "dns.log" in message


def test_gzip_and_several_files(tmp_path: Path) -> None:
    folder = tmp_path / "logs"
    folder.mkdir()
    body = "#path\tconn\n#fields\tts\tuid\n#types\ttime\tstring\n"
    write(folder, "conn.00.log", body + "1.0\ta\n")
    with gzip.open(folder / "conn.01.log.gz", "wt") as handle:
        handle.write(body + "2.0\tb\nbroken\n")
    contents = read(folder)
    assert contents.rows["uid"].tolist() == ["a", "b"]
    assert contents.rejected["reason"][0].startswith("conn.01.log.gz: expected 2 fields")


def test_not_a_zeek_log(tmp_path: Path) -> None:
    path = write(tmp_path, "x.log", "hello\n")
    with pytest.raises(SourceError, match="not a Zeek log"):
        reader_schema({"connector": "zeek", "path": str(path)})


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("conn.log", b"", "the file is empty"),
        ("conn.log.gz", gzip.compress(b""), "the file is empty"),
        ("conn.log", b"\n  \n", "the file contains only blank lines"),
    ],
)
def test_empty_zeek_log(tmp_path: Path, name: str, data: bytes, expected: str) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(SourceError) as info:
        reader_schema({"connector": "zeek", "path": str(path)})
    message = str(info.value)
    assert message.startswith(f"'{path}' is not a Zeek log: {expected}")
    assert "first line" not in message


# JSON ---------------------------------------------------------------------------------


def json_lines(*records: object) -> str:
    return "".join(json.dumps(record) + "\n" for record in records)


def test_json_log_same_columns(tmp_path: Path) -> None:
    text = json_lines(
        {
            "ts": 1379288667.706265,
            "uid": "C1",
            "id.orig_h": "10.0.0.1",
            "id.orig_p": 1032,
            "id.resp_h": "10.0.0.2",
            "id.resp_p": 80,
            "duration": 0.5,
            "orig_bytes": 601,
            "local_orig": True,
            "tunnel_parents": ["x"],
        },
        {
            "ts": "2013-09-15T23:44:28.500000Z",
            "uid": "C2",
            "id.orig_h": "10.0.0.3",
            "id.orig_p": 5,
            "id.resp_h": "10.0.0.2",
            "id.resp_p": 53,
            "duration": 2,
            "tunnel_parents": [],
        },
        {"ts": 1379288669, "uid": "C3", "id": {"orig_h": "10.0.0.4", "orig_p": 6}},
    )
    contents = read(write(tmp_path, "conn.log", text))
    schema = {column.name: column.type for column in contents.schema}
    assert list(schema) == [
        "ts",
        "uid",
        "id",
        "duration",
        "orig_bytes",
        "local_orig",
        "tunnel_parents",
    ]
    assert schema["ts"] == t.timestamp(6)
    assert schema["id"] == t.row(
        [("orig_h", t.STRING), ("orig_p", t.INT), ("resp_h", t.STRING), ("resp_p", t.INT)]
    )
    # 0.5 in one record and 2 in another: a fraction anywhere makes the column DOUBLE.
    assert schema["duration"] == t.DOUBLE
    assert schema["orig_bytes"] == t.BIGINT
    assert schema["local_orig"] == t.BOOLEAN
    assert schema["tunnel_parents"] == t.array(t.STRING)
    rows = contents.rows
    assert rows["ts"].tolist() == [
        pd.Timestamp("2013-09-15 23:44:27.706265"),
        pd.Timestamp("2013-09-15 23:44:28.5"),
        pd.Timestamp("2013-09-15 23:44:29"),
    ]
    assert rows["id"][0]["orig_p"] == 1032
    assert rows["id"][2] == {"orig_h": "10.0.0.4", "orig_p": 6, "resp_h": None, "resp_p": None}
    assert pd.isna(rows["orig_bytes"][1])
    assert rows["tunnel_parents"][1] == []


def test_json_bad_lines_rejected(tmp_path: Path) -> None:
    text = json_lines({"ts": 1.0, "uid": "a"}) + "{broken\n[1]\n"
    text += json_lines({"ts": "yesterday", "uid": "b"}, {"ts": 2.0, "uid": "c"})
    contents = read(write(tmp_path, "conn.log", text))
    assert contents.rows["uid"].tolist() == ["a", "c"]
    assert contents.rejected["line"].tolist() == [2, 3, 4]
    reasons = contents.rejected["reason"].tolist()
    assert reasons[0].startswith("invalid JSON: ")
    assert reasons[1] == "expected a JSON object, found an array"
    assert reasons[2] == "field 'ts': invalid time value 'yesterday'"


def test_json_sample_lines_option(tmp_path: Path) -> None:
    text = json_lines({"ts": 1.0, "a": 1}, {"ts": 2.0, "a": 1, "b": "late"})
    path = write(tmp_path, "x.log", text)
    assert read(path).schema.names == ["ts", "a", "b"]
    narrow = read(path, **{"zeek.json.sample-lines": "1"})
    assert narrow.schema.names == ["ts", "a"]
    with pytest.raises(SourceError, match=r"zeek\.json\.sample-lines"):
        read(path, **{"zeek.json.sample-lines": "0"})


# Real data ----------------------------------------------------------------------------


def reference_conn(path: Path) -> pd.DataFrame:
    """Parse conn.log with the standard library only, as the check for the reader."""
    names: list[str] = []
    records: list[list[str]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#fields"):
            names = line.split("\t")[1:]
        elif line and not line.startswith("#"):
            records.append(line.split("\t"))
    return pd.DataFrame(records, columns=names)


def test_real_conn_log() -> None:
    path = require("datasets/logs/conn.log")
    contents = read(path)
    expected = reference_conn(path)
    rows = contents.rows
    assert len(rows) == 360
    assert len(expected) == 360
    assert len(contents.rejected) == 0
    states = collections.Counter(rows["conn_state"])
    assert states["S0"] == 156
    assert states["SF"] == 118
    assert states["RSTO"] == 63
    assert states["OTH"] == 20
    assert dict(states) == dict(collections.Counter(expected["conn_state"]))
    micros = [round(float(value) * 1e6) for value in expected["ts"]]
    assert (rows["ts"].astype("int64") // 1000).tolist() == micros
    assert [item["orig_h"] for item in rows["id"]] == expected["id.orig_h"].tolist()
    assert [item["resp_p"] for item in rows["id"]] == expected["id.resp_p"].astype(int).tolist()
    bytes_sent = pd.to_numeric(expected["orig_bytes"].replace("-", None))
    assert rows["orig_bytes"].sum() == bytes_sent.sum()
    stamps = rows["ts"].to_numpy().astype(np.int64)
    out_of_order = int((stamps[1:] < np.maximum.accumulate(stamps)[:-1]).sum())
    assert out_of_order > 0
    assert contents.counters.lines_skipped == 9


@given(
    st.lists(
        st.tuples(st.integers(min_value=0, max_value=45_000), st.binary(min_size=0, max_size=3)),
        min_size=1,
        max_size=12,
    )
)
def test_mutated_conn_log_never_crashes(edits: list[tuple[int, bytes]]) -> None:
    data = bytearray(require("datasets/logs/conn.log").read_bytes())
    for position, replacement in edits:
        at = position % (len(data) + 1)
        data[at : at + 1] = replacement
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "conn.log"
        path.write_bytes(bytes(data))
        try:
            contents = read(path)
        except SourceError:
            # Mutating the header can leave no '#fields' line: the schema step reports it.
            return
        counters = contents.counters
        total = counters.rows_read + counters.rows_rejected + counters.lines_skipped
        assert total == line_count(bytes(data))
        assert len(contents.rejected) == counters.rows_rejected


# SQL --------------------------------------------------------------------------------


def test_sql_table_without_columns() -> None:
    path = require("datasets/logs/conn.log")
    session = Session(progress=False)
    session.sql(f"CREATE TABLE conn WITH ('connector' = 'zeek', 'path' = '{path}')")
    described = session.sql("DESCRIBE conn")
    assert isinstance(described, TableResult)
    frame = described.to_pandas()
    assert frame["name"].tolist()[:4] == ["ts", "uid", "id", "proto"]
    assert frame["type"][0] == "TIMESTAMP(6)"
    assert frame["watermark"][0] == "ts - INTERVAL '5' MINUTE"


def test_sql_windowed_query_matches_pandas() -> None:
    path = require("datasets/logs/conn.log")
    session = Session(progress=False)
    session.sql(f"CREATE TABLE conn WITH ('connector' = 'zeek', 'path' = '{path}')")
    result = session.sql(
        "SELECT id.orig_h AS source, window_start, COUNT(*) AS connections, "
        "SUM(orig_bytes) AS sent "
        "FROM TABLE(TUMBLE(TABLE conn, DESCRIPTOR(ts), INTERVAL '1' MINUTE)) "
        "GROUP BY id.orig_h, window_start, window_end"
    )
    assert isinstance(result, QueryResult)
    got = result.to_pandas().sort_values(["source", "window_start"]).reset_index(drop=True)
    # The default delay of 5 minutes covers the 227 s by which conn.log is out of order.
    assert len(result.late_rows()) == 0
    expected = reference_conn(path)
    expected["minute"] = pd.to_datetime(expected["ts"].astype(float), unit="s").dt.floor("1min")
    expected["bytes"] = pd.to_numeric(expected["orig_bytes"].replace("-", None))
    counts = (
        expected.groupby(["id.orig_h", "minute"])
        .agg(connections=("uid", "size"), sent=("bytes", "sum"))
        .reset_index()
        .sort_values(["id.orig_h", "minute"])
        .reset_index(drop=True)
    )
    assert got["source"].tolist() == counts["id.orig_h"].tolist()
    assert got["window_start"].tolist() == counts["minute"].tolist()
    assert got["connections"].tolist() == counts["connections"].tolist()
    assert got["sent"].fillna(0).astype(int).tolist() == counts["sent"].astype(int).tolist()
