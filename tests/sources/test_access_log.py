"""The access-log reader: generated Apache and Nginx lines, the real apache_logs and SQL."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.support.shared import require
from workbench import Session
from workbench.errors import SourceError
from workbench.events import types as t
from workbench.results import QueryResult, TableResult
from workbench.sources.access_log_reader import compile_pattern, unescape_log
from workbench.sources.read import FileContents, read_file
from workbench.sources.registry import reader_schema

COMBINED_COLUMNS = [
    "ts",
    "client_ip",
    "ident",
    "user",
    "method",
    "path",
    "query",
    "protocol",
    "request",
    "status",
    "bytes",
    "referrer",
    "user_agent",
]


def write(tmp_path: Path, text: str, name: str = "access.log") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


def read(path: Path, **options: str) -> FileContents:
    return read_file(path, "access-log", options)


def line_count(data: bytes) -> int:
    return data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)


# Schema and options ----------------------------------------------------------------


def test_combined_schema() -> None:
    own = reader_schema({"connector": "access-log", "path": "x"})
    assert own is not None
    assert own.schema.names == COMBINED_COLUMNS
    types = {column.name: column.type for column in own.schema}
    assert types["ts"] == t.timestamp(3)
    assert types["status"] == t.INT
    assert types["bytes"] == t.BIGINT
    assert types["user_agent"] == t.STRING
    assert own.watermark_delay_ns == 60 * 10**9
    assert all(column.comment for column in own.schema)


def test_common_schema() -> None:
    own = reader_schema({"connector": "access-log", "format": "common", "path": "x"})
    assert own is not None
    assert own.schema.names == COMBINED_COLUMNS[:-2]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"format": "json"}, "unknown format 'json'"),
        ({"access-log.pattern": "%h %Z"}, "unsupported directive '%Z'"),
        ({"access-log.pattern": "%h %{%d/%m}t"}, "only %t, Apache's default time format"),
        ({"access-log.pattern": "%h %a"}, "%h and %a both give column 'client_ip'"),
        ({"access-log.pattern": "%h %"}, "has no directive letter"),
        ({"access-log.pattern": "%h", "format": "common"}, "contradict each other"),
    ],
)
def test_invalid_options(options: dict[str, str], message: str) -> None:
    with pytest.raises(SourceError, match=re.escape(message)):
        reader_schema({"connector": "access-log", "path": "x", **options})


# Values -------------------------------------------------------------------------------


def test_combined_values(tmp_path: Path) -> None:
    text = (
        '127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif?a=1&b=2 HTTP/1.0" '
        '200 2326 "http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)"\n'
        '2001:db8::1 ident - [01/Jan/2020:00:00:00 +0530] "POST /login HTTP/2.0" 302 - "-" "-"\n'
        '10.0.0.1 - - [29/Feb/2016:23:59:59 +0000] "-" 408 0 "-" "-"\n'
        '10.0.0.2 - - [29/Feb/2016:23:59:59 +0000] "GET /a\\"b\\\\c HTTP/1.1" 200 5 "-" '
        '"agent \\"quoted\\" \\xc3\\xa9"\n'
    )
    contents = read(write(tmp_path, text))
    rows = contents.rows
    assert len(contents.rejected) == 0
    assert rows["ts"].tolist() == [
        pd.Timestamp("2000-10-10 20:55:36"),
        pd.Timestamp("2019-12-31 18:30:00"),
        pd.Timestamp("2016-02-29 23:59:59"),
        pd.Timestamp("2016-02-29 23:59:59"),
    ]
    first = rows.iloc[0]
    assert first["client_ip"] == "127.0.0.1"
    assert pd.isna(first["ident"])
    assert first["user"] == "frank"
    assert first["method"] == "GET"
    assert first["path"] == "/apache_pb.gif"
    assert first["query"] == "a=1&b=2"
    assert first["protocol"] == "HTTP/1.0"
    assert first["request"] == "GET /apache_pb.gif?a=1&b=2 HTTP/1.0"
    assert first["status"] == 200
    assert first["bytes"] == 2326
    assert first["referrer"] == "http://www.example.com/start.html"
    assert first["user_agent"] == "Mozilla/4.08 [en] (Win98; I ;Nav)"
    second = rows.iloc[1]
    assert second["client_ip"] == "2001:db8::1"
    assert second["ident"] == "ident"
    assert pd.isna(second["user"])
    assert pd.isna(second["query"])
    # '-' in %b means no body: 0 bytes.
    assert second["bytes"] == 0
    assert pd.isna(second["referrer"])
    assert pd.isna(second["user_agent"])
    third = rows.iloc[2]
    assert pd.isna(third["request"])
    assert pd.isna(third["method"])
    assert pd.isna(third["path"])
    assert third["status"] == 408
    fourth = rows.iloc[3]
    assert fourth["request"] == 'GET /a"b\\c HTTP/1.1'
    assert fourth["path"] == '/a"b\\c'
    assert fourth["user_agent"] == 'agent "quoted" é'


def test_odd_request_lines_keep_request(tmp_path: Path) -> None:
    text = (
        '1.1.1.1 - - [01/Jan/2020:00:00:00 +0000] "\\xff\\x16\\x03" 400 0 "-" "-"\n'
        '1.1.1.1 - - [01/Jan/2020:00:00:00 +0000] "GET /only-target" 200 1 "-" "-"\n'
        '1.1.1.1 - - [01/Jan/2020:00:00:00 +0000] "GET /x? HTTP/1.1" 200 1 "-" "-"\n'
    )
    rows = read(write(tmp_path, text)).rows
    # Bytes that are not UTF-8 stay escaped, so nothing is lost.
    assert rows["request"][0] == "\\xff\\x16\\x03"
    assert pd.isna(rows["method"][0])
    assert rows["method"][1] == "GET"
    assert rows["path"][1] == "/only-target"
    assert pd.isna(rows["protocol"][1])
    assert rows["query"][2] == ""


def test_common_format(tmp_path: Path) -> None:
    text = '1.2.3.4 - - [17/May/2015:10:05:03 +0000] "GET / HTTP/1.1" 200 7\n'
    contents = read(write(tmp_path, text), format="common")
    assert contents.rows["bytes"].tolist() == [7]
    assert "referrer" not in contents.rows.columns


def test_bad_lines_rejected_with_reason(tmp_path: Path) -> None:
    good = '1.2.3.4 - - [17/May/2015:10:05:03 +0000] "GET / HTTP/1.1" 200 7 "-" "ua"\n'
    text = (
        good
        + '1.2.3.4 - - [17/May/2015:10:05:03 +0000] "GET / HTTP/1.1" 200 7 "-" "unclosed\n'
        + "garbage\n"
        + '1.2.3.4 - - [17/May/2015:10:05:03 +0000] "GET / HTTP/1.1" abc 7 "-" "ua"\n'
        + '1.2.3.4 - - [31/Apr/2015:10:05:03 +0000] "GET / HTTP/1.1" 200 7 "-" "ua"\n'
        + "\n"
        + good
    )
    path = write(tmp_path, text)
    contents = read(path)
    assert len(contents.rows) == 2
    rejected = contents.rejected
    assert rejected["line"].tolist() == [2, 3, 4, 5]
    reasons = rejected["reason"].tolist()
    assert reasons[0] == (
        "line does not match the 'combined' log format at column 78: the quoted value of "
        "%{User-agent}i (user_agent) is not closed"
    )
    assert reasons[1] == (
        "line does not match the 'combined' log format at column 8: expected ' ', "
        "found the end of the line"
    )
    assert "expected %>s (status), found 'abc 7" in reasons[2]
    assert reasons[3] == "invalid time in %t (ts): '31/Apr/2015:10:05:03 +0000'"
    counters = contents.counters
    assert counters.lines_skipped == 1
    total = counters.rows_read + counters.rows_rejected + counters.lines_skipped
    assert total == line_count(path.read_bytes())


def test_custom_apache_pattern(tmp_path: Path) -> None:
    pattern = '%v:%p %a %l %u %t "%r" %>s %O "%{X-Forwarded-For}i" %D %T %U%q [%m %H]'
    text = (
        "www.example.com:443 10.0.0.1 - alice [05/Mar/2024:08:15:00 +0100] "
        '"GET /search?q=x HTTP/1.1" 200 512 "203.0.113.9, 10.0.0.1" 1534 0 /search?q=x [GET HTTP/1.1]\n'
    )
    contents = read(write(tmp_path, text), **{"access-log.pattern": pattern})
    assert len(contents.rejected) == 0
    row = contents.rows.iloc[0]
    assert contents.schema.names == [
        "ts",
        "server_name",
        "server_port",
        "client_ip",
        "ident",
        "user",
        "request",
        "status",
        "bytes_sent",
        "x_forwarded_for",
        "request_time_us",
        "request_time",
        "path",
        "query",
        "method",
        "protocol",
    ]
    assert row["ts"] == pd.Timestamp("2024-03-05 07:15:00")
    assert row["server_port"] == 443
    assert row["x_forwarded_for"] == "203.0.113.9, 10.0.0.1"
    assert row["request_time_us"] == 1534
    assert row["request_time"] == 0.0
    assert row["path"] == "/search"
    assert row["query"] == "q=x"
    assert row["method"] == "GET"


def test_nginx_pattern(tmp_path: Path) -> None:
    pattern = (
        '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent '
        '"$http_referer" "$http_user_agent" $request_time $host "$http_x_forwarded_for"'
    )
    text = (
        '192.0.2.7 - - [31/Mar/2024:01:51:02 +0100] "GET /index.html HTTP/1.1" 404 153 "-" '
        '"curl/8.0" 0.003 example.org "-"\n'
    )
    contents = read(write(tmp_path, text), **{"access-log.pattern": pattern})
    assert len(contents.rejected) == 0
    row = contents.rows.iloc[0]
    assert row["ts"] == pd.Timestamp("2024-03-31 00:51:02")
    assert row["status"] == 404
    assert row["bytes"] == 153
    assert row["request_time"] == pytest.approx(0.003)
    assert row["host"] == "example.org"
    assert pd.isna(row["x_forwarded_for"])
    assert row["path"] == "/index.html"


def test_nginx_iso_and_msec_times(tmp_path: Path) -> None:
    iso = read(
        write(tmp_path, "2024-03-31T01:51:02+02:00 1.1.1.1 200\n"),
        **{"access-log.pattern": "$time_iso8601 $remote_addr $status"},
    )
    assert iso.rows["ts"].tolist() == [pd.Timestamp("2024-03-30 23:51:02")]
    epoch = read(
        write(tmp_path, "1711849862.123 1.1.1.1\n"),
        **{"access-log.pattern": "$msec $remote_addr"},
    )
    assert epoch.rows["ts"].tolist() == [pd.Timestamp("2024-03-31 01:51:02.123")]


def test_pattern_regex_has_one_group_per_directive() -> None:
    compiled = compile_pattern('%h "%r" %>s', "x")
    assert compiled.regex == (
        r'^(?P<f0>[^\ ]*)\ "(?P<f2>[^"\\]*(?:\\.[^"\\]*)*)"\ (?P<f4>-|\d+)\s*$'
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain", "plain"),
        ('a\\"b', 'a"b'),
        ("a\\\\b", "a\\b"),
        ("\\xc3\\xa9", "é"),
        ("\\x22", '"'),
        ("tab\\tend", "tab\tend"),
        ("\\xff", "\\xff"),
    ],
)
def test_unescape_log(text: str, expected: str) -> None:
    assert unescape_log(text) == expected


# Real data -----------------------------------------------------------------------------

LINE = re.compile(
    r'^(\S+) (\S+) (\S+) \[([^\]]+)\] "((?:[^"\\]|\\.)*)" (\d{3}) (\S+) '
    r'"((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)"$'
)


def reference_apache(path: Path) -> tuple[pd.DataFrame, list[int]]:
    """Parse apache_logs with the standard library: kept rows and rejected line numbers."""
    records = []
    bad = []
    with path.open(encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            found = LINE.match(line.rstrip("\n"))
            if found is None:
                bad.append(number)
                continue
            records.append(found.groups())
    frame = pd.DataFrame(
        records,
        columns=["ip", "ident", "user", "time", "request", "status", "bytes", "ref", "ua"],
    )
    frame["ts"] = (
        pd.to_datetime(frame["time"], format="%d/%b/%Y:%H:%M:%S %z")
        .dt.tz_convert("UTC")
        .dt.tz_localize(None)
    )
    return frame, bad


def test_real_apache_logs() -> None:
    path = require("datasets/logs/apache_logs")
    contents = read(path)
    expected, bad = reference_apache(path)
    rows = contents.rows
    assert len(rows) == 9_999
    assert len(expected) == 9_999
    assert bad == [8899]
    assert contents.rejected["line"].tolist() == [8899]
    assert "is not closed" in contents.rejected["reason"][0]
    assert rows["client_ip"].tolist() == expected["ip"].tolist()
    assert rows["ts"].tolist() == expected["ts"].astype("datetime64[ns]").tolist()
    assert rows["status"].tolist() == expected["status"].astype(int).tolist()
    sizes = expected["bytes"].replace("-", "0").astype(int)
    assert rows["bytes"].tolist() == sizes.tolist()
    assert rows["client_ip"].nunique() == 1_753
    assert rows["user_agent"].isna().sum() == (expected["ua"] == "-").sum()


@given(
    st.lists(
        st.tuples(st.integers(min_value=0, max_value=2_400_000), st.binary(min_size=0, max_size=3)),
        min_size=1,
        max_size=12,
    )
)
def test_mutated_apache_logs_never_crash(edits: list[tuple[int, bytes]]) -> None:
    data = bytearray(require("datasets/logs/apache_logs").read_bytes()[:80_000])
    for position, replacement in edits:
        at = position % (len(data) + 1)
        data[at : at + 1] = replacement
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "access.log"
        path.write_bytes(bytes(data))
        contents = read(path)
        counters = contents.counters
        total = counters.rows_read + counters.rows_rejected + counters.lines_skipped
        assert total == line_count(bytes(data))
        assert len(contents.rejected) == counters.rows_rejected


# SQL ---------------------------------------------------------------------------------


def test_sql_describe_and_windowed_query() -> None:
    path = require("datasets/logs/apache_logs")
    session = Session(progress=False)
    session.sql(f"CREATE TABLE access WITH ('connector' = 'access-log', 'path' = '{path}')")
    described = session.sql("DESCRIBE access")
    assert isinstance(described, TableResult)
    frame = described.to_pandas()
    assert frame["name"].tolist() == COMBINED_COLUMNS
    assert frame["watermark"][0] == "ts - INTERVAL '1' MINUTE"
    result = session.sql(
        "SELECT status, window_start, COUNT(*) AS requests, SUM(bytes) AS sent "
        "FROM TABLE(TUMBLE(TABLE access, DESCRIPTOR(ts), INTERVAL '1' HOUR)) "
        "GROUP BY status, window_start, window_end"
    )
    assert isinstance(result, QueryResult)
    # The default delay of 1 minute covers the 59 s by which the file is out of order.
    assert len(result.late_rows()) == 0
    assert len(result.rejected_rows()) == 1
    got = result.to_pandas().sort_values(["status", "window_start"]).reset_index(drop=True)
    expected, _ = reference_apache(path)
    expected["hour"] = expected["ts"].dt.floor("1h").astype("datetime64[ns]")
    expected["size"] = expected["bytes"].replace("-", "0").astype(int)
    expected["code"] = expected["status"].astype(int)
    counts = (
        expected.groupby(["code", "hour"])
        .agg(requests=("ip", "size"), sent=("size", "sum"))
        .reset_index()
        .sort_values(["code", "hour"])
        .reset_index(drop=True)
    )
    assert got["status"].tolist() == counts["code"].tolist()
    assert got["window_start"].tolist() == counts["hour"].tolist()
    assert got["requests"].tolist() == counts["requests"].tolist()
    assert got["sent"].tolist() == counts["sent"].tolist()


def test_rejections_from_directory_name_file(tmp_path: Path) -> None:
    good = '1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 2326 "-" "x"\n'
    (tmp_path / "a.log").write_text(good + "broken\n")
    (tmp_path / "b.log").write_text(good.replace(" 200 ", " 99999999999 "))
    for path in (tmp_path, tmp_path / "*.log"):
        contents = read_file(path, "access-log", {})
        reasons = contents.rejected["reason"].tolist()
        assert len(reasons) == 2
        assert reasons[0].startswith("a.log: line does not match")
        assert reasons[1].startswith("b.log: column 'status': invalid INT value")


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (
            "12345678901234567890123",
            "column 'bytes': invalid BIGINT value '12345678901234567890123'",
        ),
        ("9223372036854775808", "column 'bytes': invalid BIGINT value '9223372036854775808'"),
    ],
)
def test_oversized_bytes_rejected(tmp_path: Path, value: str, reason: str) -> None:
    good = '1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 2326 "-" "x"\n'
    largest = good.replace(" 2326 ", " 9223372036854775807 ")
    path = tmp_path / "access.log"
    path.write_text(good.replace(" 2326 ", f" {value} ") + largest)
    contents = read_file(path, "access-log", {})
    assert contents.rows["bytes"].tolist() == [9223372036854775807]
    assert contents.rejected["line"].tolist() == [1]
    assert contents.rejected["reason"].tolist() == [reason]
