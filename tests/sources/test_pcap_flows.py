"""Flows from captures: Zeek's connection states on generated sessions, and the real captures.

The reader's flow mode ('pcap.records' = 'flows') and ``packet_flows`` on a
packets frame must agree; the facts of the real captures are computed here
with dpkt.
"""

from __future__ import annotations

import collections
from pathlib import Path

import dpkt
import pandas as pd
import pytest

from tests.sources.test_pcap_reader import (
    BASE_US,
    ethernet,
    ipv4,
    tcp,
    udp,
    write_pcap,
    write_pcap_raw,
)
from tests.sources.test_pcap_real import CAPTURES, capture, dpkt_records, reference_layers
from workbench.sources.flows import packet_flows
from workbench.sources.packets.schema import FLOW_SCHEMA
from workbench.sources.read import read_file

SYN = dpkt.tcp.TH_SYN
ACK = dpkt.tcp.TH_ACK
FIN = dpkt.tcp.TH_FIN
RST = dpkt.tcp.TH_RST
PSH = dpkt.tcp.TH_PUSH
CLIENT = ("10.0.0.1", 40000)
SERVER = ("10.0.0.2", 80)


class Session:
    """Build the frames of one TCP conversation with consistent sequence numbers."""

    def __init__(self, client: tuple[str, int] = CLIENT, server: tuple[str, int] = SERVER) -> None:
        self.ends = {"c": client, "s": server}
        self.next_seq = {"c": 1000, "s": 5000}
        self.frames: list[bytes] = []

    def send(self, side: str, flags: int, data: bytes = b"") -> Session:
        other = "s" if side == "c" else "c"
        (src, sport), (dst, dport) = self.ends[side], self.ends[other]
        segment = tcp(
            sport=sport,
            dport=dport,
            flags=flags,
            data=data,
            seq=self.next_seq[side],
            ack=self.next_seq[other] if flags & ACK else 0,
        )
        self.frames.append(ethernet(ipv4(segment, src=src, dst=dst)))
        # SYN and FIN each take one sequence number.
        self.next_seq[side] += len(data)
        if flags & SYN:
            self.next_seq[side] += 1
        if flags & FIN:
            self.next_seq[side] += 1
        return self

    def handshake(self) -> Session:
        return self.send("c", SYN).send("s", SYN | ACK).send("c", ACK)


def flows(
    tmp_path: Path, frames: list[bytes], name: str = "flows.pcap", **options: str
) -> pd.DataFrame:
    path = write_pcap(tmp_path / name, frames)
    return read_file(path, "pcap", {"pcap.records": "flows", **options}).rows


def one_flow(tmp_path: Path, session: Session) -> pd.Series:
    rows = flows(tmp_path, session.frames)
    assert len(rows) == 1
    return rows.iloc[0]


def test_normal_close_is_sf(tmp_path: Path) -> None:
    session = Session().handshake().send("c", ACK | PSH, b"hello").send("s", ACK | PSH, b"world!")
    session.send("c", FIN | ACK).send("s", FIN | ACK).send("c", ACK)
    row = one_flow(tmp_path, session)
    assert (row["src_ip"], row["src_port"], row["dst_ip"], row["dst_port"]) == (*CLIENT, *SERVER)
    assert (row["proto"], row["ip_proto"]) == ("tcp", 6)
    assert (row["tcp_state"], row["end_reason"]) == ("SF", "fin")
    assert (row["packets"], row["src_packets"], row["dst_packets"]) == (8, 5, 3)
    assert (row["src_payload_bytes"], row["dst_payload_bytes"]) == (5, 6)
    sizes = [len(frame) for frame in session.frames]
    assert row["bytes"] == sum(sizes)
    assert row["src_bytes"] == sum(sizes[index] for index in (0, 2, 3, 5, 7))
    assert row["first_ts"] == pd.Timestamp(BASE_US, unit="us")
    assert row["last_ts"] == row["ts"] == pd.Timestamp(BASE_US + 7_000, unit="us")


