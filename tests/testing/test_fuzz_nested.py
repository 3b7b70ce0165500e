"""Session.fuzz on tables with ROW, MAP and ARRAY columns, and on engine failures."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import dpkt
import pandas as pd
import pytest

from workbench import Session
from workbench.errors import QueryRuntimeError, SourceError
from workbench.results import QueryResult
from workbench.sources.frame_reader import DataFrameReader
from workbench.testing.fuzz.search import is_engine_failure

FAILURES_THEN_SUCCESS = """
SELECT * FROM auth MATCH_RECOGNIZE (
    PARTITION BY ip ORDER BY ts
    MEASURES FIRST(F.ts) AS first_failure, S.`user` AS accepted_user
    ONE ROW PER MATCH
    PATTERN (F+ S) WITHIN INTERVAL '10' MINUTE
    DEFINE F AS F.outcome = 'failed', S AS S.outcome = 'accepted'
)
"""

SYN_COUNTS = """
SELECT src_ip, window_start, COUNT(*) AS syns
FROM TABLE(TUMBLE(TABLE p, DESCRIPTOR(ts), INTERVAL '10' SECOND))
WHERE syn AND NOT ack
GROUP BY src_ip, window_start, window_end
"""

AUTH_LOG = """\
Mar  4 08:05:10 bastion sshd[2184]: Failed password for alice from 192.0.2.10 port 50122 ssh2
Mar  4 08:05:12 bastion sshd[2184]: Failed password for alice from 192.0.2.10 port 50122 ssh2
Mar  4 08:05:15 bastion sshd[2184]: Accepted password for alice from 192.0.2.10 port 50122 ssh2
"""

NESTED_DDL = """
CREATE TABLE shipments (
    ts TIMESTAMP(3),
    parcel ROW<name STRING, size INT>,
    tags MAP<STRING, INT>,
    stops ARRAY<STRING>,
    WATERMARK FOR ts AS ts - INTERVAL '1' SECOND
) WITH ('connector' = 'filesystem', 'path' = 'shipments.jsonl', 'format' = 'json')
"""


def auth_session(tmp_path: Path) -> Session:
    log = tmp_path / "auth.log"
    log.write_text(AUTH_LOG, encoding="utf-8")
    session = Session(base_dir=tmp_path, progress=False)
    session.sql(
        f"CREATE TABLE auth WITH ('connector' = 'syslog-auth', 'path' = '{log}', "
        "'syslog.year' = '2024')"
    )
    return session


def write_syn_capture(path: Path) -> None:
    """Write three TCP SYN packets from 10.0.0.1 to ports 22, 23 and 80, one second apart."""
    with path.open("wb") as file:
        writer = dpkt.pcap.Writer(file)
        for offset, port in enumerate((22, 23, 80)):
            segment = dpkt.tcp.TCP(sport=40000, dport=port, flags=dpkt.tcp.TH_SYN, seq=1)
            packet = dpkt.ip.IP(
                src=socket.inet_aton("10.0.0.1"),
                dst=socket.inet_aton("10.0.0.2"),
                p=dpkt.ip.IP_PROTO_TCP,
                data=segment,
            )
            packet.len = len(bytes(packet))
            frame = dpkt.ethernet.Ethernet(
                src=b"\x02\x00\x00\x00\x00\x01",
                dst=b"\x02\x00\x00\x00\x00\x02",
                type=dpkt.ethernet.ETH_TYPE_IP,
                data=packet,
            )
            writer.writepkt(bytes(frame), ts=1_700_000_000 + offset)


def output_rows(session: Session, sql: str) -> int:
    result = session.sql(sql)
    assert isinstance(result, QueryResult)
    session.run([result])
    assert result.error is None
    return len(result.to_pandas())


def test_fire_syslog_auth_pattern(tmp_path: Path) -> None:
    session = auth_session(tmp_path)
    assert output_rows(session, FAILURES_THEN_SUCCESS) == 1

    # One made-up value per string column and no NULLs keep shrinking short.
    result = session.fuzz(
        FAILURES_THEN_SUCCESS,
        values={"outcome": ["failed", "accepted"]},
        max_rows=2,
        keys=1,
        nulls=False,
        max_examples=100,
    )

    assert result.engine_error is None
    assert result.found, result.summary()
    stream = result.stream["auth"]
    assert stream["outcome"].tolist() == ["failed", "accepted"]
    for value in stream["structured_data"]:
        assert value is None or isinstance(value, dict)
    assert result.runs[0].rejected == 0


def test_fire_pcap_syn_counts(tmp_path: Path) -> None:
    capture = tmp_path / "syns.pcap"
    write_syn_capture(capture)
    session = Session(base_dir=tmp_path, progress=False)
    session.sql(f"CREATE TABLE p WITH ('connector' = 'pcap', 'path' = '{capture}')")
    assert output_rows(session, SYN_COUNTS) == 1

    result = session.fuzz(SYN_COUNTS, max_rows=1, keys=1, nulls=False, max_examples=100)

    assert result.engine_error is None
    assert result.found, result.summary()
    stream = result.stream["p"]
    assert len(stream) == 1
    assert stream["syn"].tolist() == [True]
    assert stream["ack"].tolist() == [False]
    for column in ("fragment", "dns", "http"):
        for value in stream[column]:
            assert value is None or isinstance(value, dict)
    assert result.runs[0].rejected == 0


def test_true_property_on_nested_columns(tmp_path: Path) -> None:
    session = Session(base_dir=tmp_path, progress=False)
    session.sql(NESTED_DDL)
    seen: list[pd.DataFrame] = []

    def sizes_not_negative(output: pd.DataFrame) -> bool:
        seen.append(output)
        return bool((output["size"] >= 0).all())

    result = session.fuzz(
        "SELECT ts, parcel.size AS size, tags, stops FROM shipments "
        "WHERE parcel.size IS NOT NULL AND tags IS NOT NULL AND stops IS NOT NULL",
        holds=sizes_not_negative,
        max_rows=2,
        max_examples=30,
    )

    assert result.engine_error is None
    assert result.passed, result.summary()
    rows = pd.concat(seen, ignore_index=True)
    # The property is only tested if generated ROW, MAP and ARRAY values reach the rule.
    assert len(rows) > 0
    assert all(isinstance(value, dict) for value in rows["tags"])
    assert all(isinstance(value, list) for value in rows["stops"])


@pytest.fixture
def failing_reader(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make reading any generated stream of two or more rows raise, as an engine defect would."""
    chunks = DataFrameReader.chunks

    def chunks_or_fail(self: DataFrameReader) -> Iterator[pd.DataFrame]:
        for chunk in chunks(self):
            if len(chunk) >= 2:
                raise ValueError("the truth value of a Series is ambiguous")
            yield chunk

    monkeypatch.setattr(DataFrameReader, "chunks", chunks_or_fail)


