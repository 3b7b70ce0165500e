"""Bidirectional flows from packets: five-tuple, counts, and Zeek's TCP connection state.

A flow is the packets between two (address, port) endpoints with one IP
protocol. The initiator (``src``) is the sender of the first SYN, the
receiver of a SYN-ACK seen first (as Zeek flips such connections), or else
the sender of the first packet. A flow ends:

- at a TCP RST (the RST is the flow's last packet),
- when both sides' FINs are acknowledged (the packet carrying the second
  acknowledgment is the flow's last), so retransmitted FINs and their ACKs
  stay in the flow,
- when the initiator sends a new SYN after its side has closed or reset
  (the SYN starts the next flow),
- after ``timeout`` without packets: ``ts`` is then the last packet's time
  plus the timeout,
- at the end of the capture: ``ts`` is then the time of the capture's last
  packet.

Flows come out in the order they end, so ``ts`` (the end) rises except
where the capture itself is out of time order. ``tcp_state`` is the
conn_state code Zeek computes from both endpoints' TCP states (Zeek's
``base/protocols/conn/main.zeek``), with the endpoint transitions of Zeek's
TCP analyzer reduced to the flags seen: no sequence-number checks, and
payload bytes stand in for Zeek's sequence-space sizes.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from workbench.events.time import parse_duration
from workbench.sources.packets.schema import FLOW_SCHEMA

_FIN = 0x01
_SYN = 0x02
_RST = 0x04
_ACK = 0x10
_TCP = 6
_UDP = 17
_PROTOCOL_NAMES = {6: "tcp", 17: "udp", 1: "icmp", 58: "icmpv6"}
_SEQ_MASK = 0xFFFFFFFF

# Endpoint states of Zeek's TCP analyzer (TCP_Endpoint.h).
INACTIVE = 0
SYN_SENT = 1
SYN_ACK_SENT = 2
PARTIAL = 3
ESTABLISHED = 4
CLOSED = 5
RESET = 6

_STRING_DTYPE = pd.StringDtype("pyarrow")


@dataclass
class _Endpoint:
    state: int = INACTIVE
    previous: int = INACTIVE
    packets: int = 0
    bytes: int = 0
    payload: int = 0
    #: Sequence number just past this side's last FIN, and whether the peer acknowledged it.
    fin_end: int | None = None
    fin_acked: bool = False

    def set_state(self, state: int) -> None:
        self.previous = self.state
        self.state = state


@dataclass
class _Flow:
    key: tuple[Any, ...]
    src_ip: str
    src_port: int
    dst_ip: str
    dst_port: int
    ip_proto: int
    first_ns: int
    last_ns: int
    number: int
    orig: _Endpoint = field(default_factory=_Endpoint)
    resp: _Endpoint = field(default_factory=_Endpoint)
    #: Zeek's RSTOS0 test: the history starts with the initiator's SYN and it
    #: sent no SYN-ACK, pure ACK, FIN or multi-flag packet before its RST.
    syn_first: bool = False
    quiet_before_rst: bool = True


def _update_tcp(flow: _Flow, from_orig: bool, flags: int, payload: int) -> None:
    """Move the endpoints' states as Zeek's TCP analyzer does for a packet's flags."""
    endpoint, peer = (flow.orig, flow.resp) if from_orig else (flow.resp, flow.orig)
    syn, ack, fin, rst = flags & _SYN, flags & _ACK, flags & _FIN, flags & _RST
    if from_orig and flow.quiet_before_rst and flow.orig.state != RESET:
        multi = (bool(syn) + bool(fin) + bool(rst)) > 1
        pure_ack = ack and not (syn or fin or rst) and payload == 0
        if multi or fin or (syn and ack) or pure_ack:
            flow.quiet_before_rst = False
    state = endpoint.state
    if state == INACTIVE:
        if syn:
            if from_orig:
                endpoint.set_state(SYN_ACK_SENT if ack else SYN_SENT)
            else:
                if peer.state == SYN_SENT:
                    peer.set_state(ESTABLISHED)
                endpoint.set_state(ESTABLISHED)
        if fin:
            endpoint.set_state(CLOSED)
        if rst:
            endpoint.set_state(RESET)
        if endpoint.state == INACTIVE:
            if not from_orig and payload == 0 and flow.orig.state == SYN_SENT:
                pass
            elif ack and peer.state == ESTABLISHED:
                endpoint.set_state(ESTABLISHED)
            else:
                endpoint.set_state(PARTIAL)
    elif state in (SYN_SENT, SYN_ACK_SENT):
        if fin:
            endpoint.set_state(CLOSED)
        if rst:
            endpoint.set_state(RESET)
    elif state in (ESTABLISHED, PARTIAL):
        if syn and state == PARTIAL and peer.state == INACTIVE and not ack:
            endpoint.set_state(SYN_SENT)
        if fin and not rst:
            endpoint.set_state(CLOSED)
            if peer.state == RESET and peer.previous == CLOSED:
                peer.set_state(CLOSED)
        if rst:
            endpoint.set_state(RESET)
    elif state == CLOSED and rst and peer.state != CLOSED:
        endpoint.set_state(RESET)


