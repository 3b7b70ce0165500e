"""The packet-capture section of the benchmark: the pcap reader against dpkt's bare reader.

``run.py`` runs it after pattern matching and writes its figures under
``packets`` in ``results.json``. Run alone (``.venv/bin/python
benchmarks/packets.py [--quick]``), it prints the same tables and writes no
file. The capture is generated once into ``benchmarks/data/``.
"""

from __future__ import annotations

import argparse
import gc
import random
import socket
import struct
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import dpkt
from machine import describe_source, load_average
from measurement import Measurement, measure
from report import format_table, load_averages, rate, ratio

from workbench.sources.registry import open_reader, reader_schema

HERE = Path(__file__).resolve().parent
DATA_DIR = HERE / "data"

#: Target: the reader's packets per second, decoding every packet to conformed
#: rows, over dpkt's bare record loop in the same process (medians of the runs).
TARGET_OVER_DPKT = 0.3

#: Share of each kind of packet in the capture.
PACKET_KINDS: dict[str, float] = {
    "tcp data (TLS application data, port 443)": 0.45,
    "tcp pure ACK": 0.15,
    "tcp SYN, SYN-ACK, FIN or RST": 0.05,
    "HTTP request (port 80)": 0.05,
    "HTTP response (port 80)": 0.05,
    "DNS query (UDP 53)": 0.075,
    "DNS response (UDP 53)": 0.075,
    "other UDP (NTP, QUIC-like)": 0.07,
    "IPv6 TCP data": 0.02,
    "ARP": 0.01,
}


@dataclass(frozen=True)
class PacketWorkload:
    """A generated Ethernet capture: ``packets`` records drawn from ``templates`` distinct frames."""

    packets: int = 1_000_000
    templates: int = 20_000
    seconds: float = 600.0
    seed: int = 7

    def path(self) -> Path:
        return DATA_DIR / f"packets-{self.packets}-{self.templates}-{self.seed}.pcap"

    def describe(self) -> dict[str, Any]:
        return {**asdict(self), "kinds": PACKET_KINDS}


def _mac(number: int) -> bytes:
    return bytes([0x02, 0x00]) + number.to_bytes(4, "big")


def _ethernet(source: int, destination: int, kind: int, payload: Any) -> bytes:
    frame = dpkt.ethernet.Ethernet(src=_mac(source), dst=_mac(destination), type=kind, data=payload)
    return bytes(frame)


def _ipv4(source: str, destination: str, payload: Any, protocol: int) -> dpkt.ip.IP:
    packet = dpkt.ip.IP(
        src=socket.inet_aton(source), dst=socket.inet_aton(destination), p=protocol, data=payload
    )
    packet.len += len(bytes(payload))
    return packet


def _dns_message(rng: random.Random, response: bool) -> bytes:
    name = f"{rng.choice(['www', 'api', 'cdn', 'mail'])}{rng.randrange(500)}.example{rng.randrange(40)}.com"
    message = dpkt.dns.DNS(id=rng.randrange(65536), qd=[dpkt.dns.DNS.Q(name=name, type=1)])
    if response:
        message.op = dpkt.dns.DNS_QR | dpkt.dns.DNS_RA
        message.an = [
            dpkt.dns.DNS.RR(
                name=name,
                type=1,
                ttl=rng.randrange(60, 3600),
                rdata=socket.inet_aton(f"198.51.100.{rng.randrange(1, 255)}"),
            )
            for _ in range(rng.randrange(1, 4))
        ]
    return bytes(message)