@pytest.mark.usefixtures("failing_reader")
def test_engine_failure_is_not_counterexample(tmp_path: Path) -> None:
    session = auth_session(tmp_path)

    result = session.fuzz(
        "SELECT ts, app FROM auth", holds="ts IS NOT NULL", max_rows=2, keys=1, max_examples=50
    )

    assert result.engine_error is not None
    assert "ValueError: the truth value of a Series is ambiguous" in result.engine_error
    assert not result.found
    assert not result.passed
    assert result.summary().startswith("The engine failed on this stream of 2 rows")
    assert "property fails" not in str(result)
    assert len(result.stream["auth"]) == 2


@pytest.mark.usefixtures("failing_reader")
def test_engine_failure_stops_fire_search(tmp_path: Path) -> None:
    session = auth_session(tmp_path)

    result = session.fuzz(FAILURES_THEN_SUCCESS, max_rows=2, keys=1, max_examples=50)

    assert result.engine_error is not None
    assert not result.passed
    assert "widen" not in result.summary()
    assert "The engine failed" in result.summary()


def test_engine_failure_classes() -> None:
    operator_defect = QueryRuntimeError("KeyError: 'x'", query="q", operator="filter")
    operator_defect.__cause__ = KeyError("x")
    function_failure = QueryRuntimeError("DIVIDE failed: division by zero")
    function_failure.__cause__ = ZeroDivisionError("division by zero")
    located = function_failure.located("q", "project")
    located.__cause__ = function_failure

    assert is_engine_failure(SourceError("reading 'auth' failed: ValueError: bad"))
    assert is_engine_failure(operator_defect)
    assert not is_engine_failure(located)
    assert not is_engine_failure(QueryRuntimeError("invalid CAST"))