def seq_at_or_after(number: int, reference: int) -> bool:
    """Return whether a 32-bit sequence number is ``reference`` or later (RFC 1982 arithmetic)."""
    return ((number - reference) & _SEQ_MASK) < 0x80000000


def tcp_state(flow: _Flow) -> str:
    """Return Zeek's conn_state code for a TCP flow from its endpoint states."""
    orig, resp = flow.orig.state, flow.resp.state
    orig_inactive = orig in (INACTIVE, PARTIAL)
    resp_inactive = resp in (INACTIVE, PARTIAL)
    if resp == RESET:
        if orig in (SYN_SENT, SYN_ACK_SENT) or (
            orig == RESET and flow.orig.payload == 0 and flow.resp.payload == 0
        ):
            return "REJ"
        return "RSTRH" if orig_inactive else "RSTR"
    if orig == RESET:
        if resp_inactive:
            return "RSTOS0" if flow.syn_first and flow.quiet_before_rst else "OTH"
        return "RSTO"
    if resp == CLOSED and orig == CLOSED:
        return "SF"
    if orig == CLOSED:
        return "SH" if resp_inactive else "S2"
    if resp == CLOSED:
        return "SHR" if orig_inactive else "S3"
    if orig == SYN_SENT and resp == INACTIVE:
        return "S0"
    if orig == ESTABLISHED and resp == ESTABLISHED:
        return "S1"
    return "OTH"