def _template(rng: random.Random, kind: str) -> bytes:
    """Return one Ethernet frame of ``kind`` between random hosts."""
    client = rng.randrange(1, 2000)
    server = rng.randrange(1, 60)
    client_ip = f"10.{client // 250}.{client % 250}.{rng.randrange(1, 250)}"
    server_ip = f"192.0.2.{server}"
    port = rng.randrange(32768, 61000)
    reverse = False

    def tcp(dport: int, flags: int, data: bytes = b"") -> dpkt.tcp.TCP:
        return dpkt.tcp.TCP(
            sport=port,
            dport=dport,
            seq=rng.randrange(2**32),
            ack=rng.randrange(2**32),
            flags=flags,
            win=rng.randrange(1024, 65535),
            data=data,
        )

    if kind.startswith("tcp data"):
        body = bytes([0x17, 3, 3]) + rng.randbytes(rng.randrange(60, 1400))
        segment, protocol = tcp(443, dpkt.tcp.TH_ACK | dpkt.tcp.TH_PUSH, body), 6
        reverse = rng.random() < 0.6
    elif kind == "tcp pure ACK":
        segment, protocol = tcp(443, dpkt.tcp.TH_ACK), 6
        reverse = rng.random() < 0.4
    elif kind.startswith("tcp SYN"):
        flags = rng.choice(
            [
                dpkt.tcp.TH_SYN,
                dpkt.tcp.TH_SYN | dpkt.tcp.TH_ACK,
                dpkt.tcp.TH_FIN | dpkt.tcp.TH_ACK,
                dpkt.tcp.TH_RST,
            ]
        )
        segment, protocol = tcp(rng.choice([80, 443, 22]), flags), 6
    elif kind.startswith("HTTP request"):
        path = f"/{rng.choice(['index.html', 'api/v1/items', 'static/app.js'])}?id={rng.randrange(10**6)}"
        request = (
            f"GET {path} HTTP/1.1\r\nHost: site{server}.example\r\n"
            f"User-Agent: bench/{rng.randrange(10)}.0\r\nAccept: */*\r\n\r\n"
        ).encode()
        segment, protocol = tcp(80, dpkt.tcp.TH_ACK | dpkt.tcp.TH_PUSH, request), 6
    elif kind.startswith("HTTP response"):
        body = rng.randbytes(rng.randrange(100, 1200))
        response = (
            f"HTTP/1.1 {rng.choice([200, 200, 200, 404, 302])} OK\r\nContent-Type: text/html\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode() + body
        segment, protocol = tcp(80, dpkt.tcp.TH_ACK | dpkt.tcp.TH_PUSH, response), 6
        reverse = True
    elif kind.startswith("DNS"):
        response = "response" in kind
        segment = dpkt.udp.UDP(sport=port, dport=53, data=_dns_message(rng, response))
        segment.ulen += len(segment.data)
        protocol, server_ip, reverse = 17, "192.0.2.53", response
    elif kind.startswith("other UDP"):
        dport = rng.choice([123, 443, 5000])
        segment = dpkt.udp.UDP(sport=port, dport=dport, data=rng.randbytes(rng.randrange(48, 1200)))
        segment.ulen += len(segment.data)
        protocol = 17
    elif kind.startswith("IPv6"):
        data = tcp(443, dpkt.tcp.TH_ACK, rng.randbytes(rng.randrange(60, 1200)))
        packet = dpkt.ip6.IP6(
            src=socket.inet_pton(socket.AF_INET6, f"2001:db8::{client:x}"),
            dst=socket.inet_pton(socket.AF_INET6, f"2001:db8:1::{server:x}"),
            nxt=6,
            hlim=64,
            data=data,
            plen=len(bytes(data)),
        )
        return _ethernet(client, server, dpkt.ethernet.ETH_TYPE_IP6, packet)
    else:
        arp = dpkt.arp.ARP(
            sha=_mac(client),
            spa=socket.inet_aton(client_ip),
            tha=b"\0" * 6,
            tpa=socket.inet_aton(server_ip),
            op=dpkt.arp.ARP_OP_REQUEST,
        )
        return _ethernet(client, 0xFFFFFFFF, dpkt.ethernet.ETH_TYPE_ARP, arp)
    if reverse:
        segment.sport, segment.dport = segment.dport, segment.sport
        client_ip, server_ip = server_ip, client_ip
    packet = _ipv4(client_ip, server_ip, segment, protocol)
    return _ethernet(client, server, dpkt.ethernet.ETH_TYPE_IP, packet)


def write_capture(workload: PacketWorkload, path: Path) -> None:
    """Write the workload's capture as a little-endian microsecond pcap file."""
    rng = random.Random(workload.seed)
    kinds = list(PACKET_KINDS)
    weights = list(PACKET_KINDS.values())
    templates = [
        _template(rng, kind) for kind in rng.choices(kinds, weights=weights, k=workload.templates)
    ]
    record = struct.Struct("<IIII")
    start_us = 1_700_000_000 * 1_000_000
    step_us = workload.seconds * 1e6 / workload.packets
    partial_path = path.with_suffix(".partial")
    path.parent.mkdir(parents=True, exist_ok=True)
    with partial_path.open("wb") as output:
        output.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        chosen = rng.choices(range(len(templates)), k=workload.packets)
        parts: list[bytes] = []
        for number, index in enumerate(chosen):
            frame = templates[index]
            when = start_us + int(number * step_us)
            parts.append(record.pack(when // 1_000_000, when % 1_000_000, len(frame), len(frame)))
            parts.append(frame)
            if len(parts) >= 200_000:
                output.write(b"".join(parts))
                parts.clear()
        output.write(b"".join(parts))
    partial_path.replace(path)


def ensure_capture(workload: PacketWorkload) -> Path:
    path = workload.path()
    if not path.exists():
        write_capture(workload, path)
    return path


def dpkt_bare(path: Path) -> int:
    """Count the records with dpkt's reader, as in ``for ts, buf in dpkt.pcap.Reader(f): pass``."""
    count = 0
    with path.open("rb") as file:
        for _ts, _buf in dpkt.pcap.Reader(file):
            count += 1
    return count


def reader_rows(path: Path, records: str = "packets") -> int:
    """Read every packet into conformed rows with the pcap connector; return the row count."""
    options = {"connector": "pcap", "path": str(path), "pcap.records": records}
    own = reader_schema(options)
    assert own is not None
    reader = open_reader("packets", options, own.schema)
    return sum(len(chunk) for chunk in reader.chunks())


@dataclass(frozen=True)
class PacketConfig:
    workload: PacketWorkload
    repeats: int = 3

    @classmethod
    def full(cls) -> PacketConfig:
        return cls(workload=PacketWorkload())

    @classmethod
    def quick(cls) -> PacketConfig:
        return cls(workload=PacketWorkload(packets=100_000, seconds=60.0))


def _check_count(expected: int, label: str) -> Callable[[int], None]:
    def check(count: int) -> None:
        if count != expected:
            message = f"{label} returned {count:,} rows for {expected:,} packets"
            raise AssertionError(message)

    return check


def measure_interleaved(
    steps: dict[str, tuple[str, Callable[[], int]]], packets: int, repeats: int
) -> dict[str, Measurement]:
    """Time each step once per round, the steps in turn, so load from other processes hits all alike.

    Every run must return ``packets`` rows.
    """
    runs = {key: Measurement(name, packets) for key, (name, _) in steps.items()}
    for _ in range(repeats):
        for key, (name, step) in steps.items():
            gc.collect()
            started = time.perf_counter()
            count = step()
            runs[key].seconds.append(time.perf_counter() - started)
            _check_count(packets, name)(count)
    return runs


def run_packet_benchmark(config: PacketConfig) -> dict[str, Any]:
    """Measure dpkt's bare reader and the pcap reader on the generated capture; return the figures."""
    workload = config.workload
    started = time.perf_counter()
    load_before = load_average()
    print(f"packets: generating a {workload.packets:,}-packet capture if missing", flush=True)
    path = ensure_capture(workload)
    print(f"  {path.name}: {path.stat().st_size / 1e6:.1f} MB", flush=True)

    packets = workload.packets
    steps: dict[str, tuple[str, Callable[[], int]]] = {
        "dpkt": ("dpkt.pcap.Reader, records only", lambda: dpkt_bare(path)),
        "reader": ("pcap reader, packets to conformed rows", lambda: reader_rows(path)),
    }
    runs = measure_interleaved(steps, packets, config.repeats)
    for run in runs.values():
        print(f"  {run.name}: {rate(run.median_rate)} packets/s", flush=True)
    round_ratios = [
        dpkt_seconds / reader_seconds
        for dpkt_seconds, reader_seconds in zip(
            runs["dpkt"].seconds, runs["reader"].seconds, strict=True
        )
    ]

    flows, flow_count = measure(
        "pcap reader, flows",
        packets,
        config.repeats,
        lambda: reader_rows(path, "flows"),
        lambda count: None,
    )
    runs["flows"] = flows
    print(f"  {flows.name}: {rate(flows.median_rate)} packets/s, {flow_count:,} flows", flush=True)

    measured = runs["reader"].median_rate / runs["dpkt"].median_rate
    return {
        "load_average_before": load_before,
        "load_average_after": load_average(),
        "source": describe_source(),
        "workload": {**workload.describe(), "bytes": path.stat().st_size},
        "dpkt": dpkt.__version__,
        "flows": flow_count,
        "throughput": [run.to_json() for run in runs.values()],
        "ratio_reader_over_dpkt": measured,
        "ratio_per_round": round_ratios,
        "target": {
            "target": f"pcap reader ≥ {TARGET_OVER_DPKT}× dpkt's bare reader",
            "measured": measured,
            "unit": "×",
            "met": measured >= TARGET_OVER_DPKT,
        },
        "duration_seconds": time.perf_counter() - started,
    }


def print_packet_report(section: dict[str, Any]) -> None:
    workload = section["workload"]
    print("\nPacket captures: the pcap reader against dpkt's bare reader")
    print(
        f"capture: {workload['packets']:,} Ethernet packets ({workload['bytes'] / 1e6:.1f} MB) "
        f"drawn from {workload['templates']:,} distinct frames over {workload['seconds']:g} s"
    )

    dpkt_rate = next(
        entry["median_rows_per_second"]
        for entry in section["throughput"]
        if entry["name"].startswith("dpkt")
    )
    rows = [
        [
            entry["name"],
            entry["events"],
            f"{entry['best_seconds']:.3f}",
            f"{entry['median_seconds']:.3f}",
            rate(entry["best_rows_per_second"]),
            rate(entry["median_rows_per_second"]),
            ratio(entry["median_rows_per_second"] / dpkt_rate),
        ]
        for entry in section["throughput"]
    ]
    headers = ["implementation", "packets", "best s", "median s", "best", "median", "÷ dpkt"]
    print(format_table(headers, rows))

    target = section["target"]
    rounds = ", ".join(f"{value:.2f}×" for value in section["ratio_per_round"])
    print(
        f"target {target['target']}: {target['measured']:.2f}× "
        f"({'met' if target['met'] else 'MISSED'}); per round {rounds}; {section['flows']:,} flows"
    )
    before, after = section["load_average_before"], section["load_average_after"]
    print(f"load average before {load_averages(before)}, after {load_averages(after)}")
    print(f"packets took {section['duration_seconds']:.0f} s")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="use a 100,000-packet capture, to check the script"
    )
    args = parser.parse_args(argv)
    config = PacketConfig.quick() if args.quick else PacketConfig.full()
    print_packet_report(run_packet_benchmark(config))


if __name__ == "__main__":
    main()