def test_retransmitted_fin_stays_in_the_flow(tmp_path: Path) -> None:
    session = Session().handshake().send("s", FIN | ACK)
    session.send("c", FIN | ACK)
    session.next_seq["c"] -= 1
    session.send("c", ACK)  # acknowledges nothing new: the server's FIN is not acknowledged yet
    session.next_seq["c"] += 1
    session.next_seq["s"] -= 1
    session.send("s", FIN | ACK)
    session.send("c", ACK)
    row = one_flow(tmp_path, session)
    assert (row["tcp_state"], row["end_reason"], row["packets"]) == ("SF", "fin", 8)


@pytest.mark.parametrize(
    ("steps", "state", "reason"),
    [
        ([("c", SYN), ("s", RST | ACK)], "REJ", "rst"),
        ([("c", SYN), ("c", SYN)], "S0", "capture_end"),
        ([("c", SYN), ("s", SYN | ACK), ("c", ACK), ("c", RST)], "RSTO", "rst"),
        ([("c", SYN), ("s", SYN | ACK), ("c", ACK), ("s", RST)], "RSTR", "rst"),
        ([("c", SYN), ("c", RST)], "RSTOS0", "rst"),
        ([("c", SYN), ("c", FIN)], "SH", "capture_end"),
        ([("c", SYN), ("s", SYN | ACK), ("c", ACK)], "S1", "capture_end"),
        ([("c", SYN), ("s", SYN | ACK), ("c", ACK), ("c", FIN | ACK)], "S2", "capture_end"),
        ([("c", SYN), ("s", SYN | ACK), ("c", ACK), ("s", FIN | ACK)], "S3", "capture_end"),
        ([("s", SYN | ACK), ("s", RST)], "RSTRH", "rst"),
        ([("s", SYN | ACK), ("s", FIN)], "SHR", "capture_end"),
        ([("c", ACK | PSH), ("s", ACK)], "OTH", "capture_end"),
    ],
)
def test_zeek_connection_states(
    tmp_path: Path, steps: list[tuple[str, int]], state: str, reason: str
) -> None:
    session = Session()
    for side, flags in steps:
        session.send(side, flags, b"x" if flags & PSH else b"")
    row = one_flow(tmp_path, session)
    assert (row["tcp_state"], row["end_reason"]) == (state, reason)
    assert (row["src_ip"], row["src_port"]) == CLIENT


def test_midstream_initiator_is_first_sender(tmp_path: Path) -> None:
    session = Session().send("s", ACK | PSH, b"data").send("c", ACK)
    row = one_flow(tmp_path, session)
    assert (row["src_ip"], row["src_port"]) == SERVER
    assert row["tcp_state"] == "OTH"


def test_new_syn_after_close_starts_a_flow(tmp_path: Path) -> None:
    session = Session().handshake().send("c", FIN | ACK).send("s", FIN | ACK)
    session.send("c", SYN)
    rows = flows(tmp_path, session.frames)
    assert rows["end_reason"].tolist() == ["new_syn", "capture_end"]
    assert rows["tcp_state"].tolist() == ["SF", "S0"]
    assert rows["packets"].tolist() == [5, 1]


def test_udp_flow_and_idle_timeout(tmp_path: Path) -> None:
    query = ethernet(ipv4(udp(5353, 53, b"q")))
    answer = ethernet(ipv4(udp(53, 5353, b"a"), src="10.0.0.2", dst="10.0.0.1"))
    seconds = 1_700_000_000
    records = [(seconds, 0, query), (seconds + 10, 0, answer), (seconds + 100, 0, query)]
    path = write_pcap_raw(tmp_path / "udp.pcap", records)
    rows = read_file(path, "pcap", {"pcap.records": "flows", "pcap.flow-timeout": "1 min"}).rows
    assert rows["packets"].tolist() == [2, 1]
    assert rows["end_reason"].tolist() == ["timeout", "capture_end"]
    assert rows["tcp_state"].isna().all()
    assert rows["proto"].tolist() == ["udp", "udp"]
    assert rows["ts"].tolist() == [
        pd.Timestamp(seconds + 70, unit="s"),
        pd.Timestamp(seconds + 100, unit="s"),
    ]
    longer = read_file(path, "pcap", {"pcap.records": "flows", "pcap.flow-timeout": "2 min"}).rows
    assert longer["packets"].tolist() == [3]


