"""The columns of the pcap connector: one row per packet, or one row per flow."""

from __future__ import annotations

from workbench.events.schema import Column, Schema
from workbench.events.types import (
    BIGINT,
    BOOLEAN,
    INT,
    STRING,
    DataType,
    array,
    row,
    timestamp,
)

TIMESTAMP_US = timestamp(6)

FRAGMENT = row([("id", BIGINT), ("offset", INT), ("more", BOOLEAN)])
ARP = row(
    [
        ("operation", STRING),
        ("sender_mac", STRING),
        ("sender_ip", STRING),
        ("target_mac", STRING),
        ("target_ip", STRING),
    ]
)
DNS_ANSWER = row([("name", STRING), ("type", STRING), ("ttl", BIGINT), ("data", STRING)])
DNS = row(
    [
        ("id", INT),
        ("response", BOOLEAN),
        ("opcode", INT),
        ("rcode", INT),
        ("rcode_name", STRING),
        ("qname", STRING),
        ("qtype", STRING),
        ("answers", array(DNS_ANSWER)),
    ]
)
HTTP = row(
    [
        ("method", STRING),
        ("uri", STRING),
        ("version", STRING),
        ("host", STRING),
        ("user_agent", STRING),
        ("status", INT),
        ("reason", STRING),
    ]
)
TLS = row([("version", STRING), ("sni", STRING)])
DHCP = row(
    [
        ("message_type", STRING),
        ("xid", BIGINT),
        ("client_mac", STRING),
        ("client_ip", STRING),
        ("requested_ip", STRING),
        ("hostname", STRING),
    ]
)
FTP = row(
    [
        ("command", STRING),
        ("argument", STRING),
        ("reply_code", INT),
        ("reply_text", STRING),
    ]
)

_PACKET_COLUMNS: list[tuple[str, DataType, str]] = [
    ("ts", TIMESTAMP_US, "capture time, UTC"),
    ("frame", BIGINT, "1-based number of the packet record in its file"),
    ("interface", INT, "interface number (pcapng: per section; pcap: 0)"),
    ("interface_name", STRING, "if_name of the pcapng interface"),
    ("length", INT, "length of the packet on the wire, in bytes"),
    ("captured_length", INT, "bytes of the packet in the file"),
    ("link", STRING, "link type, such as 'ethernet', 'linux_sll' or 'raw'"),
    ("src_mac", STRING, "source MAC address, 'aa:bb:cc:dd:ee:ff'"),
    ("dst_mac", STRING, "destination MAC address"),
    ("vlan", INT, "outer 802.1Q VLAN id; NULL when untagged"),
    ("inner_vlan", INT, "second VLAN id of a QinQ frame"),
    ("ethertype", INT, "EtherType of the network layer; NULL for 802.3 LLC frames"),
    ("ip_version", INT, "4 or 6"),
    ("src_ip", STRING, "source IP address"),
    ("dst_ip", STRING, "destination IP address"),
    ("ttl", INT, "IPv4 time to live or IPv6 hop limit"),
    ("ip_proto", INT, "IP protocol number of the transport layer"),
    ("proto", STRING, "'tcp', 'udp', 'icmp', 'icmpv6', 'arp', 'ipv4', 'ipv6', 'llc' or a number"),
    ("fragment", FRAGMENT, "IP fragment id, byte offset and more-fragments flag"),
    ("src_port", INT, "TCP or UDP source port"),
    ("dst_port", INT, "TCP or UDP destination port"),
    ("tcp_flags", STRING, "letters of the set TCP flags in the order FSRPAUEC ('SA': SYN+ACK)"),
    ("syn", BOOLEAN, "TCP SYN flag"),
    ("ack", BOOLEAN, "TCP ACK flag"),
    ("fin", BOOLEAN, "TCP FIN flag"),
    ("rst", BOOLEAN, "TCP RST flag"),
    ("psh", BOOLEAN, "TCP PSH flag"),
    ("urg", BOOLEAN, "TCP URG flag"),
    ("seq", BIGINT, "TCP sequence number"),
    ("ack_number", BIGINT, "TCP acknowledgment number"),
    ("window", INT, "TCP window, not scaled"),
    ("icmp_type", INT, "ICMP or ICMPv6 type"),
    ("icmp_code", INT, "ICMP or ICMPv6 code"),
    ("payload_length", INT, "transport payload bytes on the wire"),
    ("arp", ARP, "ARP operation and addresses"),
    ("dns", DNS, "DNS header, first question and answers (ports 53 and 5353)"),
    ("http", HTTP, "HTTP request or status line with Host and User-Agent"),
    ("tls", TLS, "TLS ClientHello version and server name"),
    ("dhcp", DHCP, "DHCP message type, transaction and client"),
    ("ftp", FTP, "FTP command or reply line (port 21)"),
    ("decode_error", STRING, "why a layer of the packet could not be decoded"),
]

PACKET_SCHEMA = Schema(
    tuple(Column(name, kind, comment) for name, kind, comment in _PACKET_COLUMNS)
)

_FLOW_COLUMNS: list[tuple[str, DataType, str]] = [
    ("ts", TIMESTAMP_US, "when the flow ended: FIN both ways, RST, idle timeout or capture end"),
    ("first_ts", TIMESTAMP_US, "time of the flow's first packet"),
    ("last_ts", TIMESTAMP_US, "time of the flow's last packet"),
    ("src_ip", STRING, "initiator's IP address (the SYN sender, else the first sender)"),
    ("src_port", INT, "initiator's port"),
    ("dst_ip", STRING, "responder's IP address"),
    ("dst_port", INT, "responder's port"),
    ("proto", STRING, "'tcp', 'udp', 'icmp', 'icmpv6' or the IP protocol number"),
    ("ip_proto", INT, "IP protocol number"),
    ("packets", BIGINT, "packets both ways"),
    ("bytes", BIGINT, "bytes on the wire both ways"),
    ("src_packets", BIGINT, "packets from the initiator"),
    ("dst_packets", BIGINT, "packets from the responder"),
    ("src_bytes", BIGINT, "bytes on the wire from the initiator"),
    ("dst_bytes", BIGINT, "bytes on the wire from the responder"),
    ("src_payload_bytes", BIGINT, "transport payload bytes from the initiator"),
    ("dst_payload_bytes", BIGINT, "transport payload bytes from the responder"),
    ("tcp_state", STRING, "Zeek's conn_state code (S0, SF, REJ, ...); NULL for non-TCP flows"),
    ("end_reason", STRING, "'fin', 'rst', 'timeout', 'capture_end' or 'new_syn'"),
]

FLOW_SCHEMA = Schema(tuple(Column(name, kind, comment) for name, kind, comment in _FLOW_COLUMNS))
