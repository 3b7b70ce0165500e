"""pcap tables in SQL: the reader's own columns, DESCRIBE, and windowed queries over real captures."""

from __future__ import annotations

import collections

import dpkt
import pandas as pd

from tests.sources.test_pcap_real import capture, dpkt_records, reference_layers
from workbench import Session
from workbench.results import QueryResult, TableResult
from workbench.sources.packets.schema import FLOW_SCHEMA, PACKET_SCHEMA
from workbench.sources.read import read_file


def session_with(name: str, table: str = "p", **options: str) -> Session:
    settings = "".join(f", '{key}' = '{value}'" for key, value in options.items())
    session = Session(progress=False)
    session.sql(
        f"CREATE TABLE {table} WITH ('connector' = 'pcap', 'path' = '{capture(name)}'{settings})"
    )
    return session


def test_describe_packet_table() -> None:
    session = session_with("synscan.pcap")
    described = session.sql("DESCRIBE p")
    assert isinstance(described, TableResult)
    frame = described.to_pandas()
    assert frame["name"].tolist() == PACKET_SCHEMA.names
    types = dict(zip(frame["name"], frame["type"], strict=True))
    assert types["ts"] == "TIMESTAMP(6)"
    assert types["frame"] == "BIGINT"
    assert types["fragment"] == "ROW<`id` BIGINT, `offset` INT, `more` BOOLEAN>"
    assert types["dns"].startswith("ROW<`id` INT, `response` BOOLEAN")
    assert (
        "`answers` ARRAY<ROW<`name` STRING, `type` STRING, `ttl` BIGINT, `data` STRING>>"
        in types["dns"]
    )
    assert frame["time_attribute"][0] == "ROWTIME"
    comments = dict(zip(frame["name"], frame["comment"], strict=True))
    assert comments["ts"] == "capture time, UTC"
    assert comments["vlan"] == "outer 802.1Q VLAN id; NULL when untagged"
    assert frame["watermark"][0] == "ts - INTERVAL '1' SECOND"


def test_describe_flow_table_with_own_watermark() -> None:
    session = session_with(
        "synscan.pcap", "f", **{"pcap.records": "flows", "watermark.delay": "0 s"}
    )
    frame = session.sql("DESCRIBE f").to_pandas()
    assert frame["name"].tolist() == FLOW_SCHEMA.names
    assert frame["watermark"][0] == "ts"


def test_windowed_syn_counts_match_dpkt() -> None:
    session = session_with("synscan.pcap")
    result = session.sql(
        "SELECT src_ip, window_start, COUNT(*) AS syns, COUNT(DISTINCT dst_port) AS ports "
        "FROM TABLE(TUMBLE(TABLE p, DESCRIPTOR(ts), INTERVAL '5' SECOND)) "
        "WHERE syn AND NOT ack GROUP BY src_ip, window_start, window_end"
    )
    assert isinstance(result, QueryResult)
    got = result.to_pandas().sort_values(["src_ip", "window_start"]).reset_index(drop=True)
    assert len(result.late_rows()) == 0
    counts: collections.Counter[tuple[str, pd.Timestamp]] = collections.Counter()
    ports: dict[tuple[str, pd.Timestamp], set[int]] = collections.defaultdict(set)
    for ts, frame in dpkt_records(capture("synscan.pcap")):
        fields = reference_layers(frame)
        flags = fields["segment"].flags
        if flags & dpkt.tcp.TH_SYN and not flags & dpkt.tcp.TH_ACK:
            window = pd.Timestamp(round(ts * 1e6), unit="us").floor("5s")
            counts[(fields["src_ip"], window)] += 1
            ports[(fields["src_ip"], window)].add(fields["dst_port"])
    keys = sorted(counts)
    assert list(zip(got["src_ip"], got["window_start"], strict=True)) == keys
    assert got["syns"].tolist() == [counts[key] for key in keys]
    assert got["ports"].tolist() == [len(ports[key]) for key in keys]
    assert sum(counts.values()) == 1994


def test_nested_fields_in_sql() -> None:
    session = session_with("dns-tunnel-iodine.pcap")
    result = session.sql(
        "SELECT dns.qname AS name, dns.qtype AS qtype FROM p WHERE dns IS NOT NULL AND NOT dns.response"
    )
    frame = result.to_pandas()
    assert len(frame) == 222
    assert frame["name"].nunique() == 222
    assert set(frame["qtype"]) == {"NULL"}


def test_flow_states_per_minute() -> None:
    session = session_with("synscan.pcap", "f", **{"pcap.records": "flows"})
    result = session.sql(
        "SELECT tcp_state, COUNT(*) AS flows "
        "FROM TABLE(TUMBLE(TABLE f, DESCRIPTOR(ts), INTERVAL '1' MINUTE)) "
        "GROUP BY tcp_state, window_start, window_end"
    )
    frame = result.to_pandas()
    flows = read_file(capture("synscan.pcap"), "pcap", {"pcap.records": "flows"}).rows
    expected = collections.Counter(flows["tcp_state"])
    assert dict(zip(frame["tcp_state"], frame["flows"], strict=True)) == dict(expected)
    assert frame["flows"].sum() == 1994