class FlowTracker:
    """Group packets into flows as they arrive and return the flows that end.

    Feed packet frames in capture order with :meth:`add`; call
    :meth:`finish` at the end of the capture for the flows still open.
    """

    def __init__(self, timeout_ns: int) -> None:
        self.timeout_ns = timeout_ns
        self._flows: dict[tuple[Any, ...], _Flow] = {}
        self._deadlines: list[tuple[int, int, tuple[Any, ...]]] = []
        self._now = np.iinfo(np.int64).min
        self._numbers = 0
        self._ended: list[tuple[_Flow, int, str]] = []

    def add(self, packets: pd.DataFrame) -> pd.DataFrame:
        """Take the packets of a frame (in capture order); return the flows that ended."""
        columns = _packet_lists(packets)
        for packet in zip(*columns, strict=True):
            if packet[1] is None or packet[2] is None or packet[5] is None:
                continue
            ts = packet[0]
            if ts > self._now:
                self._now = ts
                self._expire(ts)
            self._packet(packet)
        return self._take()

    def finish(self) -> pd.DataFrame:
        """End every open flow at the time of the last packet; return all flows not yet returned."""
        for flow in sorted(self._flows.values(), key=lambda item: item.number):
            self._ended.append((flow, self._now, "capture_end"))
        self._flows.clear()
        self._deadlines.clear()
        return self._take()

    # Packets ------------------------------------------------------------------------

    def _packet(self, packet: tuple[Any, ...]) -> None:
        """Count one packet (a tuple of :func:`_packet_lists`) in its flow and update the flow's state."""
        ts, src, dst, sport, dport, proto, flags, length, payload, seq, ack = packet
        # NOTE: fragments after the first carry no ports, so they form a flow of
        # their own with ports -1 (NULL) instead of joining their datagram's flow.
        key = (
            (src, sport, dst, dport, proto)
            if (src, sport) <= (dst, dport)
            else (dst, dport, src, sport, proto)
        )
        flow = self._flows.get(key)
        tcp = proto == _TCP and flags >= 0
        from_orig = flow is not None and src == flow.src_ip and sport == flow.src_port
        new_syn = tcp and flags & _SYN and not flags & _ACK
        if flow is not None and new_syn and from_orig and flow.orig.state in (CLOSED, RESET):
            self._end(flow, ts, "new_syn")
            flow = None
        if flow is None:
            flow = self._start(
                key, ts, src=src, dst=dst, sport=sport, dport=dport, proto=proto, flags=flags
            )
            from_orig = src == flow.src_ip and sport == flow.src_port

        endpoint = flow.orig if from_orig else flow.resp
        endpoint.packets += 1
        endpoint.bytes += length
        endpoint.payload += payload
        flow.last_ns = max(flow.last_ns, ts)
        if not tcp:
            return

        _update_tcp(flow, from_orig, flags, payload)
        peer = flow.resp if from_orig else flow.orig
        if flags & _ACK and peer.fin_end is not None and seq_at_or_after(ack, peer.fin_end):
            peer.fin_acked = True
        if flags & _FIN:
            # A FIN takes one sequence number after the segment's data (and its SYN, if any).
            endpoint.fin_end = (seq + payload + 1 + (1 if flags & _SYN else 0)) & _SEQ_MASK
            endpoint.fin_acked = False

        if flags & _RST:
            self._end(flow, ts, "rst")
        elif flow.orig.fin_acked and flow.resp.fin_acked:
            self._end(flow, ts, "fin")

    def _start(
        self,
        key: tuple[Any, ...],
        ts: int,
        *,
        src: str,
        dst: str,
        sport: int,
        dport: int,
        proto: int,
        flags: int,
    ) -> _Flow:
        syn_ack = proto == _TCP and flags >= 0 and flags & _SYN and flags & _ACK
        if syn_ack:
            src, dst, sport, dport = dst, src, dport, sport
        self._numbers += 1
        flow = _Flow(key, src, sport, dst, dport, proto, ts, ts, self._numbers)
        flow.syn_first = bool(proto == _TCP and flags >= 0 and flags & _SYN and not flags & _ACK)
        self._flows[key] = flow
        heapq.heappush(self._deadlines, (ts + self.timeout_ns, flow.number, key))
        return flow

    def _end(self, flow: _Flow, ts: int, reason: str) -> None:
        self._ended.append((flow, ts, reason))
        del self._flows[flow.key]

    def _expire(self, now: int) -> None:
        """End the flows idle for longer than the timeout before ``now``."""
        deadlines = self._deadlines
        while deadlines and deadlines[0][0] < now:
            deadline, number, key = heapq.heappop(deadlines)
            flow = self._flows.get(key)
            if flow is None or flow.number != number:
                continue
            current = flow.last_ns + self.timeout_ns
            if current > deadline:
                # The flow saw packets since this deadline was set: wait for the new one.
                heapq.heappush(deadlines, (current, number, key))
                continue
            self._end(flow, deadline, "timeout")

    # Output -------------------------------------------------------------------------

    def _take(self) -> pd.DataFrame:
        ended, self._ended = self._ended, []
        return flow_frame(ended)


