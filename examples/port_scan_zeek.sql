-- SYN port scans in a Zeek conn.log: one originator reaching many distinct
-- ports of one responder within a minute. Zeek has already turned packets
-- into connections, so each probe is one row.
--
-- By default the rules read datasets/conn.log (written by
-- datasets/generate.py): the scan of datasets/portscan.pcap, 200 probes of
-- which 192 were rejected (REJ) and 8 answered then reset (RSTO).
--
-- Run:            workbench run examples/port_scan_zeek.sql
-- On a log:       workbench run examples/port_scan_zeek.sql --with conn.path=/opt/zeek/logs/current/conn.log

-- The zeek connector reads Zeek's TSV and JSON logs. Dotted field names
-- become nested rows (id.orig_h is column id, field orig_h) and '-' reads as
-- NULL. Without a column list, the table takes every column from the log's
-- #fields and #types lines. Zeek writes a connection when it ends but stamps
-- it with its start, so rows are out of time order by up to the longest
-- connection. The connector's default watermark trails by five minutes.
CREATE TABLE conn WITH (
    'connector' = 'zeek',
    'path' = '../datasets/conn.log'
);

CREATE VIEW attempts AS
SELECT
    ts,
    id.orig_h AS scanner,
    id.resp_h AS target,
    id.resp_p AS port,
    conn_state
FROM conn
WHERE proto = 'tcp';

-- Alert: 100 or more distinct ports of one responder within a minute, in
-- windows that slide by 10 seconds. REJ is a SYN answered by RST, S0 a SYN
-- never answered; both are typical of closed or filtered ports.
SELECT
    scanner,
    target,
    window_start,
    window_end,
    COUNT(DISTINCT port) AS ports,
    COUNT(*) FILTER (WHERE conn_state = 'REJ') AS rejected,
    COUNT(*) FILTER (WHERE conn_state = 'S0') AS unanswered
FROM TABLE(HOP(TABLE attempts, DESCRIPTOR(ts), INTERVAL '10' SECOND, INTERVAL '1' MINUTE))
GROUP BY scanner, target, window_start, window_end
HAVING COUNT(DISTINCT port) >= 100;
