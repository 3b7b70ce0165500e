-- SYN port scans in a packet capture: one source sending SYNs to many
-- distinct ports of one host within a minute.
--
-- By default the rules read datasets/portscan.pcap (written by
-- datasets/generate.py): 10.0.0.66 probes 200 ports of 10.0.0.20 in three
-- seconds, 8 ports answer SYN-ACK and 192 answer RST.
--
-- Run:            workbench run examples/port_scan.sql
-- On a capture:   workbench run examples/port_scan.sql --with packets.path=/data/capture.pcap

-- One row per packet. The pcap connector supplies the columns (DESCRIBE
-- packets lists them), and its watermark trails the capture time by one
-- second.
CREATE TABLE packets WITH (
    'connector' = 'pcap',
    'path' = '../datasets/portscan.pcap'
);

-- Connection attempts: a SYN without ACK.
CREATE VIEW probes AS
SELECT ts, src_ip AS scanner, dst_ip AS target, dst_port AS port
FROM packets
WHERE proto = 'tcp' AND syn AND NOT ack;

-- Alert: one source sent SYNs to 100 or more distinct ports of one host
-- within a minute. The one-minute windows slide by 10 seconds, so a scan
-- shorter than 50 seconds lies whole in at least one window, and appears
-- in each window that covers it (six for a three-second scan).
SELECT
    scanner,
    target,
    window_start,
    window_end,
    COUNT(DISTINCT port) AS ports,
    COUNT(*) AS syns
FROM TABLE(HOP(TABLE probes, DESCRIPTOR(ts), INTERVAL '10' SECOND, INTERVAL '1' MINUTE))
GROUP BY scanner, target, window_start, window_end
HAVING COUNT(DISTINCT port) >= 100;

-- The same scans, one row each, with what the target answered. Probes and
-- answers are keyed by (scanner, target): for an answer (ACK set) the
-- scanner is the destination. An open port answers SYN-ACK, a closed one
-- RST-ACK; the scanner's own RST (no ACK) is left out.
CREATE VIEW scan_packets AS
SELECT
    ts,
    CASE WHEN ack THEN dst_ip ELSE src_ip END AS scanner,
    CASE WHEN ack THEN src_ip ELSE dst_ip END AS target,
    CASE WHEN ack THEN src_port ELSE dst_port END AS port,
    syn AND NOT ack AS probe,
    syn AND ack AS open_port,
    rst AND ack AS closed_port
FROM packets
WHERE proto = 'tcp' AND (syn OR (rst AND ack));

-- A session window per (scanner, target) ends after 30 seconds without a
-- SYN or an answer between them, so each scan is one row: its first packet
-- (window_start), its last packet plus 30 seconds (window_end), and the
-- distinct ports probed, open and closed.
SELECT
    scanner,
    target,
    window_start,
    window_end,
    COUNT(DISTINCT port) FILTER (WHERE probe) AS ports,
    COUNT(DISTINCT port) FILTER (WHERE open_port) AS open_ports,
    COUNT(DISTINCT port) FILTER (WHERE closed_port) AS closed_ports
FROM TABLE(SESSION(TABLE scan_packets PARTITION BY scanner, target, DESCRIPTOR(ts), INTERVAL '30' SECOND))
GROUP BY scanner, target, window_start, window_end
HAVING COUNT(DISTINCT port) FILTER (WHERE probe) >= 100;