def flow_frame(ended: list[tuple[_Flow, int, str]]) -> pd.DataFrame:
    """Return ended flows as a frame with the columns and dtypes of the flow schema."""
    if not ended:
        return FLOW_SCHEMA.empty_frame()
    flows = [flow for flow, _, _ in ended]

    def times(values: list[int]) -> np.ndarray:
        return (np.array(values, dtype=np.int64) // 1000 * 1000).view("datetime64[ns]")

    def integers(values: list[int], dtype: str) -> pd.Series:
        array = np.array(values, dtype=np.int64)
        return pd.Series(pd.arrays.IntegerArray(array.astype(dtype.lower()), array < 0))

    def texts(values: list[str | None]) -> pd.Series:
        return pd.Series(values, dtype=_STRING_DTYPE)

    columns = {
        "ts": times([ts for _, ts, _ in ended]),
        "first_ts": times([flow.first_ns for flow in flows]),
        "last_ts": times([flow.last_ns for flow in flows]),
        "src_ip": texts([flow.src_ip for flow in flows]),
        "src_port": integers([flow.src_port for flow in flows], "Int32"),
        "dst_ip": texts([flow.dst_ip for flow in flows]),
        "dst_port": integers([flow.dst_port for flow in flows], "Int32"),
        "proto": texts(
            [_PROTOCOL_NAMES.get(flow.ip_proto) or str(flow.ip_proto) for flow in flows]
        ),
        "ip_proto": integers([flow.ip_proto for flow in flows], "Int32"),
        "packets": integers([flow.orig.packets + flow.resp.packets for flow in flows], "Int64"),
        "bytes": integers([flow.orig.bytes + flow.resp.bytes for flow in flows], "Int64"),
        "src_packets": integers([flow.orig.packets for flow in flows], "Int64"),
        "dst_packets": integers([flow.resp.packets for flow in flows], "Int64"),
        "src_bytes": integers([flow.orig.bytes for flow in flows], "Int64"),
        "dst_bytes": integers([flow.resp.bytes for flow in flows], "Int64"),
        "src_payload_bytes": integers([flow.orig.payload for flow in flows], "Int64"),
        "dst_payload_bytes": integers([flow.resp.payload for flow in flows], "Int64"),
        "tcp_state": texts([tcp_state(flow) if flow.ip_proto == _TCP else None for flow in flows]),
        "end_reason": texts([reason for _, _, reason in ended]),
    }
    return pd.DataFrame(columns, index=pd.RangeIndex(len(ended)))


def _packet_lists(packets: pd.DataFrame) -> list[list[Any]]:
    """Return per-packet lists: ns time, addresses, ports, protocol, TCP flags, bytes, payload bytes, seq, ack.

    Missing numbers are -1, and so are the TCP flags of a packet that is not
    TCP, except the payload bytes, which are 0 when missing.
    """
    ts = packets["ts"].to_numpy(dtype="datetime64[ns]").view(np.int64)
    flags = np.zeros(len(packets), dtype=np.int64)
    for name, bit in (("fin", _FIN), ("syn", _SYN), ("rst", _RST), ("ack", _ACK)):
        flags |= np.where(packets[name].fillna(False).to_numpy(dtype=bool), bit, 0)
    tcp = packets["syn"].notna().to_numpy()
    flags = np.where(tcp, flags, -1)

    def numbers(name: str) -> list[Any]:
        return packets[name].astype("Int64").fillna(-1).to_numpy(dtype=np.int64).tolist()

    def texts(name: str) -> list[Any]:
        column = packets[name]
        return column.astype(object).where(column.notna(), None).tolist()

    proto = packets["ip_proto"].astype("Int64")
    protocols = proto.astype(object).where(proto.notna(), None).tolist()
    return [
        ts.tolist(),
        texts("src_ip"),
        texts("dst_ip"),
        numbers("src_port"),
        numbers("dst_port"),
        protocols,
        flags.tolist(),
        numbers("length"),
        [max(value, 0) for value in numbers("payload_length")],
        numbers("seq"),
        numbers("ack_number"),
    ]


def packet_flows(packets: pd.DataFrame, timeout: str | pd.Timedelta = "1 min") -> pd.DataFrame:
    """Compute the flows of a packets frame, as the pcap reader's flow mode does.

    ``packets`` has the packet reader's columns ts, src_ip, dst_ip, src_port,
    dst_port, ip_proto, syn, ack, fin, rst, length, payload_length, seq and
    ack_number, in capture order (a filtered frame works: its flows see only its packets).
    ``timeout`` is the idle time after which a flow ends. Returns one row per
    flow in the order the flows end, with the columns of the flow schema.

    >>> from workbench import read_file  # doctest: +SKIP
    >>> packet_flows(read_file("capture.pcap", "pcap").rows)  # doctest: +SKIP
    """
    tracker = FlowTracker(parse_duration(timeout))
    parts = [tracker.add(packets), tracker.finish()]
    parts = [part for part in parts if len(part)]
    if not parts:
        return FLOW_SCHEMA.empty_frame()
    return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