def test_non_ip_frames_have_no_flow(tmp_path: Path) -> None:
    arp = ethernet(dpkt.arp.ARP(op=dpkt.arp.ARP_OP_REQUEST), dpkt.ethernet.ETH_TYPE_ARP)
    rows = flows(tmp_path, [arp, arp])
    assert len(rows) == 0
    assert list(rows.columns) == FLOW_SCHEMA.names


# Real captures ----------------------------------------------------------------------


@pytest.mark.parametrize("name", CAPTURES)
def test_reader_flows_equal_packet_flows(name: str) -> None:
    path = capture(name)
    from_reader = read_file(path, "pcap", {"pcap.records": "flows"}).rows
    from_packets = packet_flows(read_file(path, "pcap").rows)
    pd.testing.assert_frame_equal(from_reader, from_packets)
    assert from_reader["packets"].sum() == read_file(path, "pcap").rows["ip_version"].notna().sum()
    ends = from_reader["ts"].astype("int64")
    assert (ends.diff().dropna() >= 0).all()


def test_synscan_flows() -> None:
    path = capture("synscan.pcap")
    tuples: dict[tuple[object, ...], set[int]] = collections.defaultdict(set)
    for _, frame in dpkt_records(path):
        fields = reference_layers(frame)
        ends = sorted(
            [(fields["src_ip"], fields["src_port"]), (fields["dst_ip"], fields["dst_port"])]
        )
        tuples[tuple(ends)].add(fields["segment"].flags)
    expected = collections.Counter()
    for flags in tuples.values():
        if RST | ACK in flags:
            expected["REJ"] += 1
        elif SYN | ACK in flags:
            expected["S1"] += 1
        else:
            expected["S0"] += 1
    rows = read_file(path, "pcap", {"pcap.records": "flows"}).rows
    assert len(rows) == len(tuples)
    assert dict(collections.Counter(rows["tcp_state"])) == dict(expected)
    assert set(rows["src_ip"]) == {"172.16.0.8"}
    assert rows["dst_port"].nunique() == 1000


@pytest.mark.parametrize(
    ("name", "port", "sessions"), [("sshguess.pcap", 22, 11), ("bruteforce.pcap", 21, 30)]
)
def test_closed_sessions_are_sf(name: str, port: int, sessions: int) -> None:
    path = capture(name)
    starts = set()
    for _, frame in dpkt_records(path):
        fields = reference_layers(frame)
        segment = fields["segment"]
        if fields["dst_port"] == port and segment.flags & SYN and not segment.flags & ACK:
            starts.add(fields["src_port"])
    rows = read_file(path, "pcap", {"pcap.records": "flows"}).rows
    assert len(starts) == sessions
    assert sorted(rows["src_port"]) == sorted(starts)
    assert set(rows["dst_port"]) == {port}
    assert set(rows["tcp_state"]) == {"SF"}
    assert set(rows["end_reason"]) == {"fin"}


def test_declared_flow_columns_are_converted(tmp_path: Path) -> None:
    from workbench.events import types as t
    from workbench.events.schema import Schema

    session = Session().handshake().send("c", RST)
    path = write_pcap(tmp_path / "rst.pcap", session.frames)
    schema = Schema.of([("packets", t.INT), ("tcp_state", t.STRING), ("ts", t.timestamp(3))])
    contents = read_file(path, "pcap", {"pcap.records": "flows"}, schema=schema)
    rows = contents.rows
    assert list(rows.columns) == ["packets", "tcp_state", "ts"]
    assert str(rows["packets"].dtype) == "Int32"
    assert rows["packets"].tolist() == [4]
    assert rows["tcp_state"].tolist() == ["RSTO"]
    assert contents.counters.rows_rejected == 0
